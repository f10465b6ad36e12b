"""``%httptap`` in a real IPython shell, over fake captures: arguments, views, lifecycle."""

from __future__ import annotations

import _thread
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httptap.ipython_ext import magic as magic_mod
from httptap.ipython_ext import notebook as notebook_mod
from httptap.ipython_ext.handle import CaptureHandle
from httptap.ipython_ext.magic import HttptapMagics, _in_kernel
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython

from httptap.engine.api import CaptureError
from httptap.options import DEFAULT_BODY_LIMIT

from .test_ipython_fakes import Opener, completed, pending, wait_until


def shell() -> Any:
    """IPython's test shell (a TerminalInteractiveShell; created on first use)."""
    from IPython import get_ipython

    return start_ipython() or get_ipython()


@pytest.fixture
def opener(monkeypatch: pytest.MonkeyPatch) -> Opener:
    fake = Opener()
    monkeypatch.setattr(magic_mod, "_open_capture", fake)
    return fake


@pytest.fixture
def ip(opener: Opener) -> Iterator[Any]:
    """The test shell with ``%load_ext httptap``; unloaded (captures stopped) afterwards."""
    sh = shell()
    sh.run_line_magic("load_ext", "httptap")
    yield sh
    sh.run_line_magic("unload_ext", "httptap")


def magics(ip: Any) -> HttptapMagics:
    return ip.magics_manager.registry["HttptapMagics"]


# -- arguments ---------------------------------------------------------------------------------


