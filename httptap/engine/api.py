"""The engine API: one interface, several implementations, the only thing front ends use.

``open_capture(pids, options)`` returns a ``Capture``: a context manager with ``records()``,
``subscribe(callback)``, ``stats()`` and ``stop()``. ``InProcessCapture`` runs bcc in this
process (root); ``HelperCapture`` reads the privileged helper's JSON lines;
``httptap.engine.replay`` plays back (and follows) saved sessions. All yield the same records
(``httptap.records``).
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from httptap.options import DEFAULT_BODY_LIMIT, DEFAULT_RING_KIB
from httptap.records import Error, Record, Stats

Subscriber = Callable[[list[Record]], None]

_END = object()


@dataclass(slots=True)
class CaptureOptions:
    """What a capture is asked to do; the helper accepts exactly these."""

    body_limit: int = DEFAULT_BODY_LIMIT
    ring_kib: int = DEFAULT_RING_KIB
    show_secrets: bool = False
    #: None: in-process when running as root, else through the helper.
    use_helper: bool | None = None
    #: interval between Stats records, seconds
    stats_interval: float = 1.0


class CaptureError(Exception):
    """Attaching failed; ``remedy`` tells the user what to do."""

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy


class Capture:
    """Base of every capture: fan-out of records to an iterator and to subscribers.

    Subclasses run a producer (``_run``) on the engine's thread and call ``_emit``.
    Subscribers are called from that thread, in batches; front ends hop to their own
    loop or thread themselves.
    """

    #: records kept for ``records()`` when nobody reads them; the oldest are dropped beyond it
    BACKLOG = 100_000

    def __init__(self) -> None:
        self._queue: collections.deque[object] = collections.deque(maxlen=self.BACKLOG)
        self._ready = threading.Condition()
        self._keep = True  # records are kept for records() until a consumer subscribes
        self.records_dropped = 0
        self._subscribers: list[Subscriber] = []
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._stats = Stats()

    # -- public API --------------------------------------------------------------

    def start(self) -> Capture:
        """Start producing records (``open_capture`` does this once probes are ready)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="httptap-engine", daemon=True)
            self._thread.start()
        return self

    def records(self, timeout: float | None = None) -> Iterator[Record]:
        """Every record from now on, until the capture ends (or ``timeout`` of silence)."""
        while True:
            with self._ready:
                if not self._queue and not self._ready.wait_for(lambda: self._queue, timeout):
                    return
                item = self._queue[0] if self._queue[0] is _END else self._queue.popleft()
            if item is _END:  # left in place so that every iterator ends
                return
            yield item  # type: ignore[misc]

    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Call ``callback(batch)`` for every batch of records; returns an unsubscribe.

        ``replay=True`` makes ``callback`` the capture's consumer: it first receives the
        records emitted before it subscribed (``Ready`` among them), in order, with nothing
        missed or seen twice, and from then on records are no longer kept for ``records()``.
        """
        with self._ready:  # the lock _emit appends under: a batch is either replayed or sent
            if replay:
                backlog = [r for r in self._queue if r is not _END]
                self._queue = collections.deque([r for r in self._queue if r is _END])
                self._keep = False
                if backlog:
                    with contextlib.suppress(Exception):
                        callback(backlog)  # type: ignore[arg-type]
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._ready:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def stats(self) -> Stats:
        """The latest totals."""
        return self._stats

    def request_stop(self) -> None:
        """Ask the capture to end without waiting (safe from signal handlers)."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop capturing, detach everything, flush what is pending; idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the capture has ended; True if it did."""
        return self._done.wait(timeout)

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- for implementations -----------------------------------------------------

    def _run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _stopping(self) -> bool:
        """True once the capture was asked to stop: the producer's loop condition."""
        return self._stop.is_set()

    def _pause(self, seconds: float | None) -> bool:
        """Sleep up to ``seconds``, woken early by a stop request; True if stopping."""
        return self._stop.wait(seconds)

    def _backlog(self) -> int:
        """Records emitted and not yet taken by ``records()``: how far the consumer lags."""
        return len(self._queue)

    def _emit(self, batch: Iterable[Record]) -> None:
        batch = list(batch)
        if not batch:
            return
        with self._ready:
            for rec in batch:
                if isinstance(rec, Stats):
                    self._stats = rec
                if not self._keep:
                    continue
                if len(self._queue) == self.BACKLOG:
                    self.records_dropped += 1
                self._queue.append(rec)
            self._ready.notify_all()
            subscribers = list(self._subscribers)
        for cb in subscribers:
            # a front end's bug must not stop the capture
            with contextlib.suppress(Exception):
                cb(batch)

    def _main(self) -> None:
        try:
            self._run()
        except CaptureError as exc:
            self._emit([Error(exc.message, exc.remedy)])
        except Exception as exc:  # reported as a record, never lost
            self._emit([Error(f"capture failed: {exc!r}", "report this as a bug")])
        finally:
            self._done.set()
            with self._ready:
                self._queue.append(_END)
                self._ready.notify_all()


def open_capture(pids: Sequence[int], options: CaptureOptions | None = None) -> Capture:
    """Attach to ``pids`` and return a started Capture; raises CaptureError when it cannot.

    Runs bcc in this process when it is root (or ``use_helper`` is False), otherwise starts
    the privileged helper (``httptap-helper`` on PATH or ``$HTTPTAP_HELPER``) through sudo.
    """
    options = options or CaptureOptions()
    use_helper = options.use_helper
    if use_helper is None:
        use_helper = os.geteuid() != 0
    if use_helper:
        from httptap.engine.helper_client import HelperCapture

        cap: Capture = HelperCapture(list(pids), options)
    else:
        from httptap.engine.inprocess import InProcessCapture

        cap = InProcessCapture(list(pids), options)
    cap.attach()  # type: ignore[attr-defined]
    return cap.start()

