"""The terminal UI driven by Textual's Pilot over a fake capture (records the test controls)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import queue
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from httptap.engine.api import Capture
from httptap.engine.replay import ReplayCapture
from httptap.export.har import HarWriter
from httptap.export.session import load_session
from httptap.model import (
    Body,
    Connection,
    Exchange,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)
from httptap.records import Completed, Error, Lost, Pending, ProcessExit, Ready, Record, Stats
from httptap.ui.app import FLUSH_HZ, HttptapApp
from httptap.ui.body_view import BodyView
from httptap.ui.detail import DetailScreen
from httptap.ui.prompt import PathPrompt

# -- helpers (also used by the live test) -------------------------------------------------


class FakeCapture(Capture):
    """A capture whose records the test pushes; ``end()`` ends it like a target exiting."""

    def __init__(self) -> None:
        super().__init__()
        self._inbox: queue.SimpleQueue[list[Record] | None] = queue.SimpleQueue()

    def push(self, *records: Record) -> None:
        self._inbox.put(list(records))

    def end(self) -> None:
        self._inbox.put(None)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._inbox.get(timeout=0.02)
            except queue.Empty:
                continue
            if batch is None:
                return
            self._emit(batch)


def make_exchange(
    i: int,
    *,
    status: int | None = 200,
    complete: bool = True,
    method: str = "GET",
    host: str = "api.test",
    path: str | None = None,
    resp_headers: list[tuple[str, str]] | None = None,
    resp_body: bytes = b"ok",
    req_body: bytes = b"",
    tls: bool = False,
) -> Exchange:
    has_response = status is not None
    return Exchange(
        id=str(i),
        connection=Connection(pid=4242, tid=4243, fd=7, local="127.0.0.1:50000",
                              remote="10.1.2.3:443", role=Role.CLIENT, tls=tls,
                              protocol=Proto.HTTP1, comm="python3"),
        request=Request(method=method, authority=host, path=path or f"/v1/items/{i}",
                        headers=[("Host", host), ("User-Agent", "test/1.0")],
                        body=Body(req_body, len(req_body))),
        response=Response(status=status, reason="OK",
                          headers=resp_headers or [("Content-Type", "text/plain")],
                          body=Body(resp_body, len(resp_body)),
                          trailers=[("x-checksum", "abc")]) if has_response else None,
        timings=Timings(1_000_000, 1_100_000, 2_000_000 if has_response else None,
                        2_500_000 if complete else None),
        complete=complete,
        wall_start=time.time(),
    )


def screen_text(app: HttptapApp) -> str:
    """What the terminal shows now, as plain text (one line per row)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def wait_for(pilot: Pilot[Any], pred: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)
    await pilot.pause()


def run(
    body: Callable[[Pilot[Any], HttptapApp, FakeCapture], Awaitable[None]],
    *,
    size: tuple[int, int] = (80, 24),
    capture: Capture | None = None,
    **app_kw: Any,
) -> HttptapApp:
    """Run ``body(pilot, app, capture)`` inside a headless app of ``size``."""
    cap = capture or FakeCapture()

    async def main() -> None:
        app = HttptapApp(cap.start(), title="PID 4242 (python3)", **app_kw)
        app.animation_level = "none"  # tab underlines would animate for 0.3 s per switch
        holder.append(app)
        async with app.run_test(size=size) as pilot:
            await body(pilot, app, cap)  # type: ignore[arg-type]

    holder: list[HttptapApp] = []
    try:
        asyncio.run(_coro(main()))
    finally:
        cap.stop()
    return holder[0]


def _coro(aw: Coroutine[Any, Any, None]) -> Coroutine[Any, Any, None]:
    return aw


# -- the list ------------------------------------------------------------------------------


