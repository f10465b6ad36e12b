"""Stale uprobe definitions: only those of httptap processes that are gone are removed."""

from __future__ import annotations

import os
from pathlib import Path

from httptap.capture.uprobes import _remove_stale


def _dead_pid() -> int:
    pid = 4_000_000
    while Path(f"/proc/{pid}").exists():
        pid += 1
    return pid


def test_remove_stale_removes_only_dead_owners(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    events = tmp_path / "uprobe_events"
    listing = [
        f"p:httptap/p{dead}_1 /usr/lib/libssl.so.3:0x0000000000035980",
        f"r:httptap/p{dead}_2 /usr/lib/libssl.so.3:0x0000000000035980",
        f"p:httptap/p{alive}_3 /usr/lib/libssl.so.3:0x0000000000035a10",
        f"p:othertool/p{dead}_1 /usr/lib/libssl.so.3:0x0000000000035a10",
        "p:httptap/notours /usr/lib/libssl.so.3:0x10",
    ]
    events.write_text("\n".join(listing) + "\n")
    _remove_stale(tmp_path)
    written = events.read_text().splitlines()[len(listing):]
    assert written == [f"-:httptap/p{dead}_1", f"-:httptap/p{dead}_2"]


def test_remove_stale_without_tracefs_is_quiet(tmp_path):
    _remove_stale(tmp_path / "missing")  # no uprobe_events: nothing to do, no error
