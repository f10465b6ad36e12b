"""A capture read from the privileged helper (``httptap-helper`` through sudo)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Sequence

from httptap.engine.api import Capture, CaptureError, CaptureOptions
from httptap.engine.protocol import from_json
from httptap.records import Error, Ready

_ATTACH_TIMEOUT = 60.0


def helper_command() -> list[str]:
    """How to start the helper: $HTTPTAP_HELPER, else ``httptap-helper`` on PATH.

    As root, $HTTPTAP_HELPER is honoured only when it names a root-owned file that no one
    else can write (nor its folder): a root front end must not run whatever program an
    inherited environment names. Without root, sudo's rule decides what may run.
    """
    path = os.environ.get("HTTPTAP_HELPER")
    if path and os.geteuid() == 0 and not trusted_path(path):
        path = None
    path = path or shutil.which("httptap-helper")
    if path:
        return [path]
    return [sys.executable, "-m", "httptap.engine.helper_main"]


def trusted_path(path: str) -> bool:
    """``path`` is absolute, a regular file, and it and its folder are root's alone."""
    if not os.path.isabs(path):
        return False
    try:
        for p, want_file in ((path, True), (os.path.dirname(path), False)):
            st = os.stat(p)
            if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
            if want_file and not stat.S_ISREG(st.st_mode):
                return False
    except OSError:
        return False
    return True


class HelperCapture(Capture):
    """Same records as InProcessCapture, produced by a helper process."""

    def __init__(self, pids: Sequence[int], options: CaptureOptions) -> None:
        super().__init__()
        self.pids = list(pids)
        self.options = options
        self._proc: subprocess.Popen[str] | None = None
        self._first: list[object] = []

    def attach(self) -> None:
        cmd = helper_command()
        for pid in self.pids:
            cmd += ["--pid", str(pid)]
        cmd += ["--body-limit", str(self.options.body_limit),
                "--ring-kib", str(self.options.ring_kib)]
        if self.options.show_secrets:
            cmd.append("--show-secrets")
        if os.geteuid() != 0:
            cmd = ["sudo", "-n", *cmd]
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, bufsize=1,
            )
        except OSError as exc:
            raise CaptureError(f"could not start the helper: {exc}",
                               "install httptap-helper (README: running without root)") from exc
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            rec = from_json(line)
            if isinstance(rec, Error):
                self._close_proc()
                raise CaptureError(rec.message, rec.remedy)
            self._first.append(rec)
            if isinstance(rec, Ready):
                return
        err = self._proc.stderr.read() if self._proc.stderr else ""
        self._close_proc()
        why = f": {err.strip().splitlines()[-1]}" if err.strip() else ""
        raise CaptureError(
            "the helper exited before attaching" + why,
            "sudo must allow httptap-helper without a password (README)",
        )

    def _run(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        self._emit(self._first)  # type: ignore[arg-type]
        def closer() -> None:
            self._stop.wait()
            if proc.stdin:
                with contextlib.suppress(OSError):
                    proc.stdin.close()

        threading.Thread(target=closer, daemon=True).start()
        batch = []
        for line in proc.stdout:
            try:
                batch.append(from_json(line))
            except ValueError as exc:
                batch.append(Error(f"bad helper output: {exc}", "report this as a bug"))
            self._emit(batch)
            batch = []
        proc.wait()

    def _close_proc(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