def test_exited_children_are_counted_not_announced_one_by_one():
    async def body(pilot, app, cap):
        cap.push(Ready([4242], "attached to PID 4242"))
        cap.push(*[ProcessExit(5000 + i, remaining=1) for i in range(80)])
        await wait_for(pilot, lambda: len(app.capture_state.exited) == 80)
        app._update_status()
        await pilot.pause()
        assert not [n for n in app._notifications if "exited" in n.message]
        assert "80 exited" in screen_text(app)
        cap.push(ProcessExit(4242, remaining=0))  # the target itself: said
        await wait_for(pilot, lambda: any("process 4242 exited" in n.message
                                          for n in app._notifications))
    run(body)


def test_rows_appear_and_pending_rows_complete_in_place():
    async def body(pilot, app, cap):
        cap.push(Ready([4242], "attached to PID 4242"),
                 Completed(make_exchange(1, status=200)),
                 Pending(make_exchange(2, status=None, complete=False, path="/slow")),
                 Completed(make_exchange(3, status=404)))
        await wait_for(pilot, lambda: len(app.store) == 3)
        text = screen_text(app)
        assert "Host/path" in text and "Latency" in text
        rows = [line for line in text.splitlines() if "api.test" in line]
        assert len(rows) == 3
        assert "/slow" in rows[1] and "pending" in rows[1] and "···" in rows[1]
        assert " 404 " in rows[2]
        assert "3/3" in text
        cap.push(Completed(make_exchange(2, status=503, path="/slow")))
        await wait_for(pilot, lambda: app.store.get("2").complete)
        rows = [line for line in screen_text(app).splitlines() if "api.test" in line]
        assert len(rows) == 3 and "/slow" in rows[1] and " 503 " in rows[1]
        assert "pending" not in rows[1]

    run(body)


def test_follow_tail_until_the_user_moves_up():
    async def body(pilot, app, cap):
        cap.push(*[Completed(make_exchange(i)) for i in range(50)])
        await wait_for(pilot, lambda: len(app.store) == 50)
        lst = app.exchange_list
        assert lst.follow and lst.cursor == 49
        assert "/v1/items/49" in screen_text(app)
        await pilot.press("up", "up")
        assert not lst.follow and lst.selected.id == "47"
        assert "follow off" in screen_text(app)
        cap.push(*[Completed(make_exchange(i)) for i in range(50, 60)])
        await wait_for(pilot, lambda: len(app.store) == 60)
        assert lst.selected.id == "47" and "/v1/items/59" not in screen_text(app)
        await pilot.press("f")
        assert lst.follow and lst.selected.id == "59"
        assert "/v1/items/59" in screen_text(app)

    run(body)


def test_selection_stays_while_old_rows_are_dropped():
    async def body(pilot, app, cap):
        cap.push(*[Completed(make_exchange(i)) for i in range(20)])
        await wait_for(pilot, lambda: len(app.store) == 20)
        await pilot.press("up", "up", "up", "up", "up")
        lst = app.exchange_list
        assert lst.selected.id == "14" and not lst.follow
        cap.push(*[Completed(make_exchange(i)) for i in range(20, 40)])
        await wait_for(pilot, lambda: app.store.dropped == 10)
        assert lst.selected.id == "14" and lst.cursor == 4
        assert "/v1/items/14" in screen_text(app)

    run(body, history=30)


def test_filter_narrows_and_bad_filter_shows_a_caret():
    async def body(pilot, app, cap):
        cap.push(*[Completed(make_exchange(i, status=200 if i % 3 else 500))
                   for i in range(9)])
        await wait_for(pilot, lambda: len(app.store) == 9)
        await pilot.press("slash")
        bar = app.filter_bar
        assert bar.is_open
        await pilot.press(*"status>=")
        assert "^" in bar.error_text and "expected" in bar.error_text
        lines = screen_text(app).splitlines()
        at = next(i for i, ln in enumerate(lines) if "bad filter: status>=" in ln)
        # the caret under the column after "status>=", as the screen shows it
        assert lines[at + 1].index("^") == lines[at].index("status>=") + len("status>=")
        await pilot.press("enter")  # a bad filter is not applied, the bar stays
        assert bar.is_open and app.store.shown == 9
        bar.query_one(Input).value = "status>=500"
        await pilot.press("enter")
        assert not bar.is_open and app.store.shown == 3
        assert {e.ex.status for e in app.store.view} == {500}
        text = screen_text(app)
        assert "3/9" in text and "filter: status>=500" in text
        # new records are filtered as they arrive
        cap.push(Completed(make_exchange(20, status=500)), Completed(make_exchange(21)))
        await wait_for(pilot, lambda: len(app.store) == 11)
        assert app.store.shown == 4
        await pilot.press("slash")
        bar.query_one(Input).value = ""
        await pilot.press("enter")
        assert app.store.shown == 11 and "filter:" not in screen_text(app)

    run(body)


