"""Attaching from an unprivileged IPython: the engine's helper under sudo, asked nicely.

IPython rarely runs as root. ``open_capture`` then starts ``httptap-helper`` with
``sudo -n``; when sudo wants a password, a terminal shell asks for it here (getpass, piped
to ``sudo -S -v``, which caches the credentials for this terminal) and tries once more,
while a Jupyter kernel, which has no terminal to ask on, gets a message with the sudoers
line that allows the helper without one.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence

from httptap.engine.api import Capture, CaptureError, CaptureOptions, open_capture

_Opener = Callable[[Sequence[int], CaptureOptions], Capture]


def open_with_privileges(
    pids: Sequence[int],
    options: CaptureOptions,
    *,
    can_prompt: bool,
    opener: _Opener = open_capture,
    ask: Callable[[str], str] = getpass.getpass,
) -> Capture:
    """``opener(pids, options)``, with a sudo password prompt (terminal) or a remedy (Jupyter)."""
    try:
        return opener(pids, options)
    except CaptureError as exc:
        if not _sudo_refused(exc):
            raise
        if not can_prompt:
            raise CaptureError(exc.message, sudoers_remedy()) from None
        user = getpass.getuser()
        password = ask(f"[sudo] password for {user} (to start httptap-helper): ")
        if not _sudo_validate(password):
            raise CaptureError("sudo did not accept the password", sudoers_remedy()) from None
        return opener(pids, options)


def can_prompt_in_terminal() -> bool:
    """True when a password can be read from the terminal (not in a kernel, stdin a tty)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def sudoers_remedy() -> str:
    """How to let this user start the helper without a password."""
    user = getpass.getuser()
    helper = _helper_path()
    return (
        "allow the helper without a password: `sudo visudo -f /etc/sudoers.d/httptap` and add\n"
        f"    {user} ALL=(root) NOPASSWD: {helper}\n"
        f"with {helper} a root-owned copy of httptap-helper outside any user-writable "
        "environment (README: running without root); or run Jupyter/IPython as root"
    )


def _helper_path() -> str:
    from httptap.engine.helper_client import helper_command

    cmd = helper_command()
    # Without an installed helper the engine runs `python -m …`: a sudoers rule needs a file.
    if len(cmd) == 1 and os.path.isabs(cmd[0]):
        return cmd[0]
    return "/usr/local/bin/httptap-helper"


def _sudo_refused(exc: CaptureError) -> bool:
    """Whether attaching failed because sudo wanted a password (the helper never ran)."""
    if os.geteuid() == 0 or shutil.which("sudo") is None:
        return False
    text = f"{exc.message} {exc.remedy}".lower()
    return "password" in text or "sudo" in text


def _sudo_validate(password: str) -> bool:
    """Cache sudo credentials for this terminal; the engine's ``sudo -n`` then succeeds."""
    try:
        done = subprocess.run(
            ["sudo", "-S", "-p", "", "-v"],
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
