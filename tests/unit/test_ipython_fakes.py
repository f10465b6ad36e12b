"""Fakes shared by the IPython extension's tests: a capture fed by the test, exchanges."""

from __future__ import annotations

import queue
import time
from collections.abc import Sequence

from httptap.engine.api import Capture, CaptureOptions
from httptap.model import Body, Connection, Exchange, Request, Response, Timings
from httptap.records import Completed, Pending, ProcessExit, Ready, Record, Stats


class FakeCapture(Capture):
    """A started-on-demand capture whose records the test feeds with ``feed``."""

    def __init__(self, pids: Sequence[int] = (4242,)) -> None:
        super().__init__()
        self.pids = list(pids)
        self.stop_calls = 0
        self._feed: queue.SimpleQueue[list[Record] | None] = queue.SimpleQueue()

    def feed(self, *records: Record) -> None:
        """Have the engine thread emit ``records`` as one batch."""
        self._feed.put(list(records))

    def exit(self) -> None:
        """The traced process exits: the capture ends by itself."""
        self._feed.put(None)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_calls += 1
        super().stop(timeout)

    def _run(self) -> None:
        self._emit([Ready(self.pids, f"attached to PID {self.pids[0]}")])
        n = 0
        while not self._stop.is_set():
            try:
                batch = self._feed.get(timeout=0.01)
            except queue.Empty:
                continue
            if batch is None:
                self._emit([ProcessExit(self.pids[0], remaining=0)])
                break
            n += sum(isinstance(r, Completed) for r in batch)
            self._emit(batch)
        self._emit([Stats(events=10 * n, bytes=100 * n, exchanges=n)])


class Opener:
    """Stands in for ``magic._open_capture``: hands out FakeCaptures and remembers them."""

    def __init__(self) -> None:
        self.captures: list[FakeCapture] = []
        self.options: list[CaptureOptions] = []

    def __call__(
        self, pids: Sequence[int], options: CaptureOptions, *, can_prompt: bool = False
    ) -> Capture:
        cap = FakeCapture(pids)
        self.captures.append(cap)
        self.options.append(options)
        return cap.start()

    @property
    def last(self) -> FakeCapture:
        return self.captures[-1]


def exchange(
    i: int,
    *,
    status: int | None = 200,
    method: str = "GET",
    path: str | None = None,
    pid: int = 4242,
    ms: float = 12.5,
    body: bytes = b'{"ok": true}',
) -> Exchange:
    """Exchange number ``i``; ``status=None`` makes it pending (request sent, no answer)."""
    start = time.monotonic_ns()
    ex = Exchange(
        id=f"ex{i}",
        connection=Connection(pid=pid, tid=pid, fd=5, local="127.0.0.1:50000",
                              remote="127.0.0.1:8080"),
        request=Request(method=method, authority="127.0.0.1:8080", path=path or f"/items/{i}",
                        headers=[("Host", "127.0.0.1:8080")]),
        timings=Timings(request_start=start, request_end=start + 100_000),
        wall_start=time.time(),
    )
    if status is not None:
        ex.response = Response(
            status=status, reason="OK" if status < 400 else "Error",
            headers=[("Content-Type", "application/json")],
            body=Body(data=body, size=len(body)),
        )
        ex.timings.response_start = start + int(ms * 1e6 / 2)
        ex.timings.response_end = start + int(ms * 1e6)
        ex.complete = True
    return ex


def pending(i: int, **kw: object) -> Pending:
    return Pending(exchange(i, status=None, **kw))  # type: ignore[arg-type]


def completed(i: int, **kw: object) -> Completed:
    return Completed(exchange(i, **kw))  # type: ignore[arg-type]


def wait_until(pred, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return bool(pred())
