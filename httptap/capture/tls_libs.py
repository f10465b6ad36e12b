"""Where OpenSSL lives for a traced process: files to hook, and what cannot be seen.

uprobes go on files (inodes), not processes: hooking the system's libssl at attach covers a
process that maps it later (Python imports ``ssl`` lazily). Private copies (wheels, venvs,
containers) and executables that link OpenSSL statically (Node.js) are found in
/proc/PID/maps. Pure Python: a small ELF reader, no bcc.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

SSL_SYMBOLS = ("SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex")
_GO_MAGIC = b"\xff Go buildinf:"
_VERSION_RE = re.compile(rb"OpenSSL \d+\.\d+\.\d+[a-z]?(?:-[a-z0-9]+)? +\d+ \w+ \d{4}")
_SCAN_LIMIT = 256 * 1024 * 1024
_PIECE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TlsLibrary:
    path: str  # as seen from here (through /proc/PID/root for containers)
    symbols: tuple[str, ...]
    version: str
    go: bool = False


# Elf64_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SHT_DYNSYM = 11
_MAX_TABLE = 64 * 1024 * 1024


def _sections(f: BinaryIO) -> list[tuple[int, ...]]:
    """The section headers of an open little-endian ELF64 file, or [] for anything else."""
    head = f.read(64)
    if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        return []
    shoff = struct.unpack_from("<Q", head, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
    if shoff == 0 or shentsize != _SHDR.size or shnum > 4096:
        return []
    f.seek(shoff)
    table = f.read(shentsize * shnum)
    if len(table) < shentsize * shnum:
        return []
    return [_SHDR.unpack_from(table, i * _SHDR.size) for i in range(shnum)]


def _read(f: BinaryIO, offset: int, size: int) -> bytes:
    f.seek(offset)
    return f.read(min(size, _MAX_TABLE))


def _name(strtab: bytes, offset: int) -> str:
    return strtab[offset : strtab.find(b"\0", offset)].decode("ascii", "replace")


def dynamic_symbols(path: str) -> set[str]:
    """Names of the symbols an ELF64 file defines in .dynsym (empty if not ELF64)."""
    try:
        with open(path, "rb") as f:
            sections = _sections(f)
            for sh in sections:
                stype, offset, size, link, entsize = sh[1], sh[4], sh[5], sh[6], sh[9]
                if stype != _SHT_DYNSYM or entsize != 24 or link >= len(sections):
                    continue
                strtab = _read(f, sections[link][4], sections[link][5])
                syms = _read(f, offset, size)
                names: set[str] = set()
                for i in range(0, len(syms) - 23, 24):
                    st_name, _info, _other, shndx = struct.unpack_from("<IBBH", syms, i)
                    # undefined symbols are imports: the real SSL_write is elsewhere
                    if shndx != 0 and st_name < len(strtab):
                        names.add(_name(strtab, st_name))
                return names
    except OSError:
        pass
    return set()


def section_names(path: str) -> set[str]:
    """Names of an ELF64 file's sections (empty if not ELF64 or without section headers)."""
    try:
        with open(path, "rb") as f:
            sections = _sections(f)
            index = struct.unpack_from("<H", _read(f, 0x3E, 2))[0] if sections else 0
            if index >= len(sections):
                return set()
            strtab = _read(f, sections[index][4], sections[index][5])
    except (OSError, struct.error):
        return set()
    return {_name(strtab, sh[0]) for sh in sections if sh[0] < len(strtab)}


def is_go_binary(path: str) -> bool:
    """Go executables carry a build-info section; uretprobes would corrupt their stacks."""
    names = section_names(path)
    if names:
        return ".go.buildinfo" in names or ".note.go.buildid" in names
    try:  # stripped of section headers: look for the build-info magic near the start
        with open(path, "rb") as f:
            return _GO_MAGIC in f.read(4 * 1024 * 1024)
    except OSError:
        return False


def openssl_version(path: str) -> str:
    """The OpenSSL version string compiled into ``path``, or "" (read in 1 MiB pieces)."""
    m = None
    try:
        with open(path, "rb") as f:
            tail = b""
            for _ in range(_SCAN_LIMIT // _PIECE):
                piece = f.read(_PIECE)
                if not piece:
                    break
                m = _VERSION_RE.search(tail + piece)
                if m:
                    break
                tail = piece[-64:]  # a string cut between two pieces is found in the next
    except OSError:
        return ""
    if m:
        return m.group(0).decode()
    # a shared libssl keeps its version string in the libcrypto beside it
    name = os.path.basename(path)
    if name.startswith("libssl"):
        sibling = os.path.join(os.path.dirname(path), "libcrypto" + name[len("libssl"):])
        if os.path.exists(sibling):
            return openssl_version(sibling)
    return ""


def inspect(path: str, *, version: bool = True) -> TlsLibrary | None:
    """A TlsLibrary when ``path`` exports OpenSSL's read/write functions.

    ``version=False`` skips looking for the version string (a scan of the file), which the
    engine does not need at attach.
    """
    syms = dynamic_symbols(path)
    found = tuple(s for s in SSL_SYMBOLS if s in syms)
    if "SSL_write" not in found and "SSL_write_ex" not in found:
        return None
    return TlsLibrary(path, found, openssl_version(path) if version else "",
                      go=is_go_binary(path))


def system_libssl() -> list[str]:
    """libssl files the dynamic loader knows (``ldconfig -p``), real paths, deduplicated."""
    paths: list[str] = []
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for line in out.splitlines():
        if "libssl.so" in line and "=>" in line and "x86-64" in line:
            paths.append(line.split("=>", 1)[1].strip())
    if not paths:
        paths = [str(p) for p in Path("/usr/lib/x86_64-linux-gnu").glob("libssl.so.*")]
    return list(dict.fromkeys(os.path.realpath(p) for p in paths if os.path.exists(p)))


def mapped_executables(pid: int) -> list[str]:
    """Executable file mappings of ``pid``, as paths reachable from here (via its root)."""
    root = f"/proc/{pid}/root"
    out: list[str] = []
    try:
        lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6 or "x" not in parts[1] or not parts[5].startswith("/"):
            continue
        path = parts[5].removesuffix(" (deleted)")
        out.append(root + path)
    return list(dict.fromkeys(out))


def file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def unseen_tls(pid: int) -> list[str]:
    """What httptap cannot decrypt in ``pid``, stated plainly."""
    notes: list[str] = []
    maps = mapped_executables(pid)
    names = [os.path.basename(p) for p in maps]
    if any(n.startswith("libgnutls") for n in names):
        notes.append("GnuTLS is mapped: its traffic is not decrypted (OpenSSL only)")
    if any(n.startswith(("libnss3", "libssl3.so")) for n in names):
        notes.append("NSS is mapped: its traffic is not decrypted (OpenSSL only)")
    if any("cygrpc" in n for n in names):
        notes.append("grpcio links BoringSSL statically and stripped: its TLS is not "
                     "decrypted (plaintext gRPC is)")
    notes.append("kernel TLS (kTLS) and io_uring sockets are not captured")
    return notes
