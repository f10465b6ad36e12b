"""The UI's parts without a screen: the history and its view, columns, curl, status line,
rate."""

from __future__ import annotations

import shlex

from rich.cells import cell_len

from httptap.model import Body, Connection, Exchange, Proto, Request, Response, Timings
from httptap.records import Completed, Pending
from httptap.store import CaptureState, History
from httptap.ui.columns import header_segments, layout_for, row_segments
from httptap.ui.curl import curl_command, needs_body_file
from httptap.ui.rate import RateMeter
from httptap.ui.status_bar import Status, status_text
from httptap.ui.view import ExchangeView


def _ex(i: int, *, status: int | None = 200, complete: bool = True, path: str = "/") -> Exchange:
    return Exchange(
        id=str(i),
        connection=Connection(pid=100 + i),
        request=Request(method="GET", authority="h", path=path),
        response=Response(status=status) if status is not None else None,
        timings=Timings(0, 1, 2, 3 if complete else None),
        complete=complete,
    )


class _Store:
    """A history, the fold into it and the list's view, driven as the app drives them."""

    def __init__(self, history: int = 10_000, matcher=None) -> None:  # type: ignore[no-untyped-def]
        self.state = CaptureState(History(history))
        self.view = ExchangeView(self.state.history, matcher)  # type: ignore[arg-type]

    def put(self, ex: Exchange) -> None:
        done = self.state.apply([Completed(ex) if ex.complete else Pending(ex)])
        self.view.update(done.changed, done.removed)


def _ids(s: _Store | ExchangeView) -> list[str]:
    view = s.view if isinstance(s, _Store) else s
    return [e.ex.id for e in view.view]


# -- history and view ----------------------------------------------------------------------


def test_pending_completes_in_place():
    s = _Store()
    s.put(_ex(1))
    s.put(_ex(2, status=None, complete=False))
    s.put(_ex(3))
    s.put(_ex(2, status=503))
    assert _ids(s) == ["1", "2", "3"]
    assert s.view.get("2").status == 503
    s.put(_ex(2, status=None, complete=False))  # a stale Pending never undoes a completion
    assert s.view.get("2").status == 503


def test_history_drops_the_oldest_and_counts():
    s = _Store(history=3)
    for i in range(5):
        s.put(_ex(i))
    assert _ids(s) == ["2", "3", "4"] and s.view.dropped == 2 and len(s.view) == 3


def test_filter_is_reevaluated_when_an_exchange_completes():
    s = _Store(matcher=lambda ex: (ex.status or 0) >= 500)
    s.put(_ex(1, status=500))
    s.put(_ex(2, status=None, complete=False))
    s.put(_ex(3, status=502))
    assert _ids(s) == ["1", "3"]
    s.put(_ex(2, status=504))
    assert _ids(s) == ["1", "2", "3"]  # in arrival order, not at the end
    s.put(_ex(1, status=200))
    assert _ids(s) == ["2", "3"]
    s.view.set_matcher(None)
    assert _ids(s) == ["1", "2", "3"]


def test_eviction_cuts_the_view_too():
    s = _Store(history=2, matcher=lambda ex: ex.id != "1")
    done = s.state.apply([Completed(_ex(i)) for i in range(4)])  # one batch
    s.view.update(done.changed, done.removed)
    assert _ids(s) == ["2", "3"] and s.view.dropped == 2


def test_pause_holds_new_exchanges_and_updates_old_ones():
    s = _Store()
    s.put(_ex(1, status=None, complete=False))
    s.view.set_paused(True)
    s.put(_ex(2))
    s.put(_ex(1))
    assert _ids(s) == ["1"] and s.view.held == 1 and s.view.get("1").complete
    s.view.set_paused(False)
    assert _ids(s) == ["1", "2"] and s.view.held == 0


def test_clear_forgets_pending_ones_for_good():
    s = _Store()
    s.put(_ex(1, status=None, complete=False))
    s.put(_ex(2))
    s.view.clear()
    s.put(_ex(1))
    assert len(s.view) == 0
    s.put(_ex(3))
    assert _ids(s) == ["3"]


