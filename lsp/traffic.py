"""Captured exchanges grouped by the source target they match, with counts and percentiles."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from httptap.model import Exchange
from httptap.store import Entry

from .routes import ExchangeKey, Target


@dataclass(slots=True)
class TargetTraffic:
    """The exchanges of one target, oldest first, and what the lens and hover show of them."""

    target: Target
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def completed(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.complete]

    @property
    def pending(self) -> int:
        return sum(1 for e in self.exchanges if not e.complete)

    def methods(self) -> list[tuple[str, int]]:
        """(method, count), most frequent first."""
        return Counter(e.request.method for e in self.exchanges).most_common()

    def statuses(self) -> list[tuple[int, int]]:
        """(status, count) of completed exchanges that got an answer, by status code."""
        counts = Counter(e.status for e in self.exchanges if e.complete and e.status is not None)
        return sorted(counts.items())

    def unanswered(self) -> int:
        """Completed exchanges that never got a status (reset, process exit)."""
        return sum(1 for e in self.exchanges if e.complete and e.status is None)

    def durations(self) -> list[float]:
        """Latencies (ms) of completed exchanges, sorted."""
        return sorted(
            d for e in self.exchanges if e.complete and (d := e.duration_ms) is not None
        )

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile ``p`` (0-100) of the latencies, None without any."""
        return percentile(self.durations(), p)


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def keyed(entries: Iterable[Entry]) -> Iterator[tuple[ExchangeKey, Exchange]]:
    """(key, exchange) of each entry; the key is kept on the entry until its exchange changes."""
    for entry in entries:
        key = entry.memo
        if not isinstance(key, ExchangeKey):
            key = entry.memo = ExchangeKey.of(entry.ex)
        yield key, entry.ex


def match(
    targets: Sequence[Target], entries: Iterable[tuple[ExchangeKey, Exchange]]
) -> list[TargetTraffic]:
    """The traffic of each target (same order as ``targets``), oldest exchange first."""
    out = [TargetTraffic(t) for t in targets]
    if not targets:
        return out
    for key, ex in entries:
        for tt in out:
            if tt.target.matches(key):
                tt.exchanges.append(ex)
    return out
