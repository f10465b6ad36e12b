"""The language server's pieces without a server: figures, lens text, settings,
diagnostics, summaries, and how records change the capture state."""

from __future__ import annotations

from httptap.lsp.config import Settings
from httptap.lsp.diagnostics import diagnostics
from httptap.lsp.lenses import lens_title
from httptap.lsp.routes import ExchangeKey, find_targets
from httptap.lsp.state import ServerState
from httptap.lsp.summaries import detail, summary
from httptap.lsp.traffic import TargetTraffic, match, percentile
from lsprotocol import types

from httptap.filter import compile_filter
from httptap.records import Completed, Error, Pending, Ready, Stats
from httptap.store import History
from tests.unit.test_lsp_server import make_exchange

ROUTE = find_targets('@app.get("/users/<int:uid>")\ndef f(uid): ...\n')[0]


def _range(_t: object) -> types.Range:
    return types.Range(start=types.Position(line=0, character=0),
                       end=types.Position(line=0, character=1))


def _traffic(*specs: tuple[int | None, float, bool]) -> TargetTraffic:
    exs = [
        make_exchange(i, "GET", f"/users/{i}", status, ms, complete=complete)
        for i, (status, ms, complete) in enumerate(specs)
    ]
    return match([ROUTE], [(ExchangeKey.of(e), e) for e in exs])[0]


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    values = sorted(float(v) for v in range(1, 21))  # 1..20
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0
    assert percentile([1.0, 2.0], 50) == 1.0


def test_lens_title_counts_pending_and_unanswered() -> None:
    tt = _traffic((200, 8.0, True), (500, 40.0, True), (None, 0, False), (None, 3.0, True))
    assert lens_title(tt) == "GET ×4 · 200 ×1 500 ×1 no answer ×1 pending ×1 · p50 8.0 ms p95 40 ms"
    only_pending = _traffic((None, 0, False))
    assert lens_title(only_pending) == "GET ×1 · pending ×1"


def test_diagnostics_window() -> None:
    def diags(tt: TargetTraffic) -> list[str]:
        return [str(d.code) for d in diagnostics([tt], _range, window=3, slow_ms=100)]

    assert diags(_traffic((500, 1, True), (200, 1, True), (200, 1, True))) == ["http-5xx"]
    assert diags(_traffic((500, 1, True), (200, 1, True), (200, 1, True), (200, 1, True))) == []
    assert diags(_traffic((200, 150, True), (200, 1, True))) == ["slow"]
    assert diags(_traffic((503, 150, True))) == ["http-5xx"]  # 5xx wins over slow
    assert diags(_traffic((None, 0, False))) == []  # pending says nothing yet


def test_settings_update() -> None:
    s = Settings()
    assert s.update({"httptap": {"slowMs": 250, "historySize": 10, "hoverRows": True}}) == [
        "slow_ms", "history_size",
    ]
    assert (s.slow_ms, s.history_size, s.hover_rows) == (250.0, 10, 5)
    assert s.update({"diagnosticWindow": -1, "unknown": 3}) == []
    assert s.update(None) == [] and s.as_dict()["slowMs"] == 250.0


def test_state_applies_records_with_filter() -> None:
    state = ServerState(History(100))
    state.reset(42, compile_filter("not status<500"), None)
    pending = make_exchange(1, "GET", "/a", None, 0, complete=False)
    changed, notable = state.apply([Ready([42]), Pending(pending), Stats(events=9)])
    assert [e.id for e in changed] == ["ex1"]
    assert state.capture.ready and state.capture.totals.events == 9
    assert len(notable) == 1
    # its answer no longer passes the filter: it leaves the history
    changed, _ = state.apply([Completed(make_exchange(1, "GET", "/a", 200, 1.0))])
    assert changed == [] and "ex1" not in state.history and state.capture.filtered_out == 1
    state.apply([Completed(make_exchange(2, "GET", "/b", 502, 1.0)), Error("boom", "fix it")])
    d = state.describe()
    assert d["stored"] == 1 and d["exchanges"] == 2 and d["error"] == {
        "message": "boom", "remedy": "fix it",
    }


def test_summary_and_detail_of_pending_exchange() -> None:
    ex = make_exchange(7, "POST", "/orders", None, 0, complete=False)
    s = summary(ex)
    assert s["pending"] is True and s["status"] is None and s["latency_ms"] is None
    d = detail(ex)
    assert d["response"] is None and "(pending: no response yet)" in d["text"]


def test_detail_cuts_long_bodies() -> None:
    ex = make_exchange(8, "GET", "/big", 200, 1.0, body=b"a" * 5000)
    d = detail(ex, body_limit=100)
    assert len(d["response"]["body"]) == 100 and d["response"]["body_display_truncated"]
    assert d["response"]["body_size"] == 5000
