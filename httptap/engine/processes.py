"""What front ends may know about processes, read from /proc through the engine: whether a
PID exists, and the candidates of an attach picker (those that run a workspace's code)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from httptap.capture import procfs

_LIMIT = 200


def pid_exists(pid: int) -> bool:
    """Whether a process (or thread) with this id exists."""
    return procfs.exists(pid)


def candidates(folders: Sequence[str], *, everything: bool = False) -> list[dict[str, Any]]:
    """Processes whose cwd or a command-line path lies inside ``folders``, newest first.

    With ``everything`` every process with a command line is listed (``reason`` is then
    ``"other"`` for the rest). The server itself and its own children are left out.
    """
    roots = [Path(f).resolve() for f in folders if f]
    me = os.getpid()
    skip = {me, *procfs.descendants(me)}
    out: list[dict[str, Any]] = []
    for entry in procfs.PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in skip:
            continue
        cmd = procfs.cmdline(pid)
        if not cmd:
            continue  # kernel threads and zombies
        cwd = _cwd(pid)
        reason = _reason(roots, cwd, cmd)
        if reason is None:
            if not everything:
                continue
            reason = "other"
        out.append(
            {"pid": pid, "cmdline": cmd, "cwd": cwd, "comm": procfs.comm(pid), "reason": reason}
        )
    # workspace matches first, newest (highest pid) first within each group
    out.sort(key=lambda p: (p["reason"] == "other", -p["pid"]))
    out = out[:_LIMIT]
    tables: dict[str, dict[int, procfs.SocketInfo]] = {}  # per network namespace
    for p in out:
        if p["reason"] != "other":
            p["listening"] = listening(p["pid"], tables)
    return out


def listening(pid: int, tables: dict[str, dict[int, procfs.SocketInfo]] | None = None) -> list[str]:
    """Addresses ``pid`` listens on, for telling servers apart in a pick list.

    ``tables`` caches socket tables by network namespace across calls.
    """
    fds = procfs.socket_fds(pid)
    if not fds:
        return []
    try:
        netns = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        netns = f"pid:{pid}"
    cache = tables if tables is not None else {}
    table = cache.get(netns)
    if table is None:
        table = cache[netns] = procfs.socket_table(pid)
    found = {table[ino].local for _fd, ino in fds if ino in table and table[ino].listening}
    return sorted(found)


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None  # another user's process, or gone


def _reason(roots: Sequence[Path], cwd: str | None, cmd: str) -> str | None:
    if cwd is not None and any(_inside(Path(cwd), r) for r in roots):
        return "cwd"
    for arg in cmd.split()[1:]:
        if "/" not in arg and not arg.endswith(".py"):
            continue
        path = Path(arg)
        if not path.is_absolute():
            if cwd is None:
                continue
            path = Path(cwd) / path
        if any(_inside(path, r) for r in roots):
            return "cmdline"
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root) if path.is_absolute() else False
    except (OSError, RuntimeError):
        return False
