"""What /proc says about a traced connection: its socket addresses and its process name."""

from __future__ import annotations

import os
import time

from httptap.capture import procfs

_TABLE_TTL_S = 0.05  # a socket table older than this is re-read for an unknown inode


class SocketResolver:
    """Socket addresses from /proc, with the per-process socket table cached; the process
    name (``comm``) cached per pid. ``forget(pid)`` on exit or exec."""

    def __init__(self) -> None:
        self._tables: dict[int, tuple[float, dict[int, procfs.SocketInfo]]] = {}
        self._comms: dict[int, str] = {}

    def __call__(self, pid: int, fd: int) -> tuple[str, str]:
        """(local, remote) of ``pid``'s socket ``fd``; empty strings when unknown."""
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            return "", ""
        if not target.startswith("socket:["):
            return "", ""
        inode = int(target[8:-1])
        cached = self._tables.get(pid)
        info = cached[1].get(inode) if cached else None
        if info is None and (cached is None or time.monotonic() - cached[0] > _TABLE_TTL_S):
            table = procfs.socket_table(pid)
            self._tables[pid] = (time.monotonic(), table)
            info = table.get(inode)
        if info is None:
            return "", ""
        return info.local, info.remote

    def comm(self, pid: int) -> str:
        """The process name of ``pid`` ("" once it is gone)."""
        name = self._comms.get(pid)
        if name is None:
            name = self._comms[pid] = procfs.comm(pid) or ""
        return name

    def forget(self, pid: int) -> None:
        self._tables.pop(pid, None)
        self._comms.pop(pid, None)
