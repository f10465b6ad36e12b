"""Uprobes that only the traced processes hit, and the children they fork.

A uprobe attached the usual way (bcc's ``attach_uprobe`` without a PID) puts its breakpoint
in every process that maps the library: on a machine where many processes use the system
libssl, each of their TLS reads and writes then traps into the kernel, traced or not
(nginx serving TLS ran at a quarter of its speed while httptap watched another process).

The kernel only places a uprobe's breakpoint in the address spaces its perf events target.
So each probe here is a tracefs uprobe event with:

- one *carrier* perf event, on httptap's own process, holding the BPF program (a program
  attached to a second perf event of the same probe would run twice per hit);
- one *member* perf event per traced process, disabled (it only widens the probe's
  target set), with ``inherit``: a child the process forks is a member from its first
  instruction, before the engine has even read the fork event.

Probe definitions are named after httptap's PID; ones left by an httptap that was killed
are removed on the next start (they hold no breakpoint once their perf events are gone).
"""

from __future__ import annotations

import contextlib
import ctypes as ct
import itertools
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

_GROUP = "httptap"
_PERF_TYPE_TRACEPOINT = 2
_ATTR_DISABLED = 1 << 0
_ATTR_INHERIT = 1 << 1
_PERF_FLAG_FD_CLOEXEC = 1 << 3
_IOC_ENABLE = 0x2400
_IOC_SET_BPF = 0x40042408
_NR_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241}
_serial = itertools.count(1)  # per process: several captures may run in one


class UprobeError(Exception):
    """A probe could not be defined or scoped."""


class _PerfAttr(ct.Structure):
    _fields_ = [
        ("type", ct.c_uint32),
        ("size", ct.c_uint32),
        ("config", ct.c_uint64),
        ("sample_period", ct.c_uint64),
        ("sample_type", ct.c_uint64),
        ("read_format", ct.c_uint64),
        ("flags", ct.c_uint64),
        ("wakeup_events", ct.c_uint32),
        ("bp_type", ct.c_uint32),
        ("config1", ct.c_uint64),
        ("rest", ct.c_uint8 * 64),  # later fields, zero
    ]


@dataclass
class _Probe:
    name: str
    event_id: int
    carrier: int  # perf event fd holding the program
    members: dict[int, int] = field(default_factory=dict)  # pid -> perf event fd


def tracefs() -> Path | None:
    """Where tracefs is mounted (with uprobe events), if it is."""
    for path in (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing")):
        if (path / "uprobe_events").exists():
            return path
    return None


class UprobeSet:
    """The probes of one capture; ``close`` removes them all."""

    def __init__(self) -> None:
        root = tracefs()
        nr = _NR_PERF_EVENT_OPEN.get(platform.machine())
        if root is None or nr is None:
            raise UprobeError("tracefs with uprobe_events is not mounted"
                              if root is None else "perf_event_open number unknown here")
        self._root = root
        self._nr = nr
        self._libc = ct.CDLL(None, use_errno=True)
        self._probes: dict[tuple[str, int, bool], _Probe] = {}
        _remove_stale(root)

    def add(self, path: str, offset: int, retprobe: bool, prog_fd: int) -> tuple[str, int, bool]:
        """Define the probe at ``offset`` of ``path`` running ``prog_fd`` (once per key)."""
        key = (path, offset, retprobe)
        if key in self._probes:
            return key
        name = f"p{os.getpid()}_{next(_serial)}"  # unique in tracefs: PID, then a count
        kind = "r" if retprobe else "p"
        try:
            self._write(f"{kind}:{_GROUP}/{name} {path}:0x{offset:x}\n")
        except OSError as exc:
            raise UprobeError(f"defining a uprobe on {path}: {exc.strerror}") from exc
        try:
            event_id = int((self._root / "events" / _GROUP / name / "id").read_text())
            carrier = self._open(event_id, os.getpid(), 0)
            try:
                self._ioctl(carrier, _IOC_SET_BPF, prog_fd)
                self._ioctl(carrier, _IOC_ENABLE, 0)
            except BaseException:
                os.close(carrier)
                raise
        except BaseException as exc:
            with contextlib.suppress(OSError):
                self._write(f"-:{_GROUP}/{name}\n")
            if isinstance(exc, OSError):
                raise UprobeError(f"uprobe event {name}: {exc.strerror}") from exc
            raise
        self._probes[key] = _Probe(name, event_id, carrier)
        return key

    def scope(self, key: tuple[str, int, bool], pid: int) -> None:
        """Let process ``pid`` (and what it forks from now on) hit the probe ``key``."""
        probe = self._probes[key]
        if pid not in probe.members:
            probe.members[pid] = self._open(probe.event_id, pid,
                                            _ATTR_DISABLED | _ATTR_INHERIT)

    def release(self, pid: int) -> None:
        """``pid`` exited or is no longer traced: drop its memberships."""
        for probe in self._probes.values():
            fd = probe.members.pop(pid, None)
            if fd is not None:
                os.close(fd)

    def close(self) -> None:
        """Close every perf event, then remove the definitions (idempotent)."""
        for probe in self._probes.values():
            for fd in [*probe.members.values(), probe.carrier]:
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(OSError):
                self._write(f"-:{_GROUP}/{probe.name}\n")
        self._probes.clear()

    # -- system calls ------------------------------------------------------------------------

    def _open(self, event_id: int, pid: int, flags: int) -> int:
        attr = _PerfAttr(type=_PERF_TYPE_TRACEPOINT, size=ct.sizeof(_PerfAttr), config=event_id,
                         sample_period=1, wakeup_events=1, flags=flags)
        fd = self._libc.syscall(self._nr, ct.byref(attr), pid, -1, -1, _PERF_FLAG_FD_CLOEXEC)
        if fd < 0:
            err = ct.get_errno()
            raise UprobeError(f"perf_event_open for PID {pid}: {os.strerror(err)}")
        return int(fd)

    def _ioctl(self, fd: int, request: int, arg: int) -> None:
        if self._libc.ioctl(fd, request, arg) != 0:
            raise UprobeError(f"perf event ioctl {request:#x}: {os.strerror(ct.get_errno())}")

    def _write(self, line: str) -> None:
        _write_events(self._root, line)


def _write_events(root: Path, line: str) -> None:
    # not open(..., "a"): uprobe_events refuses the seek to its end that it makes
    fd = os.open(root / "uprobe_events", os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def _remove_stale(root: Path) -> None:
    """Remove probe definitions of httptap processes that are gone."""
    try:
        lines = (root / "uprobe_events").read_text().splitlines()
    except OSError:
        return
    for line in lines:
        head = line.split(" ", 1)[0]  # p:httptap/p1234_5
        group, _, name = head.partition(":")[2].partition("/")
        if group != _GROUP or not name.startswith("p"):
            continue
        owner = name[1:].split("_", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            with contextlib.suppress(OSError):
                _write_events(root, f"-:{_GROUP}/{name}\n")
