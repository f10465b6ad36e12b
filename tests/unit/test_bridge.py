"""RecordBridge: records from the engine's thread into a front end's loop, in batches."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable

from httptap.engine.api import Capture
from httptap.engine.bridge import RecordBridge
from httptap.records import Lost, Record, Stats


class _Capture(Capture):
    """Emits what the test gives it, then ends."""

    def __init__(self, batches: list[list[Record]], go: threading.Event) -> None:
        super().__init__()
        self._batches = batches
        self._go = go

    def _run(self) -> None:
        self._go.wait(10)
        for batch in self._batches:
            self._emit(batch)


def _run(batches: list[list[Record]], **kw: object) -> list[object]:
    """Every call the bridge posted, in order: a batch (list) or "ended"."""
    posted: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
    calls: list[object] = []
    go = threading.Event()
    cap = _Capture(batches, go)
    bridge = RecordBridge(cap.start(), posted.put, calls.append,
                          lambda: calls.append("ended"), **kw).start()  # type: ignore[arg-type]
    go.set()
    bridge.join(10)
    while not posted.empty():
        posted.get()()  # the front end's loop runs what was posted, in order
    return calls


def test_batches_are_bounded_and_the_end_comes_once_after_them() -> None:
    records: list[Record] = [Lost(i) for i in range(1200)]
    calls = _run([records[:700], records[700:]], max_batch=500)
    batches = [c for c in calls if isinstance(c, list)]
    assert calls[-1] == "ended" and calls.count("ended") == 1
    assert all(1 <= len(b) <= 500 for b in batches)
    assert [r for b in batches for r in b] == records  # nothing lost, nothing twice, in order


def test_records_emitted_before_the_bridge_started_arrive_first() -> None:
    go = threading.Event()
    go.set()
    cap = _Capture([[Stats(events=1)], [Lost(2)]], go).start()
    assert cap.wait(5)
    got: list[Record] = []
    ended = threading.Event()
    RecordBridge(cap, lambda fn: fn(), got.extend, ended.set).start().join(5)
    assert ended.is_set() and [type(r).__name__ for r in got] == ["Stats", "Lost"]


def test_asyncio_loop_receives_batches_on_its_thread() -> None:
    async def main() -> tuple[list[Record], set[int]]:
        loop = asyncio.get_running_loop()
        got: list[Record] = []
        threads: set[int] = set()
        done = asyncio.Event()

        def deliver(batch: list[Record]) -> None:
            threads.add(threading.get_ident())
            got.extend(batch)

        go = threading.Event()
        cap = _Capture([[Lost(1), Lost(2)], [Lost(3)]], go).start()
        RecordBridge(cap, loop.call_soon_threadsafe, deliver, done.set).start()
        go.set()
        await asyncio.wait_for(done.wait(), 10)
        return got, threads

    here = threading.get_ident()
    got, threads = asyncio.run(main())
    assert [r.count for r in got] == [1, 2, 3] and threads == {here}  # type: ignore[union-attr]


def test_stop_ends_the_bridge_and_says_so_once() -> None:
    go = threading.Event()  # never set: the capture stays silent
    cap = _Capture([], go).start()
    ended: list[int] = []
    bridge = RecordBridge(cap, lambda fn: fn(), lambda b: None, lambda: ended.append(1)).start()
    bridge.stop()
    assert ended == [1]
    go.set()
    cap.stop()