def test_bad_initial_filter_opens_the_prompt_with_the_error():
    async def body(pilot, app, cap):
        await pilot.pause()
        assert app.filter_bar.is_open and "^" in app.filter_bar.error_text
        assert app.filter_text == ""

    run(body, filter_text="status>>1")


def test_pause_holds_rows_and_clear_empties():
    async def body(pilot, app, cap):
        cap.push(Completed(make_exchange(1)), Pending(make_exchange(2, status=None,
                                                                    complete=False)))
        await wait_for(pilot, lambda: len(app.store) == 2)
        await pilot.press("p")
        assert "PAUSED" in screen_text(app)
        cap.push(Completed(make_exchange(3)), Completed(make_exchange(2)))
        await wait_for(pilot, lambda: app.store.held == 1 and app.store.get("2").complete)
        assert len(app.store) == 2  # 2 was updated in place, 3 is held
        assert "/v1/items/3" not in screen_text(app)
        await pilot.press("p")
        assert len(app.store) == 3 and "/v1/items/3" in screen_text(app)
        await pilot.press("c")
        assert len(app.store) == 0 and "0/0" in screen_text(app)

    run(body)


def test_history_limit_drops_the_oldest_and_says_so():
    async def body(pilot, app, cap):
        cap.push(*[Completed(make_exchange(i)) for i in range(250)])
        await wait_for(pilot, lambda: app.store.dropped == 150)
        assert len(app.store) == 100 and app.store.view[0].ex.id == "150"
        assert "dropped 150" in screen_text(app)

    run(body, history=100)


def test_a_thousand_rows_are_one_batched_update():
    timing: dict[str, float] = {}

    async def body(pilot, app, cap):
        await pilot.pause()
        before = app.flushes
        batch = [Completed(make_exchange(i)) for i in range(1000)]
        start = time.perf_counter()
        cap.push(*batch)
        await wait_for(pilot, lambda: len(app.store) == 1000)
        timing["ms"] = (time.perf_counter() - start) * 1000
        # One update as a rule; two if the reader thread was descheduled mid-burst.
        assert app.flushes - before <= 2
        assert app.exchange_list.cursor == 999 and "/v1/items/999" in screen_text(app)

    run(body)
    print(f"1000 rows shown {timing['ms']:.1f} ms after the engine emitted them")
    assert timing["ms"] < 1000


def test_a_steady_stream_is_batched():
    """1000 records/s from the engine thread give at most FLUSH_HZ screen updates a second."""
    total = 600

    class Streaming(FakeCapture):
        def _run(self) -> None:
            n = 0
            start = time.monotonic()
            while not self._stop.is_set() and n < total:
                self._emit([Completed(make_exchange(n + k)) for k in range(5)])
                n += 5
                time.sleep(max(0.0, start + n / 1000 - time.monotonic()))

    async def body(pilot, app, cap):
        await wait_for(pilot, lambda: len(app.store) == total, timeout=10)
        assert app.flushes <= total / 1000 * FLUSH_HZ + 3

    run(body, capture=Streaming())


# -- status, end of capture ------------------------------------------------------------------


