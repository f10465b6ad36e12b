"""httptap-helper: a fixed argument schema, bounded values, no caller-named files, exit on
stdin close, only the sudo caller's own processes, and a $HTTPTAP_HELPER root will not run."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import ClassVar

import pytest

from httptap.engine import helper_client, helper_main
from httptap.engine.api import Capture
from httptap.options import DEFAULT_BODY_LIMIT, DEFAULT_RING_KIB

GOOD = ["--pid", "1"]


@pytest.mark.parametrize("argv", [
    [],                                         # no pid
    ["--pid", "0"], ["--pid", "-1"], ["--pid", "4194305"], ["--pid", "abc"],
    ["--pid", " 5"], ["--pid", "+5"], ["--pid", "5_0"], ["--pid", "٣"], ["--pid", "1" * 40],
    [*GOOD, "--body-limit", "-1"], [*GOOD, "--body-limit", "1k"],
    [*GOOD, "--body-limit", str(16 * 1024 * 1024 + 1)],
    [*GOOD, "--ring-kib", "0"], [*GOOD, "--ring-kib", str(2**40)],
    [*GOOD, "--body", "10"],                    # abbreviations are refused
    [*GOOD, "--save", "/etc/passwd"], [*GOOD, "/tmp/x.har"], [*GOOD, "--filter", "x"],
    [*GOOD, "@/etc/shadow"], [*GOOD, "--show-secrets=yes"],
])  # fmt: skip
def test_arguments_outside_the_schema_are_refused(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        helper_main._parser().parse_args(argv)
    assert exc.value.code == 2


def test_schema_accepts_exactly_its_options() -> None:
    args = helper_main._parser().parse_args(
        ["--pid", "1", "--pid", "4194304", "--body-limit", "65536", "--ring-kib", "64",
         "--show-secrets"])
    assert vars(args) == {"pid": [1, 4194304], "body_limit": 65536, "ring_kib": 64,
                          "show_secrets": True}


def test_body_limit_zero_means_headers_only() -> None:
    args = helper_main._parser().parse_args([*GOOD, "--body-limit", "0"])
    assert args.body_limit == 0


def test_defaults_are_the_shared_options() -> None:
    args = helper_main._parser().parse_args(GOOD)
    assert (args.body_limit, args.ring_kib) == (DEFAULT_BODY_LIMIT, DEFAULT_RING_KIB)


class _FakeCapture(Capture):
    """Attaches at once, runs until asked to stop; records what it was given."""

    instances: ClassVar[list[_FakeCapture]] = []

    def __init__(self, pids, options) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.pids, self.options = pids, options
        _FakeCapture.instances.append(self)

    def attach(self) -> None:
        pass

    def _run(self) -> None:
        self._pause(None)


class _Stdin:
    def __init__(self, fd: int) -> None:
        self.buffer = os.fdopen(fd, "rb", buffering=0)


@pytest.fixture
def fake_engine(monkeypatch):  # type: ignore[no-untyped-def]
    import httptap.engine.inprocess as inprocess

    monkeypatch.setattr(inprocess, "InProcessCapture", _FakeCapture)
    _FakeCapture.instances.clear()
    monkeypatch.setattr(helper_main.signal, "signal", lambda *a: None)  # not main thread
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setattr(helper_main, "_EXIT_GRACE", None)  # the real one os._exit()s
    r, w = os.pipe()
    monkeypatch.setattr(sys, "stdin", _Stdin(r))
    return w


def _run_main(argv: list[str]) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(helper_main.main(argv)), daemon=True)
    t.start()
    return t, result


def test_exits_when_stdin_closes(fake_engine: int) -> None:
    t, result = _run_main(["--pid", str(os.getpid())])
    time.sleep(0.3)
    assert t.is_alive(), "the helper must run while its stdin is open"
    started = time.monotonic()
    os.close(fake_engine)
    t.join(2)
    assert not t.is_alive() and result == [0]
    assert time.monotonic() - started < 1.0
    assert _FakeCapture.instances[0].options.show_secrets is False  # masked unless told


def test_stdin_closed_during_attach_still_exits(fake_engine: int) -> None:
    os.close(fake_engine)
    t, result = _run_main(["--pid", str(os.getpid())])
    t.join(2)
    assert not t.is_alive() and result == [0]


def test_opens_no_file_for_writing_and_none_named_by_the_caller(fake_engine: int) -> None:
    opened: list[tuple[str, str]] = []
    watching = threading.Event()

    def hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
        if watching.is_set() and event == "open" and isinstance(args[0], str):
            opened.append((args[0], str(args[1])))

    sys.addaudithook(hook)  # audit hooks cannot be removed: gated by ``watching``
    watching.set()
    try:
        t, _ = _run_main(["--pid", str(os.getpid()), "--body-limit", "1000"])
        time.sleep(0.2)
        os.close(fake_engine)
        t.join(2)
    finally:
        watching.clear()
    assert not [p for p, mode in opened if any(c in mode for c in "wax+")]
    assert all(p.startswith(("/proc/", "/sys/", "/usr/", "/work/", "/etc/")) for p, _ in opened)


def test_under_sudo_other_users_processes_are_refused(
    fake_engine: int, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SUDO_UID", "12345")  # pid 1 is root's, not user 12345's
    assert helper_main.main(["--pid", "1"]) == 2
    out = capsys.readouterr().out
    assert '"type":"error"' in out and "another user" in out
    assert not _FakeCapture.instances


def test_under_sudo_own_processes_are_allowed(fake_engine: int, monkeypatch) -> None:
    monkeypatch.setenv("SUDO_UID", str(os.getuid()) if os.getuid() else "12345")
    if os.getuid() == 0:
        monkeypatch.setattr(helper_main, "_process_uid", lambda pid: 12345)
    os.close(fake_engine)
    assert helper_main.main(["--pid", str(os.getpid())]) == 0


def test_bcc_environment_is_dropped(fake_engine: int, monkeypatch) -> None:
    monkeypatch.setenv("BCC_KERNEL_SOURCE", "/home/mallory/headers")
    monkeypatch.setenv("BCC_SYMFS", "/home/mallory")
    os.close(fake_engine)
    helper_main.main(["--pid", str(os.getpid())])
    assert "BCC_KERNEL_SOURCE" not in os.environ and "BCC_SYMFS" not in os.environ


def test_root_ignores_an_untrusted_httptap_helper(monkeypatch, tmp_path) -> None:
    evil = tmp_path / "evil"
    evil.write_text("#!/bin/sh\n")
    evil.chmod(0o777)
    monkeypatch.setattr(helper_client.os, "geteuid", lambda: 0)
    monkeypatch.setenv("HTTPTAP_HELPER", str(evil))
    assert helper_client.helper_command()[0] != str(evil)
    monkeypatch.setenv("HTTPTAP_HELPER", "relative/helper")
    assert helper_client.helper_command()[0] != "relative/helper"


def test_root_honours_a_root_owned_httptap_helper(monkeypatch) -> None:
    if os.stat("/usr/bin/true").st_uid != 0:
        pytest.skip("/usr/bin/true is not root's")
    monkeypatch.setattr(helper_client.os, "geteuid", lambda: 0)
    monkeypatch.setenv("HTTPTAP_HELPER", "/usr/bin/true")
    assert helper_client.helper_command() == ["/usr/bin/true"]


def test_unprivileged_front_end_uses_httptap_helper_through_sudo(monkeypatch) -> None:
    monkeypatch.setattr(helper_client.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HTTPTAP_HELPER", "/opt/httptap/bin/httptap-helper")
    assert helper_client.helper_command() == ["/opt/httptap/bin/httptap-helper"]
