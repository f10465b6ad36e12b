"""Snapshot tests of the terminal UI (pytest-textual-snapshot): the list and the detail view
at 80x24 and 160x48.

The SVGs live in ``tests/unit/__snapshots__/test_tui_snapshots/``. After a deliberate change
to the UI, regenerate them with
``pytest tests/unit/test_tui_snapshots.py --snapshot-update`` and look at them before
committing; a failing run writes ``snapshot_report.html`` (old and new side by side).

Everything on screen is fixed: wall-clock times (``Exchange.wall_start``) shown in UTC, the
req/s rate from a frozen clock, the terminal size, the theme, no animations and no
notifications (no ``Ready`` record, the capture never ends). Records still travel through
the engine API and the UI's reader thread; the screenshot is taken only once all of them
are shown, so the machine's load does not matter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    GrpcMessage,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)
from httptap.records import Completed, Pending, Record
from httptap.ui.app import HttptapApp
from httptap.ui.detail import DetailScreen
from httptap.ui.rate import RateMeter
from tests.unit.test_tui_app import FakeCapture

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]

#: 2026-01-15 09:41:07 UTC; fractions of a second are exact in binary (stable milliseconds).
WALL = 1_768_470_067.0
#: Far longer than the wait needs on an idle machine: a loaded one must only be slower.
TIMEOUT = 60.0
MS = 1_000_000  # nanoseconds


@pytest.fixture(autouse=True)
def _fixed_environment(monkeypatch: pytest.MonkeyPatch):
    """Times in UTC (the UI formats with time.localtime) and colours on."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# -- the exchanges -------------------------------------------------------------------------


def _conn(*, tls: bool = False, protocol: Proto = Proto.HTTP1, fd: int = 7,
          remote: str = "10.1.2.3:80", port: int = 50000) -> Connection:
    return Connection(pid=4242, tid=4243, fd=fd, local=f"10.0.0.5:{port}", remote=remote,
                      role=Role.CLIENT, tls=tls, protocol=protocol, comm="python3")


def _timings(start_ms: float, ttfb_ms: float | None, total_ms: float | None) -> Timings:
    start = 5_000 * MS + int(start_ms * MS)
    return Timings(
        start,
        start + 100_000,
        None if ttfb_ms is None else start + int(ttfb_ms * MS),
        None if total_ms is None else start + int(total_ms * MS),
    )


def _h1(i: int, method: str, path: str, status: int | None, *, at: float,
        ttfb: float | None = None, total: float | None = None,
        body: bytes = b"", ctype: str = "text/plain", reason: str = "",
        host: str = "api.internal:8080") -> Exchange:
    """A plaintext HTTP/1.1 exchange; ``status=None``: pending, no response yet."""
    complete = status is not None
    response = None
    if status is not None:
        response = Response(status=status, reason=reason, headers=[
            ("Content-Type", ctype), ("Content-Length", str(len(body)))],
            body=Body(body, len(body)))
    return Exchange(
        id=str(i),
        connection=_conn(port=50000 + i),
        request=Request(method=method, authority=host, path=path,
                        headers=[("Host", host), ("User-Agent", "python-requests/2.32")]),
        response=response,
        timings=_timings(at * 1000, ttfb, total),
        complete=complete,
        wall_start=WALL + at,
    )


USER_JSON = json.dumps({
    "id": 7,
    "name": "Zoë Martin",
    "email": "zoe@example.com",
    "roles": ["admin", "ops"],
    "active": True,
    "quota": {"used": 1234, "limit": 5000},
    "last_login": None,
}, separators=(",", ":")).encode()


def _tls_json() -> Exchange:
    """HTTPS (h1 over TLS) with a JSON response: the row the detail view opens."""
    return Exchange(
        id="7",
        connection=_conn(tls=True, remote="93.184.215.14:443", fd=11, port=50107),
        request=Request(method="GET", scheme="https", authority="auth.example.com",
                        path="/v1/users/7?expand=quota",
                        headers=[("Host", "auth.example.com"),
                                 ("User-Agent", "python-requests/2.32"),
                                 ("Accept", "application/json"),
                                 ("Authorization", "Bearer ****")]),
        response=Response(status=200, reason="OK", headers=[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(USER_JSON))),
            ("Cache-Control", "no-store"),
            ("Date", "Thu, 15 Jan 2026 09:41:09 GMT"),
        ], body=Body(USER_JSON, len(USER_JSON))),
        timings=_timings(2_375, 38.5, 42.0),
        complete=True,
        wall_start=WALL + 2.375,
    )


