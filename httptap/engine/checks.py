"""System checks (``httptap doctor``): every requirement of a capture, as structured results.

Front ends format these; only the engine looks at bcc, tracefs, kernel headers, capabilities
and the TLS libraries of a process.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from httptap.capture import kheaders, procfs, tls_libs
from httptap.capture.golang import report as go_report
from httptap.engine.permissions import has_bpf_caps

TRACEFS = Path("/sys/kernel/tracing")
#: raw_syscalls/* are attached as raw tracepoints (listed in tracefs when they exist)
TRACEPOINTS = [
    "raw_syscalls/sys_enter", "raw_syscalls/sys_exit", "sched/sched_process_fork",
    "sched/sched_process_exit", "sched/sched_process_exec",
]


@dataclass(slots=True)
class Check:
    """One requirement: whether it is met, what was found, and what to do when it is not
    (``optional``: a missing one limits what is seen but does not prevent a capture)."""

    name: str
    ok: bool
    detail: str
    remedy: str = ""
    optional: bool = False


def _root() -> Check:
    if os.geteuid() == 0:
        return Check("privileges", True, "running as root")
    if has_bpf_caps():
        return Check("privileges", True, "CAP_BPF and CAP_PERFMON")
    return Check("privileges", False, "not root, no CAP_BPF+CAP_PERFMON",
                 "run as root (sudo httptap ...) or use httptap-helper through sudo")


def _architecture() -> Check:
    from httptap.capture.loader import ARCHITECTURES

    machine = platform.machine()
    ok = machine in ARCHITECTURES
    return Check("architecture", ok, machine,
                 "" if ok else "httptap's syscall probes are written for x86-64")


def _kernel() -> Check:
    release = platform.release()
    nums = [int(x) for x in re.findall(r"\d+", release)[:2]]
    ok = tuple(nums) >= (5, 15)
    return Check("kernel", ok, release, "" if ok else "httptap supports Linux 5.15 and newer")


def _btf() -> Check:
    ok = Path("/sys/kernel/btf/vmlinux").exists()
    return Check("BTF", ok, "/sys/kernel/btf/vmlinux" if ok else "no /sys/kernel/btf/vmlinux",
                 "" if ok else "a kernel built with CONFIG_DEBUG_INFO_BTF=y", optional=True)


def _tracefs() -> Check:
    if (TRACEFS / "events").exists():
        return Check("tracefs", True, str(TRACEFS))
    return Check("tracefs", False, "not mounted",
                 "mount -t tracefs nodev /sys/kernel/tracing")


def _tracepoints() -> Check:
    if not (TRACEFS / "events").exists():
        return Check("tracepoints", False, "tracefs not mounted", "mount tracefs first")
    missing = [t for t in TRACEPOINTS if not (TRACEFS / "events" / t).exists()]
    if missing:
        return Check("tracepoints", False, "missing " + ", ".join(missing),
                     "a kernel with CONFIG_FTRACE_SYSCALLS=y")
    return Check("tracepoints", True, "sys_enter, sys_exit (raw) and 3 sched tracepoints")


def _uprobes() -> Check:
    from httptap.capture.uprobes import tracefs

    if not Path("/sys/bus/event_source/devices/uprobe").exists():
        return Check("uprobes", False, "no uprobe event source",
                     "a kernel with CONFIG_UPROBE_EVENTS=y (needed for TLS)")
    if tracefs() is None:
        return Check("uprobes", False, "tracefs uprobe_events not found (TLS probes are "
                     "defined there, scoped to the traced processes)",
                     "mount -t tracefs nodev /sys/kernel/tracing")
    return Check("uprobes", True, "available (tracefs uprobe_events)")


def _headers() -> Check:
    choice = kheaders.find_headers()
    if choice.path is None:
        return Check("kernel headers", False, choice.message,
                     "apt-get install linux-headers-$(uname -r) || "
                     "apt-get install linux-headers-amd64 (make install does this)")
    return Check("kernel headers", True, f"{choice.message} ({choice.path})")


def _bcc() -> Check:
    try:
        import bcc  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return Check("bcc", False, "python bcc module not importable",
                     "apt-get install python3-bpfcc; make install links it into .venv")
    return Check("bcc", True, "importable")


def _bpftool() -> Check:
    path = shutil.which("bpftool") or ("/usr/sbin/bpftool" if Path("/usr/sbin/bpftool").exists()
                                       else None)
    return Check("bpftool", path is not None, path or "not found",
                 "" if path else "apt-get install bpftool (used by the tests)", optional=True)


def _load() -> Check:
    """Compile and load the real program: the proof that everything above fits together."""
    try:
        from httptap.capture.loader import LoadError, Program
    except ImportError as exc:
        return Check("BPF program", False, str(exc), "fix the checks above")
    try:
        prog = Program(ring_kib=64)
    except LoadError as exc:
        return Check("BPF program", False, exc.message, exc.remedy)
    prog.close()
    return Check("BPF program", True, "compiled, verified and attached, then detached")


CHECKS: list[Callable[[], Check]] = [
    _root, _architecture, _kernel, _btf, _tracefs, _tracepoints, _uprobes, _headers, _bcc,
    _bpftool,
]


def system_checks(*, load: bool | None = None) -> list[Check]:
    """Every requirement of this machine; ``load`` (default: when the rest is fine and this
    process is root) also compiles and loads the real program."""
    checks = [c() for c in CHECKS]
    if load is None:
        load = all(c.ok or c.optional for c in checks) and os.geteuid() == 0
    if load:
        checks.append(_load())
    return checks


def process_checks(pid: int) -> list[Check]:
    """What httptap would see of process ``pid``: its executable, sockets, TLS libraries."""
    if not procfs.exists(pid):
        return [Check(f"PID {pid}", False, "no such process", "check the PID with ps")]
    out = [Check(f"PID {pid}", True, f"{procfs.comm(pid)}: {procfs.cmdline(pid)[:60]}")]
    if procfs.elf_class(f"/proc/{pid}/exe") == 1:
        out.append(Check("executable", False, "32-bit: its syscalls are not seen",
                         "httptap follows x86-64 syscalls only", optional=True))
    socks = procfs.socket_fds(pid)
    out.append(Check("sockets", True, f"{len(socks)} open"))
    seen: set[tuple[int, int] | None] = set()
    for path in tls_libs.mapped_executables(pid):
        fid = tls_libs.file_id(path)
        if fid in seen:
            continue
        seen.add(fid)
        lib = tls_libs.inspect(path)
        if lib is None:
            continue
        shown = path.removeprefix(f"/proc/{pid}/root")
        version = lib.version or "version unknown"
        if lib.go:
            out.append(Check("TLS library", False, f"{shown}: a Go binary ({version})",
                             "Go crypto/tls is not hooked (no uretprobes on Go)", optional=True))
        else:
            out.append(Check("TLS library", True, f"{shown} ({version}): "
                             f"{', '.join(lib.symbols)} (hooked at attach)"))
    if not any(c.name == "TLS library" for c in out):
        system = ", ".join(tls_libs.system_libssl()) or "none found"
        out.append(Check("TLS library", True, "none mapped yet; the system libssl "
                         f"({system}) is hooked at attach, so a later `import ssl` is seen"))
    for ok, detail in go_report.describe(pid):  # Go's crypto/tls: version, build, functions
        out.append(Check("Go crypto/tls", ok, detail, optional=True))
    for note in tls_libs.unseen_tls(pid):
        out.append(Check("not visible", False, note, optional=True))
    return out
