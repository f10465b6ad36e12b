"""The traced processes: tracing one lists its sockets in the kernel and scans its TLS."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from httptap.capture import procfs
from httptap.capture.events import SockFlag

if TYPE_CHECKING:
    from httptap.capture.loader import Program
    from httptap.engine.hooks import LibraryHooks


class Targets:
    """Which processes are traced (``alive``); ``trace``, ``fork``, ``exit`` keep the kernel's
    view (traced pids, socket allow-list, TLS probes) in step with them."""

    def __init__(self, program: Program, hooks: LibraryHooks, notes: list[str]) -> None:
        self._program = program
        self._hooks = hooks
        self._notes = notes
        self.alive: set[int] = set()

    def trace(self, pid: int, *, forked: bool = False) -> None:
        """Trace ``pid``: in the kernel's pid set, its open sockets listed, its TLS hooked."""
        program = self._program
        program.trace_pid(pid)
        self.alive.add(pid)
        # Listed after the pid is traced, so a socket made in between is listed by the kernel.
        socks = procfs.socket_fds(pid)
        table = procfs.socket_table(pid) if socks else {}
        # a connection whose local port this process listens on is one it accepted
        listening = {info.local.rsplit(":", 1)[-1] for info in table.values() if info.listening}
        for i, (fd, inode) in enumerate(socks):
            flags = SockFlag.PREEXISTING
            info = table.get(inode)
            if info is not None and info.remote and not info.listening:
                port = info.local.rsplit(":", 1)[-1]
                flags |= SockFlag.SERVER if port in listening else SockFlag.CLIENT
            program.add_socket(pid, fd, time.monotonic_ns() + i, flags)
        if forked:  # a child forked since attach inherits its parent's TLS probes
            return
        if procfs.elf_class(f"/proc/{pid}/exe") == 1:
            # nothing of it is seen: the probes skip its syscalls, and the TLS programs read
            # x86-64 arguments (a 32-bit libssl takes them on the stack)
            self._notes.append(
                f"PID {pid} ({procfs.comm(pid)}) is a 32-bit program: its syscalls are not "
                "seen (the probes follow x86-64 syscalls)"
            )
            return
        self._hooks.scan(pid)

    def fork(self, child: int) -> None:
        """A traced process forked ``child`` (a process, or a thread the kernel listed)."""
        if procfs.tgid_of(child) == child:
            self.trace(child, forked=True)
        else:
            self._program.untrace_pid(child)  # a thread (or already gone)

    def exit(self, pid: int) -> None:
        """``pid`` exited: out of the kernel's tables and the TLS scopes."""
        self.alive.discard(pid)
        self._program.forget_pid(pid)
        self._hooks.forget(pid)

    def exec(self, pid: int, ts_ns: int) -> None:
        """``pid`` exec'd: its allow-list is rebuilt (close-on-exec fds are gone)."""
        self._program.forget_pid(pid, before_ns=ts_ns)
        self.trace(pid)