def test_lost_events_and_capture_end():
    async def body(pilot, app, cap):
        cap.push(Completed(make_exchange(1)), Lost(3), Stats(lost=2, exchanges=1))
        await wait_for(pilot, lambda: app.lost == 3)
        assert "lost 3" in screen_text(app)
        cap.end()
        await wait_for(pilot, lambda: app.state == "ended")
        assert "(ended)" in screen_text(app)
        await pilot.press("q")

    app = run(body)
    assert app.return_value == 0


def test_capture_error_before_any_exchange_exits_1():
    async def body(pilot, app, cap):
        cap.push(Error("cannot attach", "run as root"))
        cap.end()
        await wait_for(pilot, lambda: app.state == "error")
        await pilot.press("q")

    app = run(body)
    assert app.return_value == 1


def test_saved_session_opens_in_the_same_ui(tmp_path):
    path = tmp_path / "run.har"
    with HarWriter(path) as w:
        for i in range(5):
            w.add(make_exchange(i, status=200 + i))
    capture = ReplayCapture(load_session(path))

    async def body(pilot, app, cap):
        await wait_for(pilot, lambda: len(app.store) == 5 and app.state == "loaded")
        text = screen_text(app)
        assert "/v1/items/4" in text and "5/5" in text

    run(body, capture=capture)


# -- detail view ---------------------------------------------------------------------------


def _detail(app: HttptapApp) -> DetailScreen:
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    return screen


def test_detail_tabs_headers_bodies_timing_connection_notes():
    payload = json.dumps({"user": {"id": 7, "name": "Zoë"}, "ok": True}).encode()
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Encoding", "gzip")]
    ex = make_exchange(1, method="POST", req_body=bytes(range(64)),
                       resp_body=gzip.compress(payload), resp_headers=headers, tls=True)
    ex.notes.append("joined mid-connection")

    async def body(pilot, app, cap):
        cap.push(Completed(ex))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("enter")
        detail = _detail(app)
        text = screen_text(app)
        assert "POST https://api.test/v1/items/1 → 200 OK" in text
        assert "Request headers (2)" in text and "User-Agent: test/1.0" in text
        assert "Response headers (2)" in text and "Content-Encoding: gzip" in text
        assert "Response trailers (1)" in text and "x-checksum: abc" in text
        await pilot.press("3")
        text = screen_text(app)
        assert "gzip" in text and "shown as json" in text
        assert '"name": "Zoë"' in text and '  "user": {' in text
        await pilot.press("2")
        text = screen_text(app)
        assert "shown as hex" in text
        assert "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f" in text
        await pilot.press("4")
        text = screen_text(app)
        assert "Waiting (TTFB)" in text and "█" in text and "Total" in text
        await pilot.press("5")
        text = screen_text(app)
        assert "10.1.2.3:443" in text and "python3" in text and "client" in text
        await pilot.press("6")
        assert "joined mid-connection" in screen_text(app)
        assert detail.active_tab == "notes"
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)

    run(body)


def test_search_inside_a_body():
    lines = "\n".join(f"line {i} {'needle' if i % 10 == 0 else 'hay'}" for i in range(200))

    async def body(pilot, app, cap):
        cap.push(Completed(make_exchange(1, resp_body=lines.encode())))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("enter", "3", "slash")
        app.screen.query_one("#search", Input).value = "NEEDLE"
        await pilot.press("enter")
        view = app.screen.query_one("#response-body", BodyView)
        assert len(view.matches) == 20 and view.current == 0
        assert "1/20" in screen_text(app)
        await pilot.press("N")
        assert view.current == 19
        assert "line 190 needle" in screen_text(app)
        await pilot.press("n", "n")
        assert view.current == 1 and "2/20" in screen_text(app)

    run(body)


def test_open_detail_of_a_pending_exchange_updates_when_it_completes():
    async def body(pilot, app, cap):
        cap.push(Pending(make_exchange(1, status=None, complete=False)))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("enter")
        assert "(pending)" in screen_text(app)
        cap.push(Completed(make_exchange(1, status=201, resp_body=b"created")))
        await wait_for(pilot, lambda: _detail(app).exchange.complete)
        await pilot.press("3")
        text = screen_text(app)
        assert "→ 201 OK" in text and "created" in text

    run(body)


