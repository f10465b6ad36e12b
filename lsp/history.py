"""The server's bounded memory of captured exchanges, pending ones included."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from httptap.model import Exchange

from .routes import ExchangeKey


class History:
    """Exchanges by id in arrival order, at most ``limit`` of them (oldest evicted first).

    A pending exchange keeps its place when its completed form replaces it, so a side
    panel row turns from "(pending)" into its answer where it stands.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.generation = 0  # bumped on every change; caches key on it
        self.evicted = 0
        self._items: OrderedDict[str, tuple[ExchangeKey, Exchange]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, ex: Exchange) -> None:
        """Add ``ex`` or replace the exchange with the same id."""
        self._items[ex.id] = (ExchangeKey.of(ex), ex)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
            self.evicted += 1
        self.generation += 1

    def remove(self, ex_id: str) -> None:
        """Forget ``ex_id`` if present."""
        if self._items.pop(ex_id, None) is not None:
            self.generation += 1

    def get(self, ex_id: str) -> Exchange | None:
        """The exchange with ``ex_id``, or None."""
        item = self._items.get(ex_id)
        return item[1] if item is not None else None

    def __contains__(self, ex_id: object) -> bool:
        return ex_id in self._items

    def entries(self) -> Iterator[tuple[ExchangeKey, Exchange]]:
        """(key, exchange), oldest first."""
        return iter(list(self._items.values()))

    def newest_first(self) -> Iterator[Exchange]:
        """Exchanges, newest first."""
        return (ex for _key, ex in reversed(list(self._items.values())))

    def pending(self) -> int:
        """How many stored exchanges still wait for their answer."""
        return sum(1 for _k, ex in self._items.values() if not ex.complete)

    def resize(self, limit: int) -> None:
        """Change the bound, evicting the oldest if needed."""
        self.limit = max(1, limit)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
            self.evicted += 1
        self.generation += 1

    def clear(self) -> None:
        """Forget everything (a new capture starts)."""
        self._items.clear()
        self.evicted = 0
        self.generation += 1
