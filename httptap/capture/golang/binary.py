"""What a Go executable offers for TLS probes: its version, build kind, the functions to
hook with their RET offsets, and the fd chain offsets — or why it cannot be hooked."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

from httptap.capture.golang import buildinfo, offsets, pclntab
from httptap.capture.golang.elf import EM_X86_64, ElfError, ElfFile
from httptap.capture.golang.ret_offsets import DisassemblyError, ret_offsets

READ = "crypto/tls.(*Conn).Read"
WRITE = "crypto/tls.(*Conn).Write"
FUNCTIONS = (READ, WRITE)
MIN_VERSION = (1, 17)  # the register ABI on amd64


@dataclass(frozen=True, slots=True)
class GoFunction:
    name: str
    address: int  # virtual address of the entry
    offset: int  # file offset of the entry (where the uprobe goes)
    rets: tuple[int, ...]  # RET offsets from the entry

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def probes(self) -> int:
        """The entry and each RET."""
        return 1 + len(self.rets)


@dataclass(slots=True)
class GoBinary:
    """A Go executable as httptap sees it; ``refusal`` is set when it cannot be hooked."""

    path: str
    version: str = ""
    pie: bool = False
    stripped: bool = False
    source: str = ""  # where the addresses came from: .symtab or .gopclntab
    functions: list[GoFunction] = field(default_factory=list)
    fd_offsets: offsets.FdOffsets | None = None
    problems: list[str] = field(default_factory=list)  # functions not hookable, and why
    refusal: str = ""

    @property
    def hookable(self) -> bool:
        return not self.refusal and bool(self.functions) and self.fd_offsets is not None

    def describe(self) -> str:
        """One line: version, build kind, what is hooked and why not."""
        kind = ", ".join(k for k, on in (("PIE", self.pie), ("stripped", self.stripped)) if on)
        head = f"Go {self.version.removeprefix('go') or '(version unknown)'}"
        head += f" ({kind})" if kind else ""
        if self.refusal:
            return f"{head}: crypto/tls not hooked: {self.refusal}"
        found = ", ".join(f"{f.short} ({f.probes} probes)" for f in self.functions)
        text = f"{head}: crypto/tls {found} from {self.source}"
        if self.fd_offsets is not None:
            text += f", fd offsets from {self.fd_offsets.source}"
        return text + "".join(f"; {p}" for p in self.problems)


def inspect(path: str) -> GoBinary | None:
    """The GoBinary at ``path``; None when it is not a Go executable (or not readable)."""
    try:
        elf = ElfFile(path)
    except (OSError, ElfError):
        return None
    with elf:
        version = buildinfo.go_version(elf)
        if version is None and ".gopclntab" not in elf.sections:
            return None
        try:
            return _inspect(elf, path, version or "")
        except (struct.error, ValueError, IndexError, ElfError) as exc:  # a damaged file
            return GoBinary(path, version or "", elf.pie, refusal=f"unreadable: {exc}")


def _inspect(elf: ElfFile, path: str, version: str) -> GoBinary:
    binary = GoBinary(path, version, elf.pie, ".symtab" not in elf.sections)
    if elf.machine != EM_X86_64:
        binary.refusal = f"{elf.machine_name} is not supported (x86-64 only)"
        return binary
    parsed = buildinfo.parse_version(version)
    if parsed is None:
        binary.refusal = "the Go version is unknown (no readable .go.buildinfo)"
        return binary
    if parsed < MIN_VERSION:
        binary.refusal = (f"Go {version.removeprefix('go')} predates the register ABI "
                          "(Go 1.17+ only)")
        return binary
    wanted = set(FUNCTIONS)
    found = {name: (addr, addr + size) for name, (addr, size) in elf.symbols(wanted).items()
             if size > 0}
    binary.source = ".symtab"
    if len(found) < len(wanted):
        try:
            found = pclntab.functions(elf, wanted)
        except pclntab.PclntabError as exc:
            binary.refusal = str(exc)
            return binary
        binary.source = ".gopclntab"
    if not found:
        binary.refusal = "crypto/tls is not linked in (no TLS in this program)"
        return binary
    for name in FUNCTIONS:
        if name not in found:
            binary.problems.append(f"{name} not found")
            continue
        start, end = found[name]
        offset = elf.file_offset(start)
        if offset is None or not 0 < end - start < 1 << 20:
            binary.problems.append(f"{name}: address {start:#x} is not in the file")
            continue
        try:
            rets = ret_offsets(elf.read_va(start, end - start))
        except DisassemblyError as exc:
            binary.problems.append(f"{name} not hooked: {exc}")
            continue
        binary.functions.append(GoFunction(name, start, offset, tuple(rets)))
    binary.fd_offsets = offsets.from_dwarf(elf) or offsets.from_table(parsed)
    if binary.fd_offsets is None:
        binary.refusal = f"no fd offsets known for Go {version.removeprefix('go')}"
    elif not binary.functions:
        binary.refusal = "; ".join(binary.problems)
    return binary


_cache: dict[tuple[int, int, int], GoBinary | None] = {}


def inspect_cached(path: str) -> GoBinary | None:
    """``inspect``, once per file (device, inode, modification time) per process."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino, st.st_mtime_ns)
    if key not in _cache:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = inspect(path)
    return _cache[key]
