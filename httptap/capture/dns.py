"""Name lookups for the phases: libc's getaddrinfo and gethostbyname(2) hooked per process.

The probes (bpf/capture.c, "phases") record the name, the start and the end of each lookup
in the traced processes, in whatever thread ran it, and the addresses it returned; the
engine ties a lookup to the connect to one of those addresses that follows it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from httptap.capture.events import Event

if TYPE_CHECKING:
    from httptap.capture.uprobes import UprobeSet

#: symbol -> its entry program (every one returns through ``dns_exit``)
LOOKUPS = {
    "getaddrinfo": b"dns_gai_enter",
    "gethostbyname": b"dns_ghbn_enter",
    "gethostbyname2": b"dns_ghbn_enter",
    "gethostbyname_r": b"dns_ghbnr_enter",
    "gethostbyname2_r": b"dns_ghbn2r_enter",
}
_NAME = 96  # keep in sync with HT_DNS_NAME
_ADDR = 20  # HT_DNS_ADDR_SIZE
_MAX_ADDRS = 8


@dataclass(frozen=True, slots=True)
class Lookup:
    """One name lookup that succeeded: monotonic ns start and end, the addresses it gave."""

    pid: int
    name: str
    start_ns: int
    end_ns: int
    addresses: frozenset[str]


def decode_lookup(ev: Event) -> Lookup:
    """The lookup a ``Kind.DNS`` event reports."""
    raw = ev.data
    name = raw[:_NAME].split(b"\0", 1)[0].decode("utf-8", "replace")
    addrs: set[str] = set()
    for i in range(min(ev.aux, _MAX_ADDRS)):
        slot = raw[_NAME + i * _ADDR : _NAME + (i + 1) * _ADDR]
        if len(slot) < _ADDR:
            break
        family = int.from_bytes(slot[:2], "little")
        if family == socket.AF_INET:
            addrs.add(socket.inet_ntop(socket.AF_INET, slot[4:8]))
        elif family == socket.AF_INET6:
            addrs.add(_v6(slot[4:20]))
    return Lookup(ev.pid, name, ev.ts_ns, ev.size, frozenset(addrs))


def _v6(raw: bytes) -> str:
    addr = socket.inet_ntop(socket.AF_INET6, raw)
    return addr[7:] if addr.startswith("::ffff:") and "." in addr else addr


def libc_paths(pid: int) -> list[str]:
    """The libc files ``pid`` maps (real paths), else the system's."""
    found: list[str] = []
    try:
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and "x" in parts[1] and "/libc.so" in parts[5]:
                path = str(Path(f"/proc/{pid}/root{parts[5]}"))
                if path not in found:
                    found.append(path)
    except OSError:
        pass
    system = Path("/lib/x86_64-linux-gnu/libc.so.6")
    if not found and system.exists():
        found.append(str(system.resolve()))
    return found


def attach_lookups(bpf: Any, probes: UprobeSet, path: str, pid: int) -> int:
    """Place the lookup probes in ``path`` for ``pid``; returns how many were placed."""
    from bcc import BPF  # type: ignore[import-not-found]

    from httptap.capture.uprobes import UprobeError

    placed = 0
    exit_fd = bpf.load_func(b"dns_exit", BPF.KPROBE).fd
    for sym, entry in LOOKUPS.items():
        try:
            _path, offset = BPF._check_path_symbol(path.encode(), sym.encode(), None, -1, 0)
        except Exception:
            continue  # not in this libc (musl has no gethostbyname2): not hooked
        try:
            for prog_fd, ret in ((bpf.load_func(entry, BPF.KPROBE).fd, False), (exit_fd, True)):
                probes.scope(probes.add(path, offset, ret, prog_fd), pid)
        except UprobeError:
            continue
        placed += 1
    return placed
