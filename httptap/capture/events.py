"""Kernel events as plain Python objects (no bcc types), decoded from ring-buffer bytes.

The layout mirrors ``struct event`` in bpf/capture.c.
"""

from __future__ import annotations

import enum
import socket
import struct
from dataclasses import dataclass

# ts, gen, tgid, tid, fd, len, size, lost, kind, dir, flags, aux
_HEADER = struct.Struct("<QQIIiIQQBBHI")
HEADER_SIZE = _HEADER.size


class Kind(enum.IntEnum):
    DATA = 1
    GAP = 2
    CLOSE = 3
    CONNECT = 4
    ACCEPT = 5
    FORK = 6
    EXIT = 7
    EXEC = 8
    MMAP_EXEC = 9
    DNS = 10  # a name lookup: ts its start, size its end (capture/dns.py decodes it)
    CONNECT_DONE = 11  # connect()'s return; aux is its result (-errno as u32)


class Dir(enum.IntEnum):
    EGRESS = 0  # written by the traced process
    INGRESS = 1  # read by the traced process


class SockFlag(enum.IntFlag):
    DISABLED = 1
    CLIENT = 2
    SERVER = 4
    PREEXISTING = 8
    SEEN = 16
    TLS = 32


#: set in the generation of plaintext streams (keep in sync with bpf/capture.c)
TLS_GEN_BIT = 1 << 62
SSL_GEN_BIT = 1 << 63


@dataclass(slots=True)
class Event:
    """One kernel event. ``data`` is what was copied; ``size`` the true byte count."""

    kind: Kind
    ts_ns: int
    gen: int
    pid: int
    tid: int
    fd: int
    size: int
    lost: int
    direction: Dir | None
    flags: SockFlag
    aux: int
    data: bytes

    @property
    def conn_key(self) -> tuple[int, int]:
        """Connections are (tgid, generation): an fd number may be reused, a gen never."""
        return (self.pid, self.gen)


# Enum and flag construction costs a few µs per call; the values are few, so look them up.
_KINDS = {int(k): k for k in Kind}
_DIRS: dict[int, Dir | None] = {0: Dir.EGRESS, 1: Dir.INGRESS}
_FLAGS: dict[int, SockFlag] = {}
_unpack_header = _HEADER.unpack_from


def _flag(value: int) -> SockFlag:
    flag = _FLAGS.get(value)
    if flag is None:
        flag = SockFlag(value)
        if len(_FLAGS) < 1024:
            _FLAGS[value] = flag
    return flag


def decode(raw: bytes | memoryview) -> Event:
    """Decode one ring-buffer record."""
    ts, gen, tgid, tid, fd, length, size, lost, kind, direction, flags, aux = _unpack_header(raw)
    data = bytes(raw[HEADER_SIZE : HEADER_SIZE + length])
    return Event(
        _KINDS.get(kind) or Kind(kind),
        ts,
        gen,
        tgid,
        tid,
        fd,
        size,
        lost,
        _DIRS.get(direction),
        _FLAGS.get(flags) or _flag(flags),
        aux,
        data,
    )


def encode(ev: Event) -> bytes:
    """Inverse of ``decode`` (for tests and recordings)."""
    direction = 0xFF if ev.direction is None else int(ev.direction)
    head = _HEADER.pack(
        ev.ts_ns, ev.gen, ev.pid, ev.tid, ev.fd, len(ev.data), ev.size, ev.lost,
        int(ev.kind), direction, int(ev.flags), ev.aux,
    )
    return head + ev.data


def format_sockaddr(raw: bytes) -> str:
    """``host:port`` of a struct sockaddr (IPv4/IPv6) or the path of a Unix one; "" if unknown."""
    if len(raw) < 2:
        return ""
    family = int.from_bytes(raw[:2], "little")
    if family == socket.AF_INET and len(raw) >= 8:
        port = int.from_bytes(raw[2:4], "big")
        return f"{socket.inet_ntop(socket.AF_INET, raw[4:8])}:{port}"
    if family == socket.AF_INET6 and len(raw) >= 24:
        port = int.from_bytes(raw[2:4], "big")
        addr = socket.inet_ntop(socket.AF_INET6, raw[8:24])
        if addr.startswith("::ffff:") and "." in addr:
            return f"{addr[7:]}:{port}"
        return f"[{addr}]:{port}"
    if family == socket.AF_UNIX:
        return raw[2:].split(b"\0", 1)[0].decode("utf-8", "replace")
    return ""
