"""The bounded history of exchanges and the one fold of records into capture state.

Every front end keeps what a capture shows it the same way. ``History`` holds exchanges by id
in arrival order: a pending row completes in place, a stale Pending after its Completed is
ignored, the oldest are evicted and counted, and ``generation`` moves on every change so
views know when to redraw. ``CaptureState.apply`` folds a batch of records into a history and
into the capture's totals (ready, pids, Stats, lost events, exited processes, the error, what
the filter let through). Neither is thread-safe: the terminal UI and the language server use
them on their event loop only, the IPython handle under its own lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from httptap.filter import Filter
from httptap.model import Exchange, find_header
from httptap.records import (
    Completed,
    Error,
    Lost,
    Message,
    Pending,
    ProcessExit,
    Ready,
    Record,
    Stats,
)


class Entry:
    """One kept exchange: its arrival number, completion number and a front end's cache."""

    __slots__ = ("done", "ex", "memo", "seq")

    def __init__(self, seq: int, ex: Exchange) -> None:
        #: arrival number, stable while the entry is kept (later arrivals have larger ones)
        self.seq = seq
        self.ex = ex
        #: completion number (0 while pending): orders exchanges by when they completed
        self.done = 0
        #: anything a front end derives from ``ex`` (reset to None whenever ``ex`` changes)
        self.memo: Any = None


