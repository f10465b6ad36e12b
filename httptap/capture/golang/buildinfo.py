"""The Go version an executable was built with, from its ``.go.buildinfo`` blob."""

from __future__ import annotations

import re

from httptap.capture.golang.elf import ElfFile

MAGIC = b"\xff Go buildinf:"
_FLAG_INLINE = 2  # Go 1.18+: version and module info follow the header as varint strings
_VERSION_RE = re.compile(r"go(\d+)\.(\d+)")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            break
    raise ValueError("bad varint")


def _blob(elf: ElfFile) -> bytes | None:
    data = elf.section_data(".go.buildinfo")
    if data is not None and data.startswith(MAGIC):
        return data
    for sec in elf.sections_named(".data"):  # no section of its own: look in the data
        chunk = elf.read_file(sec.offset, sec.size)
        at = chunk.find(MAGIC)
        if at >= 0 and at % 16 == 0:
            return chunk[at:at + 64 * 1024]
    return None


def go_version(elf: ElfFile) -> str | None:
    """``"go1.19.8"``, or None when the file carries no Go build information."""
    blob = _blob(elf)
    if blob is None or len(blob) < 32:
        return None
    ptr_size, flags = blob[14], blob[15]
    try:
        if flags & _FLAG_INLINE:
            n, pos = _varint(blob, 32)
            return blob[pos:pos + n].decode("utf-8", "replace")
        if ptr_size != 8:
            return None
        # Go 1.17 and older: a pointer to a Go string header (pointer, length)
        header_va = int.from_bytes(blob[16:24], "little")
        sec = elf.sections.get(".go.buildinfo")
        if sec is not None and elf.pie:
            header_va = elf.read_ptr(sec.addr + 16)
        str_ptr = elf.read_ptr(header_va)
        str_len = int.from_bytes(elf.read_va(header_va + 8, 8), "little")
        if not 0 < str_len < 256:
            return None
        return elf.read_va(str_ptr, str_len).decode("utf-8", "replace")
    except (ValueError, Exception):  # a damaged blob is "unknown", never a crash
        return None


def parse_version(version: str) -> tuple[int, int] | None:
    """``"go1.19.8"`` -> (1, 19); ``"devel go1.22-abc"`` -> (1, 22); None if unrecognised."""
    m = _VERSION_RE.search(version)
    return (int(m.group(1)), int(m.group(2))) if m else None
