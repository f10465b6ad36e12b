"""The UI's bounded history of exchanges and the filtered view of it.

Exchanges are kept in arrival order, keyed by id so a pending row completes in place. At
most ``history`` are kept; the oldest are dropped and counted. The view is the ordered
subset that passes the filter, re-evaluated when an exchange changes (a pending row can
start or stop matching when its response arrives). While paused, new exchanges wait in a
bounded hold and join on resume, so pausing loses nothing.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterator
from operator import attrgetter

from httptap.model import Exchange

Matcher = Callable[[Exchange], bool]

_seq_of = attrgetter("seq")


class Entry:
    """One row: an exchange and its arrival number (stable while it is kept)."""

    __slots__ = ("ex", "seq")

    def __init__(self, seq: int, ex: Exchange) -> None:
        self.seq = seq
        self.ex = ex


class ExchangeStore:
    """Bounded, filterable, ordered exchanges; not thread-safe (the UI loop owns it)."""

    def __init__(self, history: int = 10_000, matcher: Matcher | None = None) -> None:
        if history <= 0:
            raise ValueError("history must be positive")
        self.history = history
        self.dropped = 0  # evicted by the history limit (or the hold limit while paused)
        self.paused = False
        self.view: list[Entry] = []
        self._entries: list[Entry] = []
        self._by_id: dict[str, Entry] = {}
        self._held: OrderedDict[str, Exchange] = OrderedDict()
        self._forgotten: set[str] = set()  # pending at "clear": their completion stays away
        self._matcher: Matcher | None = matcher
        self._seq = 0
        self._anon = 0

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def shown(self) -> int:
        """Exchanges in the view (passing the filter)."""
        return len(self.view)

    @property
    def held(self) -> int:
        """New exchanges waiting for the end of a pause."""
        return len(self._held)

    def get(self, ex_id: str) -> Exchange | None:
        """The kept exchange with id ``ex_id``, or None."""
        entry = self._by_id.get(ex_id)
        return entry.ex if entry is not None else None

    def index_of(self, seq: int) -> int | None:
        """Position of the entry numbered ``seq`` in the view, or None."""
        i = bisect.bisect_left(self.view, seq, key=_seq_of)
        return i if i < len(self.view) and self.view[i].seq == seq else None

    def index_at_or_after(self, seq: int) -> int:
        """Position of the first view entry numbered ``seq`` or later."""
        return bisect.bisect_left(self.view, seq, key=_seq_of)

    def shown_exchanges(self) -> list[Exchange]:
        """The exchanges of the view, oldest first."""
        return [e.ex for e in self.view]

    def __iter__(self) -> Iterator[Exchange]:
        return (e.ex for e in self._entries)

    # -- changing -----------------------------------------------------------------------

    def put(self, ex: Exchange) -> bool:
        """Add ``ex`` or update the exchange with its id; True if the store changed."""
        if not ex.id:
            self._anon += 1
            ex.id = f"ui-{self._anon}"
        if ex.id in self._forgotten:
            if ex.complete:
                self._forgotten.discard(ex.id)
            return False
        entry = self._by_id.get(ex.id)
        if entry is not None:
            return self._update(entry, ex)
        if self.paused:
            old = self._held.get(ex.id)
            if old is None or not old.complete:
                self._held[ex.id] = ex
                if len(self._held) > self.history:
                    self._held.popitem(last=False)
                    self.dropped += 1
            return False
        self._append(ex)
        return True

    def set_matcher(self, matcher: Matcher | None) -> None:
        """Filter the view with ``matcher`` (None: show everything)."""
        self._matcher = matcher
        if matcher is None:
            self.view = list(self._entries)
        else:
            self.view = [e for e in self._entries if matcher(e.ex)]

    def set_paused(self, paused: bool) -> None:
        """Pause (hold new exchanges) or resume (add what was held)."""
        self.paused = paused
        if not paused:
            held, self._held = self._held, OrderedDict()
            for ex in held.values():
                self.put(ex)
            self.trim()

    def clear(self) -> None:
        """Forget every exchange (and what is held); pending ones do not come back."""
        self._forgotten = {e.ex.id for e in self._entries if not e.ex.complete}
        self._forgotten.update(i for i, ex in self._held.items() if not ex.complete)
        self._entries.clear()
        self._by_id.clear()
        self._held.clear()
        self.view = []
        self.dropped = 0

    def trim(self) -> int:
        """Drop the oldest exchanges beyond ``history``; returns how many."""
        excess = len(self._entries) - self.history
        if excess <= 0:
            return 0
        gone = self._entries[:excess]
        del self._entries[:excess]
        for e in gone:
            del self._by_id[e.ex.id]
        cut = bisect.bisect_right(self.view, gone[-1].seq, key=_seq_of)
        del self.view[:cut]
        self.dropped += excess
        return excess

    def _append(self, ex: Exchange) -> None:
        self._seq += 1
        entry = Entry(self._seq, ex)
        self._entries.append(entry)
        self._by_id[ex.id] = entry
        if self._matches(ex):
            self.view.append(entry)

    def _update(self, entry: Entry, ex: Exchange) -> bool:
        if entry.ex.complete and not ex.complete:
            return False  # a stale Pending after its Completed
        was = self._matches(entry.ex)
        entry.ex = ex
        now = self._matches(ex)
        if was != now:
            i = bisect.bisect_left(self.view, entry.seq, key=_seq_of)
            if now:
                self.view.insert(i, entry)
            elif i < len(self.view) and self.view[i] is entry:
                del self.view[i]
        return True

    def _matches(self, ex: Exchange) -> bool:
        if self._matcher is None:
            return True
        try:
            return self._matcher(ex)
        except Exception:  # a filter bug must not break the list
            return False
