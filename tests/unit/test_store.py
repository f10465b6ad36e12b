"""httptap.store: the bounded history and the one fold of records into capture state."""

from __future__ import annotations

import pytest

from httptap.filter import Filter, compile_filter
from httptap.model import Connection, Exchange, Message, Request, Response, Timings
from httptap.records import Completed, Error, Lost, Pending, ProcessExit, Ready, Stats
from httptap.records import Message as MessageRecord
from httptap.store import CaptureState, History


def _ex(i: int, *, status: int | None = 200, complete: bool = True) -> Exchange:
    return Exchange(
        id=str(i),
        connection=Connection(pid=100 + i),
        request=Request(method="GET", authority="h", path=f"/{i}"),
        response=Response(status=status) if status is not None else None,
        timings=Timings(0, 1, 2, 3 if complete else None),
        complete=complete,
    )


def _pending(i: int) -> Pending:
    return Pending(_ex(i, status=None, complete=False))


# -- History ---------------------------------------------------------------------------------


def test_history_completion_order_and_counts():
    h = History(10)
    h.put(_ex(1, status=None, complete=False))
    h.put(_ex(2))
    assert (h.pending_count, h.completed_count) == (1, 1)
    h.put(_ex(1))
    assert [e.id for e in h.exchanges()] == ["1", "2"]  # arrival order
    assert [e.id for e in h.completed()] == ["2", "1"]  # completion order
    assert (h.pending_count, h.completed_count) == (0, 2)
    gen = h.generation
    assert h.put(_ex(1, status=None, complete=False)) is None and h.generation == gen
    h.resize(1)
    assert [e.id for e in h.exchanges()] == ["2"] and h.evicted == 1


def test_history_bounds_and_replaces_in_place() -> None:
    h = History(3)
    for i in range(5):
        h.put(_ex(i))
    assert [e.id for e in h.newest_first()] == ["4", "3", "2"]
    assert h.evicted == 2 and len(h) == 3
    gen = h.generation
    h.put(_ex(3, status=500))
    assert [e.id for e in h.newest_first()] == ["4", "3", "2"]  # kept its place
    assert h.get("3").status == 500 and h.generation > gen  # type: ignore[union-attr]
    h.resize(1)
    assert [e.id for e in h.newest_first()] == ["4"] and h.evicted == 4


def test_history_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        History(0)


def test_evicted_pending_completes_as_a_new_row() -> None:
    h = History(2)
    h.put(_ex(1, status=None, complete=False))
    h.put(_ex(2))
    h.put(_ex(3))
    assert "1" not in h and h.pending_count == 0
    h.put(_ex(1))
    assert [e.id for e in h.exchanges()] == ["3", "1"] and h.evicted == 2


def test_clear_can_forget_pending_ones() -> None:
    h = History()
    h.put(_ex(1, status=None, complete=False))
    h.clear()
    assert h.put(_ex(1)) is not None  # a plain clear: the answer is a new row
    h.put(_ex(2, status=None, complete=False))
    h.clear(forget_pending=True)
    assert h.put(_ex(2)) is None and len(h) == 0
    assert h.put(_ex(2)) is not None  # forgotten once: a later exchange with the id is kept


def test_memo_is_reset_when_the_exchange_changes() -> None:
    h = History()
    entry = h.put(_ex(1, status=None, complete=False))
    assert entry is not None
    entry.memo = "key"
    assert h.put(_ex(1)) is entry and entry.memo is None and entry.done


def test_hold_is_bounded_and_counted() -> None:
    h = History(2)
    h.set_paused(True)
    for i in range(3):
        assert h.put(_ex(i)) is None
    assert h.held == 2 and h.evicted == 1
    added = h.set_paused(False)
    assert [e.ex.id for e in added] == ["1", "2"] and h.held == 0 and len(h) == 2


# -- CaptureState ----------------------------------------------------------------------------


def test_fold_keeps_the_totals() -> None:
    st = CaptureState(History())
    done = st.apply([
        Ready([7, 8], "attached"), _pending(1), Stats(events=5, lost=2), Lost(3),
        Completed(_ex(1)), ProcessExit(8, remaining=1), Error("boom", "fix"),
    ])
    assert st.ready and st.pids == [7, 8] and st.message == "attached"
    assert st.totals.events == 5 and st.lost == 3 and st.lost_events == 3
    assert st.exited == [8] and st.remaining == 1 and st.running_pids == [7]
    assert st.error is not None and st.error.remedy == "fix"
    assert [type(r).__name__ for r in done.notable] == ["Ready", "Lost", "ProcessExit", "Error"]
    assert [e.ex.id for e in done.changed] == ["1", "1"] and done.completed[0].id == "1"
    assert (st.received, st.completed, st.seen, st.pending) == (2, 1, 1, 0)


def test_filter_takes_rows_away_and_back() -> None:
    st = CaptureState(History(), filter=compile_filter("status>=500"))
    done = st.apply([_pending(1), Completed(_ex(2, status=503))])
    assert [e.ex.id for e in done.changed] == ["2"] and st.filtered_out == 1
    assert st.history is not None and "1" not in st.history
    st.apply([Completed(_ex(1, status=502))])  # its answer passes: the row comes
    assert [e.id for e in st.history.exchanges()] == ["2", "1"]
    done = st.apply([Completed(_ex(2, status=200))])  # a late change fails it: the row goes
    assert [e.ex.id for e in done.removed] == ["2"] and "2" not in st.history


def test_a_stale_pending_failing_the_filter_keeps_the_complete_row() -> None:
    st = CaptureState(History(), filter=compile_filter("status>=500"))
    st.apply([Completed(_ex(1, status=500)), _pending(1)])
    assert st.history is not None and st.history.get("1").status == 500  # type: ignore[union-attr]


