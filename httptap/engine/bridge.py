"""Records from the engine's thread into a front end's event loop, in batches.

``RecordBridge`` drains ``Capture.records()`` on its own thread (which also keeps the
capture's record queue from growing, and sees what was emitted before it started: ``Ready``
comes first) and hands each batch to the front end's loop through ``post``, a thread-safe
callable that schedules a function there and returns at once: ``loop.call_soon_threadsafe``
for asyncio, a posted message for Textual. The engine side never waits for the front end.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from functools import partial

from httptap.engine.api import Capture
from httptap.records import Record

Post = Callable[[Callable[[], None]], object]

#: records per batch at most
MAX_BATCH = 500
#: seconds a record waits at most for its batch to fill (while records keep coming)
MAX_LATENCY = 0.05


class RecordBridge:
    """Posts ``deliver(batch)`` on the front end's loop for every batch of records, then
    ``ended()`` once, after the last batch, when the capture has ended or ``stop`` was called.
    """

    def __init__(
        self,
        capture: Capture,
        post: Post,
        deliver: Callable[[list[Record]], None],
        ended: Callable[[], None],
        *,
        max_batch: int = MAX_BATCH,
        max_latency: float = MAX_LATENCY,
        name: str = "httptap-bridge",
    ) -> None:
        self._capture = capture
        self._post = post
        self._deliver = deliver
        self._ended = ended
        self._max_batch = max(1, max_batch)
        self._latency = max_latency
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = False

    def start(self) -> RecordBridge:
        """Start draining (once)."""
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def stop(self, wait: bool = True) -> None:
        """Stop draining; the thread ends within ``max_latency`` (``wait``: join it)."""
        self._stop.set()
        if wait and self._started and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to finish (after the capture ended)."""
        if self._started:
            self._thread.join(timeout)

    def _main(self) -> None:
        cap = self._capture
        stop = self._stop
        try:
            while not stop.is_set():
                batch: list[Record] = []
                deadline = time.monotonic() + self._latency
                for rec in cap.records(timeout=self._latency):
                    batch.append(rec)
                    if (len(batch) >= self._max_batch or time.monotonic() >= deadline
                            or stop.is_set()):
                        break
                if batch:
                    self._send(partial(self._deliver, batch))
                elif cap.wait(0):
                    # records() ended for good: take whatever came with the end
                    rest = list(cap.records(timeout=0))
                    if rest:
                        self._send(partial(self._deliver, rest))
                    return
        finally:
            self._send(self._ended)

    def _send(self, fn: Callable[[], None]) -> None:
        # RuntimeError: the loop is closed, the front end is exiting
        with contextlib.suppress(RuntimeError):
            self._post(fn)