def test_pager_gets_the_decoded_body():
    seen: list[str] = []

    async def body(pilot, app, cap):
        cap.push(Completed(make_exchange(1, resp_body=b'{"a": [1, 2]}',
                                         resp_headers=[("Content-Type", "application/json")])))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("o")  # headless: no terminal to hand over, so a notice
        assert any("no terminal" in n.message for n in app._notifications)
        app.suspend = contextlib.nullcontext  # type: ignore[method-assign]

        def fake_pager(argv: list[str]) -> None:
            with open(argv[-1], encoding="utf-8") as fh:
                seen.append(fh.read())

        app.pager_runner = fake_pager
        await pilot.press("v")
        await pilot.press("enter", "3", "o")
        assert isinstance(app.screen, DetailScreen)

    run(body)
    assert len(seen) == 2 and seen[0] == seen[1] == '{\n  "a": [\n    1,\n    2\n  ]\n}\n'


def test_copy_as_curl_to_clipboard_and_file(tmp_path):
    async def body(pilot, app, cap):
        cap.push(Completed(make_exchange(1, method="POST", req_body=b"a=1")))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("y")
        path = tmp_path / "httptap-curl-1.sh"
        assert path.exists()
        command = path.read_text()
        assert "curl" in command and "--data-raw a=1" in command
        assert app.clipboard == command

    run(body, workdir=str(tmp_path))


# -- save ----------------------------------------------------------------------------------


def test_save_writes_the_shown_exchanges_as_har(tmp_path):
    async def body(pilot, app, cap):
        cap.push(*[Completed(make_exchange(i, status=200 if i % 2 else 404))
                   for i in range(6)])
        await wait_for(pilot, lambda: len(app.store) == 6)
        await pilot.press("slash")
        app.filter_bar.query_one(Input).value = "status=404"
        await pilot.press("enter")
        await pilot.press("s")
        assert isinstance(app.screen, PathPrompt)
        value = app.screen.query_one(Input).value
        assert os.path.basename(value).startswith("httptap-") and value.endswith(".har")
        app.screen.query_one(Input).value = str(tmp_path / "out.har")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: any("saved 3" in n.message for n in app._notifications))
        # the same name again asks before overwriting
        await pilot.press("s")
        app.screen.query_one(Input).value = str(tmp_path / "out.har")
        await pilot.press("enter")
        assert isinstance(app.screen, PathPrompt) and "exists" in screen_text(app)
        await pilot.press("escape")

    run(body, workdir=str(tmp_path))
    loaded = load_session(tmp_path / "out.har")
    assert [ex.id for ex in loaded] == ["0", "2", "4"]
    assert {ex.status for ex in loaded} == {404}


# -- sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_list_and_detail_render_at_size(size):
    width, height = size

    async def body(pilot, app, cap):
        cap.push(*[Completed(make_exchange(i, tls=i % 2 == 0, status=200 + 100 * (i % 4)))
                   for i in range(60)],
                 Pending(make_exchange(60, status=None, complete=False)))
        await wait_for(pilot, lambda: len(app.store) == 61)
        lines = screen_text(app).splitlines()
        assert len(lines) == height
        assert lines[0].startswith("Time") and "Size" in lines[0]
        if width >= 110:
            assert "Host" in lines[0] and "Path" in lines[0]
        assert "pending" in lines[height - 3]  # the newest row, above status and footer
        assert "PID 4242" in lines[-2] and "61/61" in lines[-2]
        assert "Filter" in lines[-1] and "Quit" in lines[-1]
        await pilot.press("enter", "4")  # every tab at 80x24: see the detail test
        lines = screen_text(app).splitlines()
        assert len(lines) == height and "Waiting (TTFB)" in screen_text(app)
        assert "Back" in lines[-1]

    run(body, size=size)
