"""Uprobes on Go's crypto/tls for the traced processes (the programs are in bpf/go_tls.c).

One probe at the entry of ``(*Conn).Read`` and ``(*Conn).Write`` and one at each of their
RET instructions, scoped to the traced processes like the OpenSSL probes (``uprobes``).
RET probes go in before the entry probe, so a call is never entered without its returns.
"""

from __future__ import annotations

import os
from typing import Protocol

from httptap.capture import procfs, tls_libs
from httptap.capture.golang.binary import READ, WRITE, GoBinary, inspect_cached
from httptap.capture.uprobes import UprobeSet

#: function -> (entry program, return program) in bpf/go_tls.c
_PROGRAMS = {READ: ("go_tls_read_enter", "go_tls_read_return"),
             WRITE: ("go_tls_write_enter", "go_tls_write_return")}


class _Program(Protocol):  # what of loader.Program the hooks use
    def probe_fd(self, fn_name: str) -> int: ...
    def uprobe_set(self) -> UprobeSet: ...
    def set_go_offsets(self, pid: int, offsets: tuple[int, int, int, int]) -> None: ...
    def forget_go(self, pid: int) -> None: ...


def exe_path(pid: int) -> str:
    """``pid``'s executable as a path reachable from here (through its root: containers)."""
    try:
        target = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
    except OSError:
        return f"/proc/{pid}/exe"
    path = f"/proc/{pid}/root{target}"
    return path if os.path.exists(path) else f"/proc/{pid}/exe"


class GoTlsHooks:
    """Go TLS probes of one capture: ``attach(pid)`` per traced process, ``release(pid)``
    when it exits; the probes go with the program's uprobes when the capture closes."""

    def __init__(self, program: _Program) -> None:
        self._program = program
        self._keys: dict[tuple[int, int], list[tuple[str, int, bool]]] = {}  # file -> probes
        self._said: set[tuple[int, int]] = set()
        self.binaries: dict[int, GoBinary] = {}  # pid -> its Go executable
        self.hooked: set[int] = set()  # pids whose probes are in place

    def attach(self, pid: int) -> str | None:
        """Hook ``pid``'s executable when it is Go; a line saying what happened (None: not
        a Go program, or said already for this file)."""
        self.hooked.discard(pid)  # after an exec: what it was no longer counts
        self.binaries.pop(pid, None)
        path = exe_path(pid)
        fid = tls_libs.file_id(path)
        if fid is None:
            return None
        binary = inspect_cached(path)
        if binary is None:
            return None
        self.binaries[pid] = binary
        first = fid not in self._said
        self._said.add(fid)
        who = f"PID {pid} ({procfs.comm(pid)})"
        if not binary.hookable:
            return f"{who}: {binary.describe()}" if first else None
        try:
            keys = self._keys.get(fid)
            if keys is None:
                keys = self._keys[fid] = self._define(path, binary)
            uprobes = self._program.uprobe_set()
            for key in keys:
                uprobes.scope(key, pid)
            assert binary.fd_offsets is not None
            self._program.set_go_offsets(pid, binary.fd_offsets.key())
        except Exception as exc:  # bcc's errors too: a probe refused never stops the capture
            return f"{who}: Go crypto/tls not hooked: {exc}"
        self.hooked.add(pid)
        return f"{who}: {binary.describe()}" if first else None

    def _define(self, path: str, binary: GoBinary) -> list[tuple[str, int, bool]]:
        uprobes = self._program.uprobe_set()
        keys: list[tuple[str, int, bool]] = []
        for fn in binary.functions:
            entry, ret = (self._program.probe_fd(name) for name in _PROGRAMS[fn.name])
            for offset in fn.rets:  # returns first: an entry must never be left unanswered
                keys.append(uprobes.add(path, fn.offset + offset, False, ret))
            keys.append(uprobes.add(path, fn.offset, False, entry))
        return keys

    def release(self, pid: int) -> None:
        """``pid`` exited (its uprobe memberships go with the program's ``release_tls``)."""
        self.hooked.discard(pid)
        if self.binaries.pop(pid, None) is not None:
            self._program.forget_go(pid)
