"""What /proc tells about processes and their sockets (no bcc here).

Used at attach (sockets already open, children already forked) and to learn the addresses of
connections the kernel side reported only by fd.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")

_TCP_LISTEN = "0A"


@dataclass(frozen=True, slots=True)
class SocketInfo:
    family: str  # "tcp", "tcp6", "unix"
    local: str
    remote: str
    listening: bool


def exists(pid: int) -> bool:
    return (PROC / str(pid)).exists()


def tgid_of(pid: int) -> int | None:
    """The thread-group id of task ``pid`` (== pid for a process), None if gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("Tgid:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def comm(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def cmdline(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def elf_class(path: str) -> int | None:
    """1 for a 32-bit ELF file, 2 for a 64-bit one, None if ``path`` is no ELF file."""
    try:
        with open(path, "rb") as f:
            head = f.read(5)
    except OSError:
        return None
    return head[4] if len(head) == 5 and head[:4] == b"\x7fELF" else None


def descendants(pid: int) -> list[int]:
    """Processes forked (transitively) from ``pid`` that are alive now."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the comm field may hold spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        try:
            ppid = int(fields[1])
        except (IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return sorted(out)


def socket_fds(pid: int) -> list[tuple[int, int]]:
    """``(fd, inode)`` of every socket ``pid`` has open."""
    out: list[tuple[int, int]] = []
    fd_dir = PROC / str(pid) / "fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return out
    for name in names:
        try:
            target = os.readlink(fd_dir / name)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.append((int(name), int(target[8:-1])))
    return out


def socket_table(pid: int) -> dict[int, SocketInfo]:
    """Sockets of ``pid``'s network namespace by inode: TCP (v4, v6) and Unix."""
    table: dict[int, SocketInfo] = {}
    net = PROC / str(pid) / "net"
    for family in ("tcp", "tcp6"):
        try:
            lines = (net / family).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) < 10:
                continue
            inode = int(f[9])
            if inode == 0:
                continue
            table[inode] = SocketInfo(
                family=family,
                local=_hex_addr(f[1], family),
                remote=_hex_addr(f[2], family),
                listening=f[3] == _TCP_LISTEN,
            )
    try:
        lines = (net / "unix").read_text().splitlines()[1:]
    except OSError:
        lines = []
    for line in lines:
        f = line.split()
        if len(f) < 7:
            continue
        path = f[7] if len(f) > 7 else ""
        table[int(f[6])] = SocketInfo("unix", path, "", f[5] == "01" and f[3] == "00010000")
    return table


def _hex_addr(text: str, family: str) -> str:
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    if family == "tcp":
        addr = socket.inet_ntop(socket.AF_INET, raw[::-1])
        return f"{addr}:{int(port, 16)}"
    # /proc prints IPv6 as four host-endian 32-bit words
    words = struct.unpack("<4I", raw)
    addr = socket.inet_ntop(socket.AF_INET6, struct.pack(">4I", *words))
    if addr.startswith("::ffff:") and "." in addr:
        return f"{addr[7:]}:{int(port, 16)}"
    return f"[{addr}]:{int(port, 16)}"
