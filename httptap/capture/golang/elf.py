"""A small read-only view of an ELF64 little-endian executable: sections, segments,
virtual-address reads with PIE relocations applied, and ``.symtab`` lookups."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_PHDR = struct.Struct("<IIQQQQQQ")
_SYM = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")
_PT_LOAD = 1
_SHT_SYMTAB = 2
_SHT_RELA = 4
_R_X86_64_RELATIVE = 8
ET_EXEC = 2
ET_DYN = 3
EM_X86_64 = 62
MACHINES = {3: "x86 (32-bit)", 40: "ARM", 62: "x86-64", 183: "arm64", 243: "RISC-V",
            21: "ppc64", 22: "s390x"}


class ElfError(Exception):
    """Not an ELF64 little-endian file we can read."""


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    type: int
    addr: int
    offset: int
    size: int
    link: int


class ElfFile:
    """An ELF64 file, memory-mapped; ``close`` (or a ``with`` block) releases it."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            try:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError as exc:
                raise ElfError("empty file") from exc
        self._relocs: dict[int, int] | None = None
        try:
            self._headers(self._map)
        except ElfError:
            self._map.close()
            raise
        except (struct.error, IndexError) as exc:
            self._map.close()
            raise ElfError(f"bad ELF headers: {exc}") from exc

    def _headers(self, data: mmap.mmap) -> None:
        if len(data) < 64 or data[:4] != b"\x7fELF":
            raise ElfError("not an ELF file")
        if data[4] != 2 or data[5] != 1:
            raise ElfError("not a 64-bit little-endian ELF file")
        (_ident, self.type, self.machine, _v, _entry, phoff, shoff, _flags, _eh,
         phentsize, phnum, shentsize, shnum, shstrndx) = _EHDR.unpack_from(data, 0)
        self.segments = [_PHDR.unpack_from(data, phoff + i * phentsize)
                         for i in range(phnum)] if phentsize == _PHDR.size else []
        raw = [_SHDR.unpack_from(data, shoff + i * shentsize)
               for i in range(shnum)] if shentsize == _SHDR.size and shoff else []
        names = b""
        if raw and shstrndx < len(raw):
            names = data[raw[shstrndx][4]: raw[shstrndx][4] + raw[shstrndx][5]]
        self.sections: dict[str, Section] = {}
        self._all: list[Section] = []
        for sh in raw:
            end = names.find(b"\0", sh[0])
            name = names[sh[0]:end].decode("ascii", "replace") if end >= 0 else ""
            sec = Section(name, sh[1], sh[3], sh[4], sh[5], sh[6])
            self._all.append(sec)
            self.sections.setdefault(name, sec)

    def __enter__(self) -> ElfFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._map.close()

    @property
    def machine_name(self) -> str:
        return MACHINES.get(self.machine, f"machine {self.machine}")

    @property
    def pie(self) -> bool:
        return self.type == ET_DYN

    def section_data(self, name: str) -> bytes | None:
        sec = self.sections.get(name)
        if sec is None or sec.type == 8:  # SHT_NOBITS
            return None
        return self._map[sec.offset: sec.offset + sec.size]

    def sections_named(self, prefix: str) -> list[Section]:
        return [s for s in self._all if s.name.startswith(prefix)]

    def file_offset(self, va: int) -> int | None:
        """The file offset of virtual address ``va`` (what a uprobe is placed at)."""
        for p_type, _flags, offset, vaddr, _paddr, filesz, _memsz, _align in self.segments:
            if p_type == _PT_LOAD and vaddr <= va < vaddr + filesz:
                return va - vaddr + offset
        return None

    def read_va(self, va: int, size: int) -> bytes:
        off = self.file_offset(va)
        if off is None:
            raise ElfError(f"address {va:#x} is not in the file")
        return self._map[off: off + size]

    def read_file(self, offset: int, size: int) -> bytes:
        return self._map[offset: offset + size]

    def read_ptr(self, va: int) -> int:
        """The 8-byte pointer at ``va``; in a PIE file, its R_X86_64_RELATIVE addend."""
        if self.pie:
            addend = self._relocations().get(va)
            if addend is not None:
                return addend
        return int(struct.unpack("<Q", self.read_va(va, 8))[0])

    def _relocations(self) -> dict[int, int]:
        if self._relocs is None:
            relocs: dict[int, int] = {}
            for sec in self._all:
                if sec.type != _SHT_RELA:
                    continue
                for i in range(sec.offset, sec.offset + sec.size - 23, 24):
                    r_offset, r_info, addend = _RELA.unpack_from(self._map, i)
                    if r_info & 0xFFFFFFFF == _R_X86_64_RELATIVE:
                        relocs[r_offset] = addend
            self._relocs = relocs
        return self._relocs

    def symbols(self, wanted: set[str]) -> dict[str, tuple[int, int]]:
        """``.symtab`` entries named in ``wanted``: name -> (address, size)."""
        sec = self.sections.get(".symtab")
        if sec is None or sec.type != _SHT_SYMTAB:
            return {}
        if sec.link >= len(self._all):
            return {}
        strtab = self._all[sec.link]
        names = self._map[strtab.offset: strtab.offset + strtab.size]
        keys = {w.encode() + b"\0": w for w in wanted}
        out: dict[str, tuple[int, int]] = {}
        for i in range(sec.offset, sec.offset + sec.size - _SYM.size + 1, _SYM.size):
            st_name, _info, _other, _shndx, value, size = _SYM.unpack_from(self._map, i)
            end = names.find(b"\0", st_name)
            hit = keys.get(names[st_name: end + 1]) if end >= 0 else None
            if hit is not None and value:
                out[hit] = (value, size)
        return out