def test_count_stops_taking_exchanges() -> None:
    st = CaptureState(History(), count=2)
    st.apply([_pending(9), Completed(_ex(1)), Completed(_ex(2)), Completed(_ex(3)), _pending(4)])
    assert st.limit_reached and st.completed == 2
    assert st.history is not None and [e.id for e in st.history.exchanges()] == ["9", "1", "2"]
    done = st.apply([Completed(_ex(9))])  # pending at the limit: its row goes, not counted
    assert [e.ex.id for e in done.removed] == ["9"] and st.completed == 2


def test_without_history_only_counts() -> None:
    st = CaptureState(filter=compile_filter("status>=500"), count=1)
    done = st.apply([_pending(1), Completed(_ex(2)), Completed(_ex(3, status=500)),
                     Completed(_ex(4, status=500))])
    assert [ex.id for ex in done.completed] == ["3"] and done.changed == []
    assert (st.completed, st.filtered_out, st.pending, st.seen) == (1, 2, 0, 1)


# -- messages (WebSocket, SSE) ----------------------------------------------------------------


def _msg(ex_id: str, n: int) -> MessageRecord:
    return MessageRecord(Message(id=f"{ex_id}.{n}", exchange_id=ex_id, data=b"m%d" % n))


def test_a_message_from_the_helper_joins_its_exchange_in_order() -> None:
    state = CaptureState(History(10))
    done = state.apply([Completed(_ex(1)), _msg("1", 1), Completed(_ex(2)), _msg("1", 2)])
    assert [x.message.id if isinstance(x, MessageRecord) else x.id
            for x in done.timeline] == ["1", "1.1", "2", "1.2"]
    held = state.history.get("1")
    assert held is not None and [m.id for m in held.messages] == ["1.1", "1.2"]


def test_messages_follow_their_exchange_through_the_filter_without_a_history() -> None:
    state = CaptureState(filter=compile_filter("path=/1"))
    done = state.apply([Completed(_ex(1)), Completed(_ex(2)), _msg("1", 1), _msg("2", 1),
                        _msg("9", 1)])  # 9: an exchange never seen is not shown under a filter
    assert [m.message.id for m in done.messages] == ["1.1"]


def test_a_pending_snapshot_row_gets_the_live_messages_once_and_moves_the_generation() -> None:

    live = _ex(1)
    live.complete = False
    live.messages.append(Message(id="1.1", exchange_id="1"))
    state = CaptureState(History(10))
    history = state.history
    assert history is not None
    # the publisher's Pending holds a copy made at the end of the batch (1.1 already in it)
    state.apply([Pending(live.snapshot()), MessageRecord(live.messages[0], live)])
    kept = history.get("1")
    assert kept is not None and kept is not live and [m.id for m in kept.messages] == ["1.1"]
    generation = history.generation
    entry = history.entry("1")
    assert entry is not None
    entry.memo = "cached row"
    live.messages.append(Message(id="1.2", exchange_id="1"))
    done = state.apply([MessageRecord(live.messages[1], live)])
    assert [m.id for m in kept.messages] == ["1.1", "1.2"] and done.changed == [entry]
    assert history.generation > generation and entry.memo is None


def test_a_run_of_messages_changes_its_entry_once() -> None:
    state = CaptureState(History(10))
    done = state.apply([Completed(_ex(1)), Completed(_ex(2)),
                        *(_msg("1", n) for n in range(1, 500)), _msg("2", 1), _msg("1", 500)])
    assert [e.ex.id for e in done.changed] == ["1", "2", "1", "2", "1"]
    assert len(done.messages) == 501


def test_a_message_goes_with_its_exchanges_verdict_not_a_new_one() -> None:
    calls: list[str] = []

    class Counting(Filter):
        __slots__ = ()

        def matches(self, ex: Exchange) -> bool:
            calls.append(ex.id)
            return super().matches(ex)

    flt = compile_filter("not ws.text~secret")
    state = CaptureState(History(10), filter=Counting(flt.text, flt.tree))
    ex = _ex(1)
    state.apply([Completed(ex)])
    for n in range(1, 50):  # in-process: each message on the live exchange
        ex.messages.append(Message(id=f"1.{n}", exchange_id="1", data=b"secret"))
        done = state.apply([MessageRecord(ex.messages[-1], ex)])
        assert len(done.messages) == 1  # passed with its handshake
    assert len(calls) == 1


def _ws(i: int) -> Exchange:
    ex = _ex(i, status=101)
    assert ex.response is not None
    ex.response.headers = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
    return ex


def test_a_filter_on_messages_admits_a_websocket_when_a_message_matches() -> None:
    # a WebSocket completes at its 101, before any message: a ws.* capture filter waits
    state = CaptureState(History(10), filter=compile_filter('ws.text~"^hello$"'))
    done = state.apply([Completed(_ws(1)), Completed(_ws(2)), Completed(_ex(3))])
    assert done.timeline == [] and len(state.history) == 0
    quiet = MessageRecord(Message(id="1.1", exchange_id="1", data=b"nothing"))
    assert state.apply([quiet]).timeline == []
    hello = MessageRecord(Message(id="1.2", exchange_id="1", data=b"hello"))
    done = state.apply([hello, _msg("2", 1), MessageRecord(
        Message(id="1.3", exchange_id="1", data=b"later"))])
    # the handshake, then the message that made it match, then what follows it
    assert [x.message.id if isinstance(x, MessageRecord) else x.id
            for x in done.timeline] == ["1", "1.2", "1.3"]
    held = state.history.get("1")
    assert held is not None and [m.id for m in held.messages] == ["1.1", "1.2", "1.3"]
    assert state.completed == 1 and state.filtered_out == 2
