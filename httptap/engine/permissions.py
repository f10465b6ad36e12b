"""Attach checks: do the target processes exist, and may this process load BPF programs."""

from __future__ import annotations

import os
from collections.abc import Sequence

from httptap.capture import procfs
from httptap.engine.api import CaptureError

_CAP_PERFMON = 38
_CAP_BPF = 39


def has_bpf_caps() -> bool:
    """CAP_BPF and CAP_PERFMON in this process's effective set."""
    try:
        with open("/proc/self/status") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    for line in lines:
        if line.startswith("CapEff:"):
            caps = int(line.split()[1], 16)
            return bool(caps & (1 << _CAP_BPF)) and bool(caps & (1 << _CAP_PERFMON))
    return False


def check_targets(pids: Sequence[int]) -> None:
    """Raise CaptureError unless every pid is a live process (not a thread of one)."""
    if not pids:
        raise CaptureError("no PID given", "pass --pid PID")
    for pid in pids:
        if pid <= 0 or not procfs.exists(pid):
            raise CaptureError(f"no process with PID {pid}", "check the PID with `ps`")
        tgid = procfs.tgid_of(pid)
        if tgid not in (pid, None):
            raise CaptureError(
                f"PID {pid} is a thread of process {tgid}", f"attach to the process: --pid {tgid}"
            )


def check_privileges() -> None:
    """Raise CaptureError unless this process may load BPF programs."""
    if os.geteuid() != 0 and not has_bpf_caps():
        raise CaptureError(
            "attaching needs root (or CAP_BPF and CAP_PERFMON)",
            "run with sudo, or use the helper (see README: httptap-helper)",
        )
