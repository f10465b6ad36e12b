"""The list's view of the history: the kept exchanges that pass the display filter, in order.

The rows live in ``httptap.store.History`` (bounded, id-keyed, pending rows completing in
place, pause and clear); this is the ordered subset the list shows, brought up to date once
per batch with what the batch changed. A row is re-evaluated when its exchange changes (a
pending row can start or stop matching when its response arrives), keeps its place by its
arrival number, and leaves when the history evicts it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter

from httptap.model import Exchange
from httptap.store import Entry, History

Matcher = Callable[[Exchange], bool]

_seq_of = attrgetter("seq")


class ExchangeView:
    """The filtered, ordered rows of a ``History``; not thread-safe (the UI loop owns it)."""

    def __init__(self, history: History, matcher: Matcher | None = None) -> None:
        self.history = history
        self.view: list[Entry] = []
        self._matcher = matcher
        self._last_seq = 0  # the newest entry the view has considered

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.history)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.history.exchanges())

    @property
    def shown(self) -> int:
        """Exchanges in the view (passing the filter)."""
        return len(self.view)

    @property
    def held(self) -> int:
        """New exchanges waiting for the end of a pause."""
        return self.history.held

    @property
    def dropped(self) -> int:
        """Exchanges evicted by the history limit (or the hold limit while paused)."""
        return self.history.evicted

    @property
    def paused(self) -> bool:
        return self.history.paused

    def get(self, ex_id: str) -> Exchange | None:
        """The kept exchange with id ``ex_id``, or None."""
        return self.history.get(ex_id)

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

    # -- changing -----------------------------------------------------------------------

    def update(self, changed: Iterable[Entry], removed: Iterable[Entry] = ()) -> None:
        """Catch up with the history after a batch: evictions, removals, new and changed
        entries (``CaptureState.apply``'s ``changed`` and ``removed``)."""
        view = self.view
        oldest = self.history.oldest_seq
        if view and view[0].seq < oldest:
            del view[: bisect.bisect_left(view, oldest, key=_seq_of)]
        for entry in removed:
            self._take_out(entry)
        entry_of = self.history.entry
        for entry in changed:
            if entry_of(entry.ex.id) is not entry:
                continue  # evicted or removed later in the same batch
            if entry.seq > self._last_seq:
                self._last_seq = entry.seq
                if self._matches(entry.ex):
                    view.append(entry)
            elif self._matches(entry.ex):
                i = bisect.bisect_left(view, entry.seq, key=_seq_of)
                if i == len(view) or view[i] is not entry:
                    view.insert(i, entry)
            else:
                self._take_out(entry)

    def set_matcher(self, matcher: Matcher | None) -> None:
        """Filter the view with ``matcher`` (None: show everything)."""
        self._matcher = matcher
        entries = self.history.entries()
        self.view = entries if matcher is None else [e for e in entries if self._matches(e.ex)]
        if entries:
            self._last_seq = max(self._last_seq, entries[-1].seq)

    def set_paused(self, paused: bool) -> None:
        """Pause (the history holds new exchanges) or resume (and show what was held)."""
        self.update(self.history.set_paused(paused))

    def clear(self) -> None:
        """Forget every exchange (and what is held); pending ones do not come back."""
        self.history.clear(forget_pending=True)
        self.view = []

    def _take_out(self, entry: Entry) -> None:
        view = self.view
        i = bisect.bisect_left(view, entry.seq, key=_seq_of)
        if i < len(view) and view[i] is entry:
            del view[i]

    def _matches(self, ex: Exchange) -> bool:
        if self._matcher is None:
            return True
        try:
            return self._matcher(ex)
        except Exception:  # a filter bug must not break the list
            return False
