"""``CaptureHandle``: what ``%httptap PID`` returns; the exchanges, live, and what to do next."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from httptap.engine.api import Capture, CaptureOptions
from httptap.model import Exchange, Message
from httptap.records import Error, Record, Stats
from httptap.store import CaptureState, History

from .detail import ExchangeDetail
from .table import TableView, build_table

if TYPE_CHECKING:
    from httptap.filter import Filter

#: Exchanges a handle keeps by default (older ones are dropped and counted).
DEFAULT_KEEP = 10_000
_POLL = 0.2  # seconds between checks of --duration while no record arrives
_PIDS_SHOWN = 5  # at most this many PIDs in one status line


class CaptureHandle:
    """A running (or finished) capture of one or more processes.

    Records are consumed on the handle's own thread, so the handle fills while you work;
    every attribute is a consistent snapshot. ``exchanges`` holds the completed exchanges that
    passed ``--filter``, in the order they completed; ``pending`` the requests still waiting
    for an answer; ``exited`` every traced process that exited. At most ``keep`` exchanges
    (pending ones included) are kept: the oldest are dropped and counted.
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
        self.started = time.monotonic()
        self.ended: float | None = None
        self.end_reason = ""
        self._capture = capture
        self._filter = filter
        self._har = har
        # The store is single-threaded: this thread and the user's meet under the condition.
        self._cond = threading.Condition()
        self._version = 0
        self._history = History(keep)
        self._state = CaptureState(self._history, filter=filter, count=count)
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
            history = self._history
            self._cond.wait_for(
                lambda: history.completed_count >= n or self.ended is not None, timeout
            )
            return history.completed()

    # -- what users read ---------------------------------------------------------------------

    @property
    def exchanges(self) -> list[Exchange]:
        """Completed exchanges that passed the filter, in completion order (a snapshot)."""
        with self._cond:
            return self._history.completed()

    @property
    def pending(self) -> list[Exchange]:
        """Requests seen whose response is not complete yet (a snapshot)."""
        with self._cond:
            return self._history.pending()

    @property
    def exchange_count(self) -> int:
        """Completed exchanges taken since the start, dropped ones included."""
        return self._state.completed

    @property
    def stats(self) -> Stats:
        """The engine's running totals (events, bytes, lost, connections, exchanges…)."""
        return self._state.totals

    @property
    def exited(self) -> list[int]:
        """Every traced process that exited, in order (children included; a snapshot)."""
        with self._cond:
            return list(self._state.exited)

    @property
    def error(self) -> Error | None:
        """Why the capture failed (or ``--save`` stopped), if it did."""
        return self._state.error

    @property
    def lost(self) -> int:
        """The sum of the engine's Lost records."""
        return self._state.lost

    @property
    def dropped(self) -> int:
        """Exchanges dropped to stay within ``keep``."""
        return self._history.evicted

    @property
    def message(self) -> str:
        """What the engine said when probes were live (``attached to PID …``)."""
        return self._state.message

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

    def messages(self, expr: str = "", exchange: Exchange | str | None = None) -> list[Message]:
        """WebSocket messages and SSE events of the kept exchanges (or of ``exchange``, or its
        id), in time order; ``expr`` is a message filter (``'opcode=text and text~foo'``)."""
        from httptap.filter import compile_message_filter

        flt = compile_message_filter(expr)  # FilterError's message points at the mistake
        with self._cond:
            if exchange is None:
                sources = self._history.exchanges()
            else:
                ex_id = exchange if isinstance(exchange, str) else exchange.id
                one = self._history.get(ex_id)
                sources = [one] if one is not None else []
            found = [m for ex in sources for m in list(ex.messages) if flt.matches(m)]
        found.sort(key=_time_of)
        return found

    def messages_dataframe(self, expr: str = "", exchange: Exchange | str | None = None) -> Any:
        """``messages(expr, exchange)`` as a pandas DataFrame, one row per message."""
        pd = _pandas("messages_dataframe()")
        from .frame import message_rows

        return pd.DataFrame(message_rows(self.messages(expr, exchange)))

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
            entries = self._history.entries()
            hidden = self._history.evicted
        rows = [e.ex for e in entries]
        pending = {e.ex.id for e in entries if not e.done}
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
            st = self._state
            done, pending, lost = st.completed, st.pending, st.lost_events
            exits = self._exits() if st.exited else ""
        parts = [self.state(), f"{done} exchange(s)"]
        if pending:
            parts.append(f"{pending} pending")
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
        if exits:
            parts.append(exits)
        if self.error is not None:
            parts.append(f"error: {self.error.message}")
        return " · ".join(parts)

    def _exits(self) -> str:
        """Exited processes, counted, and those still traced (bounded: never every PID)."""
        st = self._state
        targets = set(self.pids) | set(st.pids)
        gone = [p for p in st.exited if p in targets]
        children = len(st.exited) - len(gone)
        out = []
        if gone:
            out.append(f"{_pid_list(gone)} exited")
        if children:
            out.append(f"{children} child process{'' if children == 1 else 'es'} exited")
        alive = st.running_pids
        if self.ended is None and alive:
            more = max((st.remaining or 0) - len(alive), 0)
            out.append(f"tracing {_pid_list(alive, more)}")
        return " · ".join(out)

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
        pd = _pandas("to_dataframe()")
        from .frame import exchange_rows

        return pd.DataFrame(exchange_rows(self.exchanges))

    def detail(self, which: int | str = -1) -> ExchangeDetail:
        """One exchange (an index into ``.exchanges`` or its id) with its timing waterfall."""
        exchanges = self.exchanges
        if isinstance(which, str):
            return ExchangeDetail(next(ex for ex in exchanges if ex.id == which))
        return ExchangeDetail(exchanges[which])

    def _export_rows(self, pending: bool) -> list[Exchange]:
        with self._cond:
            # The history is in first-seen order and holds the pending exchanges as well.
            return self._history.exchanges() if pending else self._history.completed()

    # -- display -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<{self.title()}: {self.summary()}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) + "\n  .exchanges  .table()  .filter(expr)  .messages()  .to_har(path)"
               "  .stop()")

    def _repr_html_(self) -> str:
        hints = "".join(
            f"<code>{h}</code> "
            for h in (".exchanges", ".table()", ".filter(expr)", ".messages()", ".to_har(path)",
                      ".stop()")
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
                self._apply((rec,))
                if deadline is not None and time.monotonic() >= deadline:
                    break
            if deadline is not None and time.monotonic() >= deadline and not reason:
                reason = f"ended (--duration {self.duration:g})"
                cap.request_stop()
            if cap.wait(0):
                # Everything was queued before the engine said it is done: take the rest.
                self._apply(list(cap.records(timeout=0)))
                break
        st = self._state
        if st.limit_reached:
            reason = f"ended (--count {self.count})"
        elif self._stopping:
            reason = "stopped"
        elif not reason and st.error is not None:
            reason = "failed"
        elif not reason and st.exited:
            reason = "ended (process exited)"
        self._finish(reason or "ended")

    def _apply(self, batch: Iterable[Record]) -> None:
        with self._cond:
            st = self._state
            done = st.apply(batch)
            if self._har is not None:
                for item in done.timeline:  # in record order: a 101, then its messages
                    try:
                        if isinstance(item, Exchange):
                            self._har.add(item)
                        else:  # a held WebSocket entry gets its messages (once: the
                            # history may have joined it to that very exchange already)
                            kept = self._history.get(item.message.exchange_id)
                            self._har.add_message(item.message, item.exchange or kept)
                    except (OSError, ValueError) as exc:  # disk full, closed: say so, go on
                        st.error = Error(f"--save stopped: {exc}", "free some space or save again")
                        self._har = None
                        break
            if done.completed and st.limit_reached:
                self._capture.request_stop()
            self._version += 1
            self._cond.notify_all()

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


def _pandas(what: str) -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            f"{what} needs pandas, which is not installed in this environment: "
            "`%pip install pandas` (or use .exchanges, .to_jsonl(), .to_har())"
        ) from None
    return pd


def _time_of(m: Message) -> int:
    return m.time_ns


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def _pid_list(pids: list[int], more: int = 0) -> str:
    """``PID 7``, ``PIDs 7, 9`` or ``PIDs 1, 2, 3, 4, 5 and 6 more`` (at most five shown)."""
    shown = pids[:_PIDS_SHOWN]
    more += len(pids) - len(shown)
    text = ("PID " if len(shown) == 1 and not more else "PIDs ") + ", ".join(map(str, shown))
    return text + (f" and {more} more" if more else "")