def test_positions_by_sequence():
    s = _Store(matcher=lambda ex: ex.id != "2")
    for i in range(1, 5):
        s.put(_ex(i))
    view = s.view
    assert view.index_of(view.view[1].seq) == 1
    assert view.index_of(2) is None and view.index_at_or_after(2) == 1


# -- columns -----------------------------------------------------------------------------


def test_rows_fill_the_width_exactly():
    ex = _ex(1, path="/" + "x" * 300)
    ex.connection.tls = True
    ex.connection.protocol = Proto.H2
    ex.notes.append("joined mid-connection")
    for width in (40, 80, 109, 110, 160, 250):
        layout = layout_for(width)
        row = row_segments(ex, layout)
        head = header_segments(layout)
        assert sum(cell_len(s.text) for s in row) == width
        assert sum(cell_len(s.text) for s in head) == width
        text = "".join(s.text for s in row)
        assert width < 80 or ("🔒h2" in text and "!" in text)
    assert layout_for(80).host == 0 and layout_for(160).host > 0


def test_pending_row_and_status_colours():
    layout = layout_for(80)
    text = "".join(s.text for s in row_segments(_ex(1, status=None, complete=False), layout))
    assert "···" in text and "pending" in text
    seg = next(s for s in row_segments(_ex(2, status=404), layout) if s.text.strip() == "404")
    assert seg.style.color.name == "yellow"
    seg = next(s for s in row_segments(_ex(3, status=500), layout) if s.text.strip() == "500")
    assert seg.style.color.name == "red"


# -- curl --------------------------------------------------------------------------------


def test_curl_repeats_the_request():
    ex = Exchange(
        id="9",
        connection=Connection(tls=True, protocol=Proto.H2),
        request=Request(method="PUT", authority="api.example.com", path="/v1/x?a=1",
                        headers=[(":method", "PUT"), ("content-type", "application/json"),
                                 ("content-length", "9"), ("authorization", "Bearer ****"),
                                 ("accept-encoding", "gzip")],
                        body=Body(b'{"a":"b"}', 9)),
    )
    cmd = curl_command(ex)
    assert cmd.startswith("# values shown as **** were masked")
    argv = shlex.split(cmd.split("\n", 1)[1].replace("\\\n", " "))
    assert argv[:4] == ["curl", "--http2", "-X", "PUT"]
    assert "https://api.example.com/v1/x?a=1" in argv
    assert argv[5:7] == ["-H", "content-type: application/json"]
    assert "content-length: 9" not in " ".join(argv) and ":method" not in " ".join(argv)
    assert "--compressed" in argv
    assert argv[-2:] == ["--data-raw", '{"a":"b"}']
    assert not needs_body_file(ex)


def test_curl_binary_body_goes_to_a_file():
    ex = _ex(1)
    ex.request.method = "POST"
    ex.request.body = Body(b"\x00\xff", 4, truncated=True)
    assert needs_body_file(ex)
    cmd = curl_command(ex, "/tmp/b.body")
    assert "truncated at capture" in cmd
    assert "--data-binary @/tmp/b.body" in cmd and "-X" not in cmd


# -- status line, rate -------------------------------------------------------------------


def test_status_line_shows_counts_and_lost_in_red():
    text = status_text(Status(target="PID 7", shown=3, total=10, rate=2.5, lost=4,
                              dropped=2, filter_text="status>=400", paused=True, held=1))
    plain = text.plain
    for part in ("PID 7", "3/10", "2.5 req/s", "lost 4", "dropped 2", "PAUSED (1 held)",
                 "filter: status>=400"):
        assert part in plain
    lost = next(s for s in text.spans if plain[s.start : s.end] == "lost 4")
    assert "red" in str(lost.style)
    quiet = status_text(Status(target="x"))
    assert next(s for s in quiet.spans if quiet.plain[s.start : s.end] == "lost 0").style == "dim"


def test_rate_meter_window():
    now = [100.0]
    meter = RateMeter(window=5.0, clock=lambda: now[0])
    now[0] = 110.0
    meter.add(50)
    assert meter.rate() == 10.0
    now[0] = 116.0
    assert meter.rate() == 0.0
