"""Records from the engine to the UI loop, in batches, without ever blocking the engine.

A reader thread drains ``Capture.records()`` into an inbox and, when the inbox was empty,
wakes the UI once (``wake`` must be thread-safe and must not block: the app posts a Textual
message). The UI takes the whole inbox at once, so a burst of 1000 records is one update.
Draining ``records()`` (rather than only subscribing) also keeps the capture's record queue
from growing for as long as the UI runs, and sees the records sent before the UI started
(``Ready`` comes first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from httptap.engine.api import Capture
from httptap.records import Record


class RecordFeed:
    """Moves a capture's records to the UI; ``take()`` returns what arrived since the last."""

    def __init__(self, capture: Capture, wake: Callable[[], None], poll: float = 0.25) -> None:
        self._capture = capture
        self._wake = wake
        self._poll = poll
        self._lock = threading.Lock()
        self._inbox: list[Record] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ended = False  # the capture ended and every record was delivered

    def start(self) -> None:
        """Start the reader thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="httptap-ui-feed",
                                            daemon=True)
            self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop reading; the thread ends at its next poll (``wait``: join it)."""
        self._stop.set()
        thread = self._thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    def take(self) -> list[Record]:
        """Every record received since the last call, oldest first."""
        with self._lock:
            batch, self._inbox = self._inbox, []
        return batch

    def _put(self, rec: Record) -> None:
        with self._lock:
            first = not self._inbox
            self._inbox.append(rec)
        if first:
            self._wake()

    def _read(self) -> None:
        capture = self._capture
        while not self._stop.is_set():
            for rec in capture.records(timeout=self._poll):
                self._put(rec)
                if self._stop.is_set():
                    return
            # records() returns on a quiet poll, or for good once the capture has ended
            if not capture.running and capture.wait(0):
                for rec in capture.records(timeout=0):  # emitted just before it ended
                    self._put(rec)
                self.ended = True
                self._wake()
                return