class History:
    """At most ``limit`` exchanges by id, oldest first; not thread-safe.

    ``paused``: new exchanges wait in a hold (at most ``limit``, the oldest dropped and
    counted) while the kept ones still complete; ``set_paused(False)`` adds what was held.
    """

    def __init__(self, limit: int = 10_000) -> None:
        if limit <= 0:
            raise ValueError("the history limit must be positive")
        self.limit = limit
        self.evicted = 0  # dropped by the limit (or from the hold) since the last clear
        self.added = 0  # entries created since the last clear
        self.generation = 0  # moves on every change; views and caches key on it
        self.paused = False
        self._items: OrderedDict[str, Entry] = OrderedDict()
        self._held: OrderedDict[str, Exchange] = OrderedDict()
        self._forgotten: set[str] = set()  # pending at a clear: their completion stays away
        self._seq = 0
        self._done = 0
        self._pending = 0
        self._anon = 0

    # -- reading --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, ex_id: object) -> bool:
        return ex_id in self._items

    def get(self, ex_id: str) -> Exchange | None:
        """The kept exchange with id ``ex_id``, or None."""
        entry = self._items.get(ex_id)
        return entry.ex if entry is not None else None

    def entry(self, ex_id: str) -> Entry | None:
        """The entry of ``ex_id``, or None."""
        return self._items.get(ex_id)

    def entries(self) -> list[Entry]:
        """Every entry, oldest first (a snapshot)."""
        return list(self._items.values())

    def exchanges(self) -> list[Exchange]:
        """Every exchange, pending ones included, oldest first."""
        return [e.ex for e in self._items.values()]

    def newest_first(self) -> Iterator[Exchange]:
        """Every exchange, newest first."""
        return (e.ex for e in reversed(list(self._items.values())))

    def completed(self) -> list[Exchange]:
        """The complete exchanges, in the order they completed."""
        done = [e for e in self._items.values() if e.done]
        done.sort(key=_done_of)  # nearly sorted already: linear in practice
        return [e.ex for e in done]

    def pending(self) -> list[Exchange]:
        """The exchanges still waiting for their answer, oldest first."""
        return [e.ex for e in self._items.values() if not e.done]

    @property
    def pending_count(self) -> int:
        """How many kept exchanges still wait for their answer."""
        return self._pending

    @property
    def completed_count(self) -> int:
        """How many kept exchanges are complete."""
        return len(self._items) - self._pending

    @property
    def held(self) -> int:
        """New exchanges waiting for the end of a pause."""
        return len(self._held)

    @property
    def oldest_seq(self) -> int:
        """The arrival number of the oldest kept entry (the next one's when empty)."""
        for entry in self._items.values():
            return entry.seq
        return self._seq + 1

    # -- changing -------------------------------------------------------------------------

    def put(self, ex: Exchange) -> Entry | None:
        """Add ``ex`` or complete/update the entry with its id; the entry, or None if nothing
        was kept (held while paused, a stale Pending, a pending one forgotten by ``clear``)."""
        if not ex.id:
            self._anon += 1
            ex.id = f"anon-{self._anon}"
        ex_id = ex.id
        if self._forgotten and ex_id in self._forgotten:
            if ex.complete:
                self._forgotten.discard(ex_id)
            return None
        entry = self._items.get(ex_id)
        if entry is not None:
            if entry.done and not ex.complete:
                return None  # a stale Pending after its Completed
            entry.ex = ex
            entry.memo = None
            if ex.complete and not entry.done:
                self._pending -= 1
                self._done += 1
                entry.done = self._done
            self.generation += 1
            return entry
        if self.paused:
            old = self._held.get(ex_id)
            if old is None or not old.complete:
                self._held[ex_id] = ex
                if len(self._held) > self.limit:
                    self._held.popitem(last=False)
                    self.evicted += 1
                self.generation += 1
            return None
        return self._add(ex)

    def remove(self, ex_id: str) -> Entry | None:
        """Forget ``ex_id``; its entry, or None if it was not kept."""
        entry = self._items.pop(ex_id, None)
        if entry is not None:
            if not entry.done:
                self._pending -= 1
            self.generation += 1
        return entry

    def resize(self, limit: int) -> None:
        """Change the bound, evicting the oldest if needed."""
        self.limit = max(1, limit)
        self._evict()
        self.generation += 1

    def set_paused(self, paused: bool) -> list[Entry]:
        """Pause (hold new exchanges) or resume; returns the entries a resume added."""
        self.paused = paused
        if paused:
            return []
        held, self._held = self._held, OrderedDict()
        added = [e for ex in held.values() if (e := self.put(ex)) is not None]
        self.generation += 1
        return added

    def clear(self, *, forget_pending: bool = False) -> None:
        """Forget every exchange (and what is held) and the counts.

        ``forget_pending``: the pending ones never come back, not even when they complete.
        """
        self._forgotten = set()
        if forget_pending:
            self._forgotten = {i for i, e in self._items.items() if not e.done}
            self._forgotten.update(i for i, ex in self._held.items() if not ex.complete)
        self._items.clear()
        self._held.clear()
        self._pending = 0
        self.evicted = 0
        self.added = 0
        self.generation += 1

    def _add(self, ex: Exchange) -> Entry:
        self._seq += 1
        entry = Entry(self._seq, ex)
        if ex.complete:
            self._done += 1
            entry.done = self._done
        else:
            self._pending += 1
        items = self._items
        items[ex.id] = entry
        self.added += 1
        if len(items) > self.limit:
            self._evict()
        self.generation += 1
        return entry

    def _evict(self) -> None:
        items = self._items
        while len(items) > self.limit:
            _id, old = items.popitem(last=False)
            if not old.done:
                self._pending -= 1
            self.evicted += 1


_EXCHANGE_RECORDS = (Completed, Pending)
_VERDICTS = 4096  # exchanges whose filter verdict is remembered for their messages
_WAITING = 1024  # WebSocket/SSE exchanges a ws.*/sse.* filter judges again with each message


def _done_of(entry: Entry) -> int:
    return entry.done


