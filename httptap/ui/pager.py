"""Open text in the user's pager ($PAGER, else less) with the app suspended, like mitmproxy."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable

from textual.app import App, SuspendNotSupported

Runner = Callable[[list[str]], object]


def pager_command() -> list[str]:
    """The pager to run: ``$PAGER`` (with its arguments), else ``less -R``, else ``more``."""
    env = os.environ.get("PAGER", "").strip()
    if env:
        return shlex.split(env)
    if shutil.which("less"):
        return ["less", "-R"]
    return ["more"]


def show_in_pager(app: App[object], text: str, name: str, run: Runner | None = None) -> str | None:
    """Page ``text`` with the app suspended; returns an error message, or None when done."""
    runner: Runner = run or (lambda argv: subprocess.run(argv, check=False))
    fd, path = tempfile.mkstemp(prefix=f"httptap-{name}-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as fh:
            fh.write(text)
            if text and not text.endswith("\n"):
                fh.write("\n")
        argv = [*pager_command(), path]
        try:
            with app.suspend():
                runner(argv)
        except SuspendNotSupported:
            return "no terminal to run the pager on"
        except FileNotFoundError:
            return f"pager not found: {argv[0]} (set $PAGER)"
        return None
    finally:
        os.unlink(path)