def test_help_is_generated_from_the_arguments(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    doc = ip.magics_manager.magics["line"]["httptap"].__doc__
    for option in ("--filter EXPR", "--duration SECONDS", "--count N", "--body-limit BYTES",
                   "--show-secrets", "--background", "--save", "list", "stop [PID]"):
        assert option in doc, option
    ip.run_cell("%httptap?")
    out = capsys.readouterr().out
    assert "%httptap [--filter EXPR]" in out and "--background" in out


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "give a PID"),
        ("--count 3", "required"),
        ("nonsense", "not a PID: 'nonsense'"),
        ("-5", "not a PID"),
        ("1234 --count 0", "not a positive number"),
        ("1234 --duration soon", "not a number of seconds"),
        ("1234 --body-limit lots", "not a size"),
        ("1234 --bogus", "unrecognized"),
        ("list 1234", "takes no arguments"),
        ("stop 1 2", "at most one PID"),
        ("show --filter status=200", "takes no --filter"),
    ],
)
def test_bad_arguments_raise_usage_error(ip: Any, opener: Opener, line: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        ip.run_line_magic("httptap", line)
    assert opener.captures == []  # nothing attached on bad input


def test_bad_filter_gives_the_caret_message(ip: Any, opener: Opener) -> None:
    with pytest.raises(UsageError) as err:
        ip.run_line_magic("httptap", "1234 --filter 'status>=oops'")
    # IPython prints it as "UsageError: <message>" (terminal and Jupyter alike)
    first, caret = f"UsageError: {err.value}".splitlines()[:2]
    assert first == "UsageError: bad filter: status>=oops"
    assert caret.index("^") == first.index("oops")
    assert opener.captures == []


def test_bad_filter_caret_as_the_shell_prints_it(
    ip: Any, opener: Opener, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell("%httptap 1234 --filter 'method=GET and status>=oops'")
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    first = next(i for i, ln in enumerate(lines) if "bad filter:" in ln)
    assert lines[first].startswith("UsageError: bad filter:")
    assert lines[first + 1].index("^") == lines[first].index("oops")
    assert opener.captures == []


def test_options_reach_the_engine(ip: Any, opener: Opener) -> None:
    cap = ip.run_line_magic("httptap", "11 12 11 --background --body-limit 1k --show-secrets")
    assert cap.pids == [11, 12]
    assert opener.options[-1].body_limit == 1024
    assert opener.options[-1].show_secrets is True


def test_body_limit_zero_keeps_headers_only(ip: Any, opener: Opener) -> None:
    ip.run_line_magic("httptap", "11 --background --body-limit 0")
    assert opener.options[-1].body_limit == 0


def test_body_limit_default_is_the_shared_one(ip: Any, opener: Opener) -> None:
    ip.run_line_magic("httptap", "11 --background")
    assert opener.options[-1].body_limit == DEFAULT_BODY_LIMIT


def test_attach_failure_is_a_clean_error(
    ip: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise CaptureError("no process with PID 999999", "check the PID with `ps`")

    monkeypatch.setattr(magic_mod, "_open_capture", refuse)
    har = tmp_path / "x.har"
    ip.run_cell(f"cap = %httptap 999999 --save {har}")
    err = capsys.readouterr()
    shown = err.out + err.err
    assert "httptap: no process with PID 999999" in shown
    assert "httptap: check the PID" in shown
    assert "Traceback" not in shown
    assert not har.exists()  # the empty HAR it had created is gone


def test_save_refuses_an_existing_file(ip: Any, tmp_path: Path) -> None:
    har = tmp_path / "x.har"
    har.write_text("keep me")
    with pytest.raises(UsageError, match="already exists; add --force"):
        ip.run_line_magic("httptap", f"1 --background --save {har}")
    assert har.read_text() == "keep me"


# -- background mode, the handle, several captures ---------------------------------------------


def test_background_capture_fills_the_handle(ip: Any, opener: Opener,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_cell("cap = %httptap 4242 --background --filter 'status>=400'")
    assert "capturing in the background" in capsys.readouterr().out
    cap: CaptureHandle = ip.user_ns["cap"]
    assert cap.running
    opener.last.feed(pending(1), completed(2, status=200), completed(3, status=503))
    opener.last.feed(completed(1, status=404))
    assert wait_until(lambda: len(cap.exchanges) == 2)
    assert [e.status for e in cap.exchanges] == [503, 404]
    assert cap.pending == []
    ip.run_cell("last = cap.exchanges[-1].response.body")
    assert ip.user_ns["last"].data == b'{"ok": true}'
    cap.stop()
    assert not cap.running and opener.last.stop_calls >= 1
    assert "stopped" in repr(cap)


def test_count_ends_the_capture(ip: Any, opener: Opener) -> None:
    cap = ip.run_line_magic("httptap", "4242 --background --count 3")
    opener.last.feed(*[completed(i) for i in range(5)])
    assert cap.wait(5)
    assert len(cap.exchanges) == 3
    assert "--count 3" in cap.summary()
    assert not opener.last.running  # the engine was told to stop


def test_duration_ends_the_capture(ip: Any, opener: Opener) -> None:
    started = time.monotonic()
    cap = ip.run_line_magic("httptap", "4242 --background --duration 0.3")
    assert cap.wait(5)
    assert 0.25 <= time.monotonic() - started < 2
    assert "--duration 0.3" in cap.state()


def test_save_writes_har_as_exchanges_complete(ip: Any, opener: Opener, tmp_path: Path) -> None:
    har = tmp_path / "run.har"
    cap = ip.run_line_magic("httptap", f"4242 --background --save {har}")
    opener.last.feed(completed(1), completed(2, status=500))
    assert wait_until(lambda: len(cap.exchanges) == 2)
    # valid after every add, before the capture ends
    assert len(json.loads(har.read_text())["log"]["entries"]) == 2
    cap.stop()
    doc = json.loads(har.read_text())
    assert [e["response"]["status"] for e in doc["log"]["entries"]] == [200, 500]


def test_list_show_stop_with_several_captures(ip: Any, opener: Opener,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    a = ip.run_line_magic("httptap", "111 --background")
    b = ip.run_line_magic("httptap", "222 --background --filter method=POST")
    opener.captures[0].feed(completed(1, pid=111))
    opener.captures[1].feed(completed(2, pid=222, method="POST"))
    assert wait_until(lambda: len(a.exchanges) == 1 and len(b.exchanges) == 1)
    capsys.readouterr()

    ip.run_line_magic("httptap", "list")
    out = capsys.readouterr().out
    assert "111" in out and "222" in out and "method=POST" in out and "running" in out

    ip.run_line_magic("httptap", "show 222")
    out = capsys.readouterr().out
    assert "httptap #2" in out and "/items/2" in out and "/items/1" not in out

    ip.run_line_magic("httptap", "stop 111")
    assert "#1" in capsys.readouterr().out
    assert not a.running and b.running

    ip.run_line_magic("httptap", "stop 111")
    assert "no running capture of PID 111" in capsys.readouterr().out
    ip.run_line_magic("httptap", "stop")
    assert not b.running


def test_unload_stops_everything_and_removes_the_magic(opener: Opener) -> None:
    sh = shell()
    sh.run_line_magic("load_ext", "httptap")
    caps = [sh.run_line_magic("httptap", f"{pid} --background") for pid in (1, 2, 3)]
    sh.run_line_magic("unload_ext", "httptap")
    assert all(not c.running for c in caps)
    assert all(not c.running for c in opener.captures)
    assert "httptap" not in sh.magics_manager.magics["line"]
    sh.run_line_magic("load_ext", "httptap")  # and it loads again
    assert "httptap" in sh.magics_manager.magics["line"]
    sh.run_line_magic("unload_ext", "httptap")


def test_interpreter_exit_detaches(opener: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    import httptap.ipython_ext as ext

    hooks: list[Any] = []
    monkeypatch.setattr(ext.atexit, "register", hooks.append)
    monkeypatch.setattr(ext.atexit, "unregister", hooks.remove)
    sh = shell()
    sh.run_line_magic("load_ext", "httptap")
    cap = sh.run_line_magic("httptap", "7 --background")
    (at_exit,) = hooks
    at_exit()  # what the interpreter (or the kernel) runs when it shuts down
    assert not cap.running and not opener.last.running
    sh.run_line_magic("unload_ext", "httptap")
    assert hooks == []


# -- terminal: the live table holds the prompt -------------------------------------------------


def test_terminal_live_view_until_ctrl_c_then_background(
    ip: Any, opener: Opener, capsys: pytest.CaptureFixture[str]
) -> None:
    # interrupt_main does nothing while SIGINT is ignored, as it is for a test run started
    # in the background by a non-interactive shell: Python's handler, as in a terminal.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _live_view_until_ctrl_c(ip, opener, capsys)
    finally:
        signal.signal(signal.SIGINT, previous)


def _live_view_until_ctrl_c(ip: Any, opener: Opener,
                            capsys: pytest.CaptureFixture[str]) -> None:
    def traffic_then_ctrl_c() -> None:
        assert wait_until(lambda: opener.captures)
        opener.last.feed(pending(1), completed(2))
        time.sleep(0.4)
        _thread.interrupt_main()  # what Ctrl-C does

    threading.Thread(target=traffic_then_ctrl_c, daemon=True).start()
    started = time.monotonic()
    cap = ip.run_line_magic("httptap", "4242")
    held = time.monotonic() - started
    assert held >= 0.35  # it held the prompt
    assert cap.running  # and the capture goes on
    captured = capsys.readouterr()
    assert "goes on in the background" in captured.err
    assert "/items/2" in captured.out and "(pending)" in captured.out
    opener.last.feed(completed(1))
    assert wait_until(lambda: len(cap.exchanges) == 2)
    cap.stop()


def test_terminal_live_view_returns_at_count(ip: Any, opener: Opener,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def traffic() -> None:
        assert wait_until(lambda: opener.captures)
        opener.last.feed(completed(1), completed(2, status=500))

    threading.Thread(target=traffic, daemon=True).start()
    cap = ip.run_line_magic("httptap", "4242 --count 2")
    assert not cap.running and len(cap.exchanges) == 2
    out = capsys.readouterr().out
    assert "/items/1" in out and "/items/2" in out and "--count 2" in out


# -- Jupyter: returns at once, updates a display handle from a thread --------------------------


class _FakeDisplayHandle:
    def __init__(self, first: Any) -> None:
        self.display_id = "d1"
        self.shown = [first]
        self.times = [time.monotonic()]

    def update(self, obj: Any) -> None:
        self.shown.append(obj)
        self.times.append(time.monotonic())


def test_jupyter_returns_at_once_and_updates_in_place(ip: Any, opener: Opener,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    handles: list[_FakeDisplayHandle] = []

    def fake_display(obj: Any, display_id: bool = False) -> _FakeDisplayHandle:
        assert display_id is True
        handles.append(_FakeDisplayHandle(obj))
        return handles[-1]

    monkeypatch.setattr(magic_mod, "_in_kernel", lambda shell: True)
    monkeypatch.setattr("IPython.display.display", fake_display)
    monkeypatch.setattr(notebook_mod, "MIN_INTERVAL", 0.2)
    # the fake capture yields nothing until fed below: returning here at all proves the magic
    # does not hold the cell the way the terminal's live table does
    cap = ip.run_line_magic("httptap", "4242")
    (dh,) = handles
    assert "(pending)" not in repr(dh.shown[0])

    opener.last.feed(pending(1))
    assert wait_until(lambda: "(pending)" in repr(dh.shown[-1]))
    for i in range(2, 20):  # a burst: coalesced by the rate limit
        opener.last.feed(completed(i))
    opener.last.feed(completed(1, status=201))
    assert wait_until(lambda: "201" in repr(dh.shown[-1]))
    last = repr(dh.shown[-1])
    assert "(pending)" not in last  # the pending row completed in place
    html = dh.shown[-1]._repr_html_()
    assert "<pre" in html and "201" in html
    gaps = [b - a for a, b in zip(dh.times[1:], dh.times[2:], strict=False)]
    assert all(g >= 0.15 for g in gaps), gaps
    assert len(dh.shown) < 15
    cap.stop()
    magics(ip).views[-1].join(2)
    assert "stopped" in repr(dh.shown[-1])


def test_in_kernel_detects_the_zmq_shell() -> None:
    class ZMQInteractiveShell:
        pass

    class Sub(ZMQInteractiveShell):
        pass

    assert _in_kernel(Sub())
    assert not _in_kernel(shell())
