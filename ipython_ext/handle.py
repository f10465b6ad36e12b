"""``CaptureHandle``: what ``%httptap PID`` returns; the exchanges, live, and what to do next."""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from httptap.engine.api import Capture, CaptureOptions
from httptap.model import Exchange
from httptap.records import Completed, Error, Lost, Pending, ProcessExit, Ready, Record, Stats

from .table import TableView, build_table

if TYPE_CHECKING:
    from httptap.filter import Filter

#: Completed exchanges a handle keeps by default (older ones are dropped and counted).
DEFAULT_KEEP = 10_000
_POLL = 0.2  # seconds between checks of --duration while no record arrives


class CaptureHandle:
    """A running (or finished) capture of one or more processes.

    Records are consumed on the handle's own thread, so the handle fills while you work;
    every attribute is a consistent snapshot. ``exchanges`` holds the completed exchanges that
    passed ``--filter``, oldest first; ``pending`` the requests still waiting for an answer.
    """

    def __init__(
        self,
        capture: Capture,
        pids: Sequence[int],
        *,
        number: int = 1,
        options: CaptureOptions | None = None,
        filter: Filter | None = None,
        count: int | None = None,
        duration: float | None = None,
        keep: int = DEFAULT_KEEP,
        har: Any = None,
    ) -> None:
        self.number = number
        self.pids = list(pids)
        self.options = options or CaptureOptions()
        self.filter_text = filter.text if filter is not None else ""
        self.count = count
        self.duration = duration
        self.keep = keep
        self.save_path: str | None = getattr(har, "path", None)
        self.error: Error | None = None
        self.exited: list[int] = []
        self.lost = 0
        self.dropped = 0
        self.message = ""
        self.started = time.monotonic()
        self.ended: float | None = None
        self.end_reason = ""
        self._capture = capture
        self._filter = filter
        self._har = har
        self._cond = threading.Condition()
        self._version = 0
        self._rows: dict[str, Exchange] = {}  # table order: first seen
        self._pending: set[str] = set()
        self._done: deque[Exchange] = deque()
        self._matched = 0
        self._stats = Stats()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> CaptureHandle:
        """Start consuming records (the magic does this)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._consume, name=f"httptap-handle-{self.number}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop capturing and detach from the processes; idempotent."""
        self._stopping = True
        self._capture.stop(timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._finish("stopped")

    def request_stop(self) -> None:
        """Ask the capture to end without waiting (safe from any thread)."""
        self._stopping = True
        self._capture.request_stop()

    @property
    def running(self) -> bool:
        """True while the capture is attached and records flow."""
        return self.ended is None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the capture has ended; True if it did."""
        with self._cond:
            return self._cond.wait_for(lambda: self.ended is not None, timeout)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Exchange]:
        """Block until ``n`` exchanges are complete (or ``timeout``, or the end); return them."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._done) >= n or self.ended is not None, timeout)
            return list(self._done)

    # -- what users read ---------------------------------------------------------------------

    @property
    def exchanges(self) -> list[Exchange]:
        """Completed exchanges that passed the filter, oldest first (a snapshot)."""
        with self._cond:
            return list(self._done)

    @property
    def pending(self) -> list[Exchange]:
        """Requests seen whose response is not complete yet (a snapshot)."""
        with self._cond:
            return [self._rows[i] for i in self._rows if i in self._pending]

    @property
    def stats(self) -> Stats:
        """The engine's running totals (events, bytes, lost, connections, exchanges…)."""
        return self._stats

    @property
    def version(self) -> int:
        """Increases whenever anything shown changes (views redraw on it)."""
        return self._version

    def wait_changed(self, seen: int, timeout: float) -> int:
        """Block until ``version`` differs from ``seen`` (or ``timeout``); return it."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != seen, timeout)
            return self._version

    def filter(self, expr: str) -> list[Exchange]:
        """The exchanges matching the filter expression ``expr`` (e.g. ``'status>=500'``)."""
        from httptap.filter import compile_filter

        flt = compile_filter(expr)  # FilterError's message points at the mistake
        return [ex for ex in self.exchanges if flt.matches(ex)]

    def table(self, n: int | None = 20) -> TableView:
        """The last ``n`` rows (all with ``n=None``), pending ones included, as a table."""
        rows, pending, hidden = self._snapshot(n)
        title, caption = self.title(), self.summary()

        def build(width: int | None) -> Any:
            return build_table(rows, pending=pending, title=title, caption=caption,
                               hidden=hidden, width=width)

        return TableView(build)

    def rich_table(self, n: int | None = 20, width: int | None = None) -> Any:
        """The Rich ``Table`` of the last ``n`` rows (what the live views draw, ``width`` wide)."""
        rows, pending, hidden = self._snapshot(n)
        return build_table(rows, pending=pending, title=self.title(), caption=self.summary(),
                           hidden=hidden, width=width)

    def _snapshot(self, n: int | None) -> tuple[list[Exchange], set[str], int]:
        """The last ``n`` rows, the pending ids, and how many rows are left out."""
        with self._cond:
            rows = list(self._rows.values())
            pending = set(self._pending)
        hidden = self.dropped
        if n is not None and len(rows) > n:
            hidden += len(rows) - n
            rows = rows[len(rows) - n :] if n > 0 else []
        return rows, pending, hidden

    def title(self) -> str:
        """``httptap #1 · PID 1234``."""
        what = "PID" if len(self.pids) == 1 else "PIDs"
        return f"httptap #{self.number} · {what} {', '.join(map(str, self.pids))}"

    def summary(self) -> str:
        """One line: state, counts, filter, losses, errors."""
        with self._cond:
            done, pending = len(self._done), len(self._pending)
        parts = [self.state(), f"{done + self.dropped} exchange(s)"]
        if pending:
            parts.append(f"{pending} pending")
        lost = max(self.lost, self._stats.lost)
        if lost:
            parts.append(f"{lost} event(s) lost")
        if self.dropped:
            parts.append(f"{self.dropped} oldest dropped (keep={self.keep})")
        # The engine's backlog overflows only if this handle's thread falls far behind.
        behind = getattr(self._capture, "records_dropped", 0)
        if behind:
            parts.append(f"{behind} record(s) not read in time")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.save_path:
            parts.append(f"saving {self.save_path}")
        if self.exited:
            parts.append("exited: " + ", ".join(map(str, self.exited)))
        if self.error is not None:
            parts.append(f"error: {self.error.message}")
        return " · ".join(parts)

    def state(self) -> str:
        """``running 0:12``, ``stopped``, ``ended (--count 10)``…"""
        end = self.ended if self.ended is not None else time.monotonic()
        elapsed = _elapsed(end - self.started)
        if self.ended is None:
            return f"running {elapsed}"
        return f"{self.end_reason or 'ended'} after {elapsed}"

    # -- export --------------------------------------------------------------------------------

    def to_har(self, path: str | Path, *, force: bool = False, pending: bool = False) -> Path:
        """Write the exchanges (and pending ones too if ``pending``) to a HAR 1.2 file."""
        from httptap.export.har import HarWriter

        return self._export(HarWriter(path, force=force), path, pending)

    def to_jsonl(self, path: str | Path, *, force: bool = False, pending: bool = False) -> Path:
        """Write the exchanges as JSON lines (contract v1), one object per exchange."""
        from httptap.export.jsonl import JsonlWriter

        return self._export(JsonlWriter(path, force=force), path, pending)

    def _export(self, writer: Any, path: str | Path, pending: bool) -> Path:
        try:
            for ex in self._export_rows(pending):
                writer.add(ex)
        finally:
            writer.close()
        return Path(path)

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per exchange (needs pandas, an optional dependency)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "to_dataframe() needs pandas, which is not installed in this environment: "
                "`%pip install pandas` (or use .exchanges, .to_jsonl(), .to_har())"
            ) from None
        from .frame import exchange_rows

        return pd.DataFrame(exchange_rows(self.exchanges))

    def _export_rows(self, pending: bool) -> list[Exchange]:
        with self._cond:
            # Rows are in first-seen order and hold the pending exchanges as well.
            return list(self._rows.values()) if pending else list(self._done)

    # -- display -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<{self.title()}: {self.summary()}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) + "\n  .exchanges  .table()  .filter(expr)  .to_har(path)  .stop()")

    def _repr_html_(self) -> str:
        hints = "".join(
            f"<code>{h}</code> "
            for h in (".exchanges", ".table()", ".filter(expr)", ".to_har(path)", ".stop()")
        )
        return (
            f"<div><b>{html.escape(self.title())}</b> — {html.escape(self.summary())}"
            f"<br><span style='opacity:0.7'>{hints}</span></div>"
        )

    # -- the consumer thread -----------------------------------------------------------------

    def _consume(self) -> None:
        cap = self._capture
        deadline = self.started + self.duration if self.duration else None
        reason = ""
        while True:
            for rec in cap.records(timeout=_POLL):
                self._on_record(rec)
                if deadline is not None and time.monotonic() >= deadline:
                    break
            if deadline is not None and time.monotonic() >= deadline and not reason:
                reason = f"ended (--duration {self.duration:g})"
                cap.request_stop()
            if cap.wait(0):
                # Everything was queued before the engine said it is done: take the rest.
                for rec in cap.records(timeout=0):
                    self._on_record(rec)
                break
        if self.count is not None and self._matched >= self.count:
            reason = f"ended (--count {self.count})"
        elif self._stopping:
            reason = "stopped"
        elif not reason and self.error is not None:
            reason = "failed"
        elif not reason and self.exited:
            reason = "ended (process exited)"
        self._finish(reason or "ended")

    def _on_record(self, rec: Record) -> None:
        with self._cond:
            if isinstance(rec, Pending):
                self._on_pending(rec.exchange)
            elif isinstance(rec, Completed):
                self._on_completed(rec.exchange)
            elif isinstance(rec, Stats):
                self._stats = rec
            elif isinstance(rec, Lost):
                self.lost += rec.count
            elif isinstance(rec, ProcessExit):
                self.exited.append(rec.pid)
            elif isinstance(rec, Error):
                self.error = rec
            elif isinstance(rec, Ready):
                self.message = rec.message
            self._version += 1
            self._cond.notify_all()

    def _limit_reached(self) -> bool:
        return self.count is not None and self._matched >= self.count

    def _on_pending(self, ex: Exchange) -> None:
        if self._limit_reached():
            return
        if self._filter is None or self._filter.matches(ex):
            self._rows[ex.id] = ex
            self._pending.add(ex.id)
        elif ex.id in self._pending:
            self._pending.discard(ex.id)
            self._rows.pop(ex.id, None)

    def _on_completed(self, ex: Exchange) -> None:
        self._pending.discard(ex.id)
        if self._limit_reached() or (self._filter is not None and not self._filter.matches(ex)):
            self._rows.pop(ex.id, None)
            return
        self._rows[ex.id] = ex  # an existing (pending) row completes in place
        self._done.append(ex)
        self._matched += 1
        if self._har is not None:
            try:
                self._har.add(ex)
            except (OSError, ValueError) as exc:  # disk full, closed: say so, keep capturing
                self.error = Error(f"--save stopped: {exc}", "free some space or save again")
                self._har = None
        while len(self._done) > self.keep:
            old = self._done.popleft()
            self._rows.pop(old.id, None)
            self.dropped += 1
        if self._limit_reached():
            self._capture.request_stop()

    def _finish(self, reason: str) -> None:
        with self._cond:
            if self.ended is not None:
                return
            self.ended = time.monotonic()
            self.end_reason = reason
            har, self._har = self._har, None
            self._version += 1
            self._cond.notify_all()
        if har is not None:
            har.close()


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"