@dataclass(slots=True)
class Applied:
    """What one batch of records changed."""

    #: history entries added or changed, in record order (an entry may appear twice)
    changed: list[Entry] = field(default_factory=list)
    #: history entries taken out (their exchange stopped passing the filter, or --count)
    removed: list[Entry] = field(default_factory=list)
    #: complete exchanges that passed the filter (and the count), in record order
    completed: list[Exchange] = field(default_factory=list)
    #: Ready, Lost, ProcessExit and Error records, in order
    notable: list[Record] = field(default_factory=list)
    #: WebSocket messages and SSE events whose exchange passed the filter, in order
    messages: list[Message] = field(default_factory=list)
    #: ``completed`` and ``messages`` interleaved in record order: what a log prints
    timeline: list[Exchange | Message] = field(default_factory=list)


class CaptureState:
    """The one fold of a capture's records: its history and its totals.

    ``filter`` keeps only the exchanges it matches (a pending request may fail a filter its
    answer passes, and the reverse: the row goes or comes). ``count`` stops taking exchanges
    after that many complete ones. Without a ``history`` nothing is kept: only the counts
    move and ``Applied.completed`` says what to print.
    """

    def __init__(
        self,
        history: History | None = None,
        *,
        filter: Filter | None = None,
        count: int | None = None,
    ) -> None:
        self.history = history
        self.filter = filter
        self.count = count
        self.ready = False
        self.pids: list[int] = []  # traced at attach (Ready)
        self.message = ""  # Ready's message
        self.totals = Stats()  # the engine's latest running totals
        self.lost = 0  # sum of Lost records (Stats.lost is the engine's own count)
        self.exited: list[int] = []  # every traced process that exited, in order
        self.remaining: int | None = None  # traced processes left after the last exit
        self.error: Error | None = None
        self.received = 0  # Pending/Completed records taken
        self.completed = 0  # Completed records taken
        self.filtered_out = 0  # Pending/Completed records the filter turned away
        # the filter's verdict on recent exchanges, for messages that come without theirs
        self._verdicts: OrderedDict[str, bool] = OrderedDict()
        # turned away by a filter on messages before their messages came: judged again
        self._waiting: OrderedDict[str, Exchange] = OrderedDict()

    # -- derived ----------------------------------------------------------------------------

    @property
    def seen(self) -> int:
        """Exchanges added to the history (pending or complete) since it was last cleared."""
        return self.history.added if self.history is not None else self.completed

    @property
    def pending(self) -> int:
        """Kept exchanges still waiting for their answer."""
        return self.history.pending_count if self.history is not None else 0

    @property
    def lost_events(self) -> int:
        """Events the kernel could not deliver, as far as anyone counted."""
        return max(self.lost, self.totals.lost)

    @property
    def limit_reached(self) -> bool:
        """True once ``count`` complete exchanges were taken."""
        return self.count is not None and self.completed >= self.count

    @property
    def running_pids(self) -> list[int]:
        """The processes traced at attach that have not exited."""
        gone = set(self.exited)
        return [p for p in self.pids if p not in gone]

    # -- the fold ---------------------------------------------------------------------------

    def apply(self, batch: Iterable[Record]) -> Applied:
        """Fold ``batch`` into the state; what it changed."""
        out = Applied()
        flt = self.filter
        matches = None if flt is None or flt.empty else flt.matches
        for rec in batch:
            if isinstance(rec, _EXCHANGE_RECORDS):
                ex = rec.exchange
                done = isinstance(rec, Completed)
                if self.count is not None and self.completed >= self.count:
                    if done:
                        self._drop(ex, done, out)
                    continue
                if matches is not None and not self._verdict(ex.id, matches(ex)):
                    self.filtered_out += 1
                    self._drop(ex, done, out)
                    if flt is not None and flt.uses_messages and _carries_messages(ex):
                        self._wait(ex)
                    continue
                self._admit(ex, out)
            elif isinstance(rec, Stats):
                self.totals = rec
            elif isinstance(rec, Message):
                self._message(rec, matches, out)
            else:
                self._note(rec)
                out.notable.append(rec)
        return out

    def _admit(self, ex: Exchange, out: Applied) -> None:
        self._waiting.pop(ex.id, None)
        self.received += 1
        if ex.complete:
            self.completed += 1
            out.completed.append(ex)
            out.timeline.append(ex)
        if self.history is not None:
            entry = self.history.put(ex)
            if entry is not None:
                out.changed.append(entry)

    def _wait(self, ex: Exchange) -> None:
        waiting = self._waiting
        waiting[ex.id] = ex
        waiting.move_to_end(ex.id)
        if len(waiting) > _WAITING:
            waiting.popitem(last=False)

    def _judge_waiting(self, rec: Message, held: Exchange, matches: Any, out: Applied) -> bool:
        """A message of an exchange the filter turned away for want of messages: it joins
        the exchange, which is judged again; admitted (with its messages) once it passes."""
        if rec.exchange is None:
            held.messages.append(rec.message)
        elif held is not rec.exchange:
            held.messages.extend(rec.exchange.messages[len(held.messages) :])
        if not matches(held):
            return False
        ex_id = rec.message.exchange_id
        del self._waiting[ex_id]
        self._verdict(ex_id, True)
        self.filtered_out -= 1
        if self.count is not None and self.completed >= self.count:
            return False
        self._admit(held, out)
        out.messages.append(rec)
        out.timeline.append(rec)
        return True

    def _message(self, rec: Message, matches: Any, out: Applied) -> None:
        history = self.history
        if matches is not None and (held := self._waiting.get(rec.message.exchange_id)):
            self._judge_waiting(rec, held, matches, out)
            return
        entry = history.entry(rec.message.exchange_id) if history is not None else None
        ex = rec.exchange or (entry.ex if entry is not None else None)
        if matches is not None:
            # the filter is on exchanges: a message goes with the verdict on its handshake or
            # SSE response (judging the exchange again per message would cost a chat's whole
            # history per message under a ws.* filter); judged now only when forgotten
            passed = self._verdicts.get(rec.message.exchange_id)
            if passed is None and ex is not None:
                passed = matches(ex)
            if not passed:
                return
        if entry is not None:
            kept = entry.ex.messages
            if rec.exchange is None:
                # through the helper a message comes alone: it joins its exchange here
                kept.append(rec.message)
            elif entry.ex is not rec.exchange and len(kept) < len(rec.exchange.messages):
                # a pending row (an SSE response) is a snapshot, a prefix of the live list
                kept.extend(rec.exchange.messages[len(kept) :])
            entry.memo = None
            history.generation += 1  # type: ignore[union-attr]
            if not out.changed or out.changed[-1] is not entry:  # a chat: once per run
                out.changed.append(entry)
        out.messages.append(rec)
        out.timeline.append(rec)

    def _verdict(self, ex_id: str, passed: bool) -> bool:
        verdicts = self._verdicts
        verdicts[ex_id] = passed
        if len(verdicts) > _VERDICTS:
            verdicts.popitem(last=False)
        return passed

    def _drop(self, ex: Exchange, done: bool, out: Applied) -> None:
        history = self.history
        if history is None:
            return
        entry = history.entry(ex.id)
        # a stale Pending must not take away the complete row it was overtaken by
        if entry is not None and (done or not entry.done):
            history.remove(ex.id)
            out.removed.append(entry)

    def _note(self, rec: Record) -> None:
        if isinstance(rec, Lost):
            self.lost += rec.count
        elif isinstance(rec, Ready):
            self.ready = True
            self.pids = list(rec.pids) or self.pids
            self.message = rec.message
        elif isinstance(rec, ProcessExit):
            self.exited.append(rec.pid)
            self.remaining = rec.remaining
        elif isinstance(rec, Error):
            self.error = rec


def _carries_messages(ex: Exchange) -> bool:
    """A WebSocket handshake (101) or an event stream: messages follow the exchange."""
    resp = ex.response
    if resp is None:
        return False
    if resp.status == 101:
        return True
    ctype = find_header(resp.headers, "content-type") or ""
    return ctype.lower().startswith("text/event-stream")
