"""Function addresses from ``.gopclntab``, the table Go keeps even in stripped binaries.

Layouts (``runtime/symtab.go``): the header's magic is 0xfffffffa for Go 1.16–1.17,
0xfffffff0 for 1.18–1.19 and 0xfffffff1 for 1.20+. In PIE builds there is no section of
that name: the table sits inside ``.data.rel.ro`` and is found by its header.
"""

from __future__ import annotations

import struct

from httptap.capture.golang.elf import ElfFile

MAGIC_116 = 0xFFFFFFFA
MAGIC_118 = 0xFFFFFFF0
MAGIC_120 = 0xFFFFFFF1
_MAGICS = (MAGIC_116, MAGIC_118, MAGIC_120)


class PclntabError(Exception):
    """No usable pclntab."""


def _locate(elf: ElfFile) -> tuple[int, int, bytes]:
    """(virtual address, file offset, bytes from there) of the pclntab header."""
    sec = elf.sections.get(".gopclntab")
    if sec is not None:
        return sec.addr, sec.offset, elf.read_file(sec.offset, sec.size)
    for sec in elf.sections_named(".data.rel.ro"):
        data = elf.read_file(sec.offset, sec.size)
        for magic in _MAGICS:
            needle = struct.pack("<I", magic) + b"\0\0\x01\x08"
            at = data.find(needle)
            while at >= 0:
                if at % 8 == 0 and _plausible(data[at:]):
                    return sec.addr + at, sec.offset + at, data[at:]
                at = data.find(needle, at + 1)
    raise PclntabError("no .gopclntab (not a Go binary, or an unknown Go layout)")


def _plausible(data: bytes) -> bool:
    if len(data) < 72:
        return False
    nfunc = struct.unpack_from("<Q", data, 8)[0]
    return 0 < nfunc < 10_000_000


def functions(elf: ElfFile, wanted: set[str]) -> dict[str, tuple[int, int]]:
    """Functions named in ``wanted``: name -> (entry address, end address)."""
    va, _off, data = _locate(elf)
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in _MAGICS or data[7] != 8:
        raise PclntabError(f"unknown pclntab magic {magic:#x}")
    words = struct.unpack_from("<8Q", data, 8)
    nfunc = words[0]
    if magic == MAGIC_116:
        funcname_off, pcln_off = words[2], words[6]
        text_start = 0
        entry_size = 16
    else:
        funcname_off, pcln_off = words[3], words[7]
        text_start = elf.read_ptr(va + 8 + 2 * 8) if elf.pie else words[2]
        if text_start == 0:
            text = elf.sections.get(".text")
            text_start = text.addr if text else 0
        entry_size = 8
    functab = pcln_off
    keys = {w.encode(): w for w in wanted}
    out: dict[str, tuple[int, int]] = {}

    def entry(i: int) -> tuple[int, int]:
        at = functab + i * entry_size
        if magic == MAGIC_116:
            pc, funcoff = struct.unpack_from("<QQ", data, at)
            if elf.pie:
                pc = elf.read_ptr(va + at)
            return pc, funcoff
        pcoff, funcoff = struct.unpack_from("<II", data, at)
        return text_start + pcoff, funcoff

    try:
        for i in range(nfunc):
            pc, funcoff = entry(i)
            nameoff = struct.unpack_from("<i", data, pcln_off + funcoff + (8 if magic ==
                                                                           MAGIC_116 else 4))[0]
            start = funcname_off + nameoff
            end = data.find(b"\0", start)
            name = keys.get(data[start:end])
            if name is not None:
                out[name] = (pc, entry(i + 1)[0])  # the next entry (or the end marker)
                if len(out) == len(keys):
                    break
    except struct.error as exc:
        raise PclntabError(f"truncated pclntab: {exc}") from exc
    return out