def _h2() -> Exchange:
    body = b"x" * 48_213
    return Exchange(
        id="5",
        connection=_conn(tls=True, protocol=Proto.H2, remote="151.101.1.69:443", fd=9,
                         port=50105),
        request=Request(method="GET", scheme="https", authority="cdn.example.com",
                        path="/static/js/app.3f9c2e.js", http_version="2",
                        headers=[(":method", "GET"), (":path", "/static/js/app.3f9c2e.js"),
                                 ("accept-encoding", "gzip")]),
        response=Response(status=200, http_version="2",
                          headers=[(":status", "200"), ("content-type", "text/javascript")],
                          body=Body(body[:1024], len(body), truncated=True)),
        timings=_timings(1_250, 9.0, 12.3),
        stream_id=3,
        complete=True,
        wall_start=WALL + 1.25,
    )


def _grpc() -> Exchange:
    reply = b"\x0a\x06widget\x10\x03"
    headers = [("content-type", "application/grpc"), ("te", "trailers")]
    return Exchange(
        id="6",
        connection=_conn(protocol=Proto.H2, remote="10.1.2.9:50051", fd=10, port=50106),
        request=Request(method="POST", authority="inventory:50051",
                        path="/demo.Inventory/GetItem", http_version="2", headers=headers,
                        body=Body(b"\x00\x00\x00\x00\x02\x08\x2a", 7)),
        response=Response(status=200, http_version="2",
                          headers=[("content-type", "application/grpc")],
                          trailers=[("grpc-status", "0")],
                          body=Body(b"\x00\x00\x00\x00\x0a" + reply, 5 + len(reply))),
        timings=_timings(1_750, 2.9, 3.1),
        stream_id=1,
        grpc=GrpcCall(service="demo.Inventory", method="GetItem", status=0,
                      requests=[GrpcMessage(2, False, b"\x08\x2a")],
                      responses=[GrpcMessage(len(reply), False, reply)]),
        complete=True,
        wall_start=WALL + 1.75,
    )


def records() -> list[Record]:
    """Seven exchanges, oldest first: 200, 404, 500, a pending one, h2, gRPC, TLS+JSON."""
    return [
        Completed(_h1(1, "GET", "/health", 200, at=0.125, ttfb=1.5, total=1.8, body=b"ok",
                      reason="OK")),
        Completed(_h1(2, "GET", "/v1/items/999", 404, at=0.375, ttfb=0.6, total=0.65,
                      body=b'{"error":"not found"}', ctype="application/json",
                      reason="Not Found")),
        Completed(_h1(3, "POST", "/v1/orders", 500, at=0.5, ttfb=120.0, total=120.4,
                      body=b"Internal Server Error", reason="Internal Server Error")),
        Pending(_h1(4, "GET", "/v1/reports/slow?days=30", None, at=0.75)),
        Completed(_h2()),
        Completed(_grpc()),
        Completed(_tls_json()),
    ]


# -- running the app -------------------------------------------------------------------------


async def _wait_for(pilot: Pilot[Any], pred: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)
    await pilot.pause()


def _snapshot(snap_compare: Any, size: tuple[int, int], keys: tuple[str, ...] = (),
              tab: str | None = None) -> bool:
    """Screenshot the app once every record is shown and ``keys`` were pressed."""
    cap = FakeCapture()
    app = HttptapApp(cap.start(), title="PID 4242 (python3)")
    app.animation_level = "none"
    app.theme = "textual-dark"
    frozen = 1000.0
    app.rate = RateMeter(clock=lambda: frozen)  # N completed exchanges: "N.0 req/s"
    batch = records()

    async def run_before(pilot: Pilot[Any]) -> None:
        cap.push(*batch)
        await _wait_for(pilot, lambda: len(app.store) == len(batch))
        if keys:
            await pilot.press(*keys)
            await _wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                            and (tab is None or app.screen.active_tab == tab))

    try:
        return snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        cap.stop()


# -- the snapshots ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_list_view(snap_compare, size):
    """Seven rows: 200/404/500 in their colours, a pending row, h2 and gRPC, TLS (lock);
    the cursor follows the newest row; status bar with 7/7 and a fixed rate."""
    assert _snapshot(snap_compare, size)


@pytest.mark.parametrize("size", SIZES)
def test_detail_headers(snap_compare, size):
    """The detail view of the TLS exchange, Headers tab: general facts and headers."""
    assert _snapshot(snap_compare, size, ("enter",), "headers")


@pytest.mark.parametrize("size", SIZES)
def test_detail_response_json(snap_compare, size):
    """The detail view, Response tab: the JSON body pretty-printed."""
    assert _snapshot(snap_compare, size, ("enter", "3"), "response")
