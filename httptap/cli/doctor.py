"""``httptap doctor``: every requirement checked, each missing one with its remedy."""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from httptap.capture import kheaders, procfs, tls_libs
from httptap.capture.golang import report as go_report  # Go crypto/tls

if TYPE_CHECKING:
    from httptap.cli.main import Environment

TRACEFS = Path("/sys/kernel/tracing")
#: raw_syscalls/* are attached as raw tracepoints (listed in tracefs when they exist)
TRACEPOINTS = [
    "raw_syscalls/sys_enter", "raw_syscalls/sys_exit", "sched/sched_process_fork",
    "sched/sched_process_exit", "sched/sched_process_exec",
]


@dataclass(slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    remedy: str = ""
    optional: bool = False


def _root() -> Check:
    if os.geteuid() == 0:
        return Check("privileges", True, "running as root")
    from httptap.engine.inprocess import _has_bpf_caps

    if _has_bpf_caps():
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


def _process(pid: int) -> list[Check]:
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
    # -- Go crypto/tls (httptap.capture.golang) --
    for ok, detail in go_report.describe(pid):
        out.append(Check("Go crypto/tls", ok, detail, optional=True))
    # -- end Go crypto/tls --
    for note in tls_libs.unseen_tls(pid):
        out.append(Check("not visible", False, note, optional=True))
    return out


def main(argv: Sequence[str], env: Environment) -> int:
    p = argparse.ArgumentParser(
        prog="httptap doctor",
        description="Check what httptap needs on this machine and say how to fix what is missing.",
        epilog="examples:\n  httptap doctor\n  httptap doctor --pid 1234",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pid", type=int, help="also look at this process")
    try:
        args = p.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    checks = [c() for c in CHECKS]
    if all(c.ok or c.optional for c in checks) and os.geteuid() == 0:
        checks.append(_load())
    if args.pid:
        checks.extend(_process(args.pid))
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok" if c.ok else ("warn" if c.optional else "MISSING")
        env.stdout.write(f"{mark:>7}  {c.name:<{width}}  {c.detail}\n")
        if not c.ok and c.remedy:
            env.stdout.write(f"{'':>7}  {'':<{width}}  fix: {c.remedy}\n")
    bad = [c for c in checks if not c.ok and not c.optional]
    env.stdout.write("httptap doctor: " + ("all good\n" if not bad else
                                           f"{len(bad)} problem(s)\n"))
    return 0 if not bad else 1
