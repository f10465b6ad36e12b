"""Moves a capture's records off the engine onto the server's asyncio loop, in batches."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from httptap.engine.api import Capture
from httptap.records import Record

_BATCH_SECONDS = 0.05
_BATCH_MAX = 500


class RecordPump:
    """A thread that drains ``capture.records()`` and posts batches with
    ``loop.call_soon_threadsafe(deliver, batch)``; ``ended()`` is posted when the capture ends.

    Draining ``records()`` (rather than only subscribing) keeps the capture's record queue
    empty, so a long capture cannot grow the server's memory there.
    """

    def __init__(
        self,
        capture: Capture,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[list[Record]], None],
        ended: Callable[[], None],
    ) -> None:
        self._capture = capture
        self._loop = loop
        self._deliver = deliver
        self._ended = ended
        self._thread = threading.Thread(target=self._main, name="httptap-lsp-pump", daemon=True)

    def start(self) -> RecordPump:
        """Start draining."""
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to finish (after the capture ended)."""
        self._thread.join(timeout)

    def _main(self) -> None:
        cap = self._capture
        try:
            while True:
                batch: list[Record] = []
                deadline = time.monotonic() + _BATCH_SECONDS
                for rec in cap.records(timeout=_BATCH_SECONDS):
                    batch.append(rec)
                    if len(batch) >= _BATCH_MAX or time.monotonic() >= deadline:
                        break
                if batch:
                    self._post(self._deliver, batch)
                elif cap.wait(0):
                    rest = list(cap.records(timeout=0.2))  # whatever came with the end
                    if rest:
                        self._post(self._deliver, rest)
                    return
        finally:
            self._post(self._ended)

    def _post(self, fn: Callable[..., None], *args: object) -> None:
        # RuntimeError: the loop is closed, the server is exiting
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(fn, *args)
