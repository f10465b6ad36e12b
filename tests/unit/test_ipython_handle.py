"""The handle ``%httptap`` returns, its table, exports and privilege handling (no IPython)."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import time
from pathlib import Path

import pytest
from httptap.ipython_ext import privilege
from httptap.ipython_ext.errors import AttachError
from httptap.ipython_ext.handle import CaptureHandle
from httptap.ipython_ext.live import LiveView
from httptap.ipython_ext.table import build_table, render_text
from rich.console import Console

from httptap.engine.api import CaptureError, CaptureOptions
from httptap.engine.replay import ReplayCapture
from httptap.filter import FilterError, compile_filter
from httptap.records import ProcessExit

from .test_ipython_fakes import FakeCapture, completed, exchange, pending, wait_until


def replay(*statuses: int, **kw: object) -> CaptureHandle:
    """A finished handle holding one exchange per status."""
    exchanges = [exchange(i, status=s) for i, s in enumerate(statuses)]
    handle = CaptureHandle(ReplayCapture(exchanges).start(), [4242], **kw).start()  # type: ignore[arg-type]
    assert handle.wait(5)
    return handle


def test_status_colours_in_the_rendered_table() -> None:
    rows = [exchange(1, status=200), exchange(2, status=301), exchange(3, status=404),
            exchange(4, status=503), exchange(5, status=None), exchange(6, status=101),
            exchange(7, status=None)]
    text = render_text(build_table(rows, pending={"ex5"}), width=120, color=True)
    lines = {line.split("/items/")[1][:1]: line for line in text.splitlines() if "/items/" in line}
    assert re.search(r"\x1b\[32m *200", lines["1"])  # green
    assert re.search(r"\x1b\[36m *301", lines["2"])  # cyan
    assert re.search(r"\x1b\[33m *404", lines["3"])  # yellow
    assert re.search(r"\x1b\[1;31m *503", lines["4"])  # bold red
    assert re.search(r"\x1b\[2;3m *\(pending\)", lines["5"])  # dim italic
    assert re.search(r"\x1b\[35m *101", lines["6"])  # magenta, as in the terminal UI
    assert re.search(r"\x1b\[31m *---", lines["7"])  # red: ended without an answer


def test_table_rows_columns_and_cut() -> None:
    handle = replay(*([200] * 30))
    text = repr(handle.table(n=5))
    assert "… 25 earlier exchange(s) not shown" in text
    assert text.count("http://127.0.0.1:8080/items/") == 5
    assert "/items/29" in text and "/items/24" not in text
    header = next(line for line in text.splitlines() if "method" in line)
    assert header.split() == ["time", "pid", "method", "url", "status", "latency", "size"]
    assert "12 ms" in text and "12B" in text
    html = handle.table()._repr_html_()
    assert html.startswith("<pre") and "/items/29" in html and "color" in html


def test_pending_row_completes_in_place() -> None:
    cap = FakeCapture()
    handle = CaptureHandle(cap.start(), cap.pids).start()
    cap.feed(completed(0), pending(1), completed(2))
    assert wait_until(lambda: len(handle.exchanges) == 2)
    lines = [ln for ln in repr(handle.table()).splitlines() if "/items/" in ln]
    assert ["(pending)" in ln for ln in lines] == [False, True, False]
    assert [e.id for e in handle.pending] == ["ex1"]
    cap.feed(completed(1, status=418))
    assert wait_until(lambda: len(handle.exchanges) == 3)
    lines = [ln for ln in repr(handle.table()).splitlines() if "/items/" in ln]
    assert "418" in lines[1] and "(pending)" not in lines[1]  # same row, now complete
    assert handle.pending == []
    assert [e.id for e in handle.exchanges] == ["ex0", "ex2", "ex1"]  # completion order
    handle.stop()


def test_filter_applies_to_rows_and_method() -> None:
    cap = FakeCapture()
    handle = CaptureHandle(cap.start(), cap.pids, filter=compile_filter("method=POST")).start()
    cap.feed(pending(1, method="POST"), pending(2), completed(3), completed(4, method="POST"))
    assert wait_until(lambda: len(handle.exchanges) == 1 and len(handle.pending) == 1)
    assert [e.id for e in handle.pending] == ["ex1"]
    cap.feed(completed(5, method="POST", status=500))
    assert wait_until(lambda: len(handle.exchanges) == 2)
    assert [e.status for e in handle.filter("status>=500")] == [500]
    with pytest.raises(FilterError) as err:
        handle.filter("status>>1")
    assert "^" in str(err.value)
    assert "filter: method=POST" in handle.summary()
    handle.stop()


def test_keep_bounds_memory_and_counts_the_dropped() -> None:
    handle = replay(*([200] * 12), keep=5)
    assert [e.id for e in handle.exchanges] == [f"ex{i}" for i in range(7, 12)]
    assert handle.dropped == 7
    assert "12 exchange(s)" in handle.summary() and "7 oldest dropped" in handle.summary()


def test_to_har_is_valid_json_with_entries(tmp_path: Path) -> None:
    handle = replay(200, 404, 500)
    path = handle.to_har(tmp_path / "x.har")
    doc = json.loads(path.read_text())
    entries = doc["log"]["entries"]
    assert doc["log"]["version"] == "1.2"
    assert [e["response"]["status"] for e in entries] == [200, 404, 500]
    assert entries[0]["request"]["url"] == "http://127.0.0.1:8080/items/0"
    with pytest.raises(FileExistsError):
        handle.to_har(path)
    handle.to_har(path, force=True)


def test_to_jsonl_writes_contract_lines(tmp_path: Path) -> None:
    handle = replay(200, 201)
    path = handle.to_jsonl(tmp_path / "x.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(d["v"], d["status"], d["method"]) for d in lines] == [(1, 200, "GET"), (1, 201, "GET")]
    assert lines[1]["url"] == "http://127.0.0.1:8080/items/1"


def test_pending_exports_only_when_asked(tmp_path: Path) -> None:
    cap = FakeCapture()
    handle = CaptureHandle(cap.start(), cap.pids).start()
    cap.feed(completed(0), pending(1))
    assert wait_until(lambda: len(handle.pending) == 1)
    both = handle.to_har(tmp_path / "p.har", pending=True)
    statuses = [e["response"]["status"] for e in json.loads(both.read_text())["log"]["entries"]]
    assert statuses == [200, 0]  # HAR's status 0: no answer yet
    assert len(handle.to_jsonl(tmp_path / "c.jsonl").read_text().splitlines()) == 1
    handle.stop()


def test_to_dataframe_without_pandas_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    handle = replay(200)
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match="needs pandas"):
        handle.to_dataframe()


def test_to_dataframe_with_pandas() -> None:
    pytest.importorskip("pandas")
    df = replay(200, 500).to_dataframe()
    assert list(df["status"]) == [200, 500]
    assert {"url", "duration_ms", "exchange"} <= set(df.columns)


def test_stats_repr_and_process_exit() -> None:
    cap = FakeCapture()
    handle = CaptureHandle(cap.start(), cap.pids, number=3).start()
    cap.feed(completed(1), completed(2))
    cap.exit()
    assert handle.wait(5)
    assert handle.stats.exchanges == 2 and handle.stats.bytes == 200
    assert not handle.running
    assert "ended (process exited)" in handle.summary() and "PID 4242 exited" in handle.summary()
    assert repr(handle).startswith("<httptap #3 · PID 4242: ended (process exited)")
    html = handle._repr_html_()
    assert "httptap #3" in html and ".to_har(path)" in html
    handle.stop()  # idempotent after the end


def test_exited_children_are_counted_not_listed() -> None:
    """A shell that forks curl 80 times: the status says so in one bounded line."""
    cap = FakeCapture()
    handle = CaptureHandle(cap.start(), cap.pids).start()
    children = list(range(5000, 5080))
    cap.feed(*[ProcessExit(pid, remaining=1) for pid in children])
    assert wait_until(lambda: len(handle.exited) == 80)
    summary = handle.summary()
    assert "80 child processes exited" in summary and "tracing PID 4242" in summary
    assert "5000" not in summary and "5079" not in summary
    assert len(repr(handle)) < 160 and "5042" not in handle.rich_table().caption
    assert handle.exited == children  # the full list stays available
    cap.feed(ProcessExit(5080, remaining=3))  # two more children run: counted, not named
    assert wait_until(lambda: "81 child processes exited" in handle.summary())
    assert "tracing PIDs 4242 and 2 more" in handle.summary()
    handle.stop()


def test_live_view_rate_limit_and_end() -> None:
    cap = FakeCapture()
    handle = CaptureHandle(cap.start(), cap.pids, count=40).start()
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100, height=30, color_system=None)
    view = LiveView(handle, console=console, refresh_per_second=10)

    def traffic() -> None:
        for i in range(40):  # 40 changes in ~0.4 s
            cap.feed(completed(i))
            time.sleep(0.01)

    threading.Thread(target=traffic, daemon=True).start()
    started = time.monotonic()
    assert view.run() == "ended"  # --count reached: it gives the terminal back by itself
    elapsed = time.monotonic() - started
    assert view.frames <= elapsed * 10 + 3  # at most ~10 redraws a second
    assert view.rows() == 23
    out = buf.getvalue()
    assert "/items/39" in out and "ended (--count 40)" in out


def test_attach_error_renders_without_traceback() -> None:
    err = AttachError("no process with PID 5", "check the PID\nor try again")
    assert err._render_traceback_() == [
        "httptap: no process with PID 5", "httptap: check the PID", "httptap: or try again",
    ]


# -- privileges: sudo password in a terminal, the sudoers line in Jupyter ------------------------


@pytest.fixture
def unprivileged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privilege.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(privilege.shutil, "which", lambda name: f"/usr/bin/{name}")


def _refusing_once(calls: list[int]):  # type: ignore[no-untyped-def]
    def opener(pids, options):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise CaptureError("the helper exited before attaching: sudo: a password is required",
                               "sudo must allow httptap-helper without a password (README)")
        return FakeCapture(pids).start()
    return opener


def test_jupyter_gets_the_sudoers_line(unprivileged: None) -> None:
    calls: list[int] = []
    with pytest.raises(CaptureError) as err:
        privilege.open_with_privileges([1], CaptureOptions(), can_prompt=False,
                                       opener=_refusing_once(calls))
    assert "NOPASSWD:" in err.value.remedy and "ALL=(root)" in err.value.remedy
    assert calls == [1]


def test_terminal_asks_for_the_sudo_password(unprivileged: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    given: list[str] = []
    monkeypatch.setattr(privilege, "_sudo_validate", lambda pw: given.append(pw) or True)
    cap = privilege.open_with_privileges([1], CaptureOptions(), can_prompt=True,
                                         opener=_refusing_once(calls), ask=lambda prompt: "pw")
    assert given == ["pw"] and calls == [1, 1]
    cap.stop()


def test_other_attach_errors_pass_through(unprivileged: None) -> None:
    def opener(pids, options):  # type: ignore[no-untyped-def]
        raise CaptureError("no process with PID 1", "check the PID")

    with pytest.raises(CaptureError, match="no process") as err:
        privilege.open_with_privileges([1], CaptureOptions(), can_prompt=True, opener=opener,
                                       ask=lambda prompt: pytest.fail("asked"))
    assert err.value.remedy == "check the PID"


def test_notes_column_or_marker_by_width() -> None:
    noted = exchange(1, status=503)
    noted.notes.append("joined mid-connection")
    wide = render_text(build_table([noted, exchange(2)], width=140), width=140)
    assert "notes" in wide.splitlines()[0] and "joined mid-connection" in wide
    narrow = render_text(build_table([noted, exchange(2)], width=80), width=80)
    assert "notes" not in narrow and "503!" in narrow
    assert "http://127.0.0.1:8080/items/1" in narrow  # the URL keeps its room
