"""What the server knows about the current capture: attach state, history, totals.

Lives on the server's event loop only (records are posted there by ``RecordPump``), so it
needs no locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from httptap.filter import Filter
from httptap.model import Exchange
from httptap.records import Completed, Error, Lost, Pending, ProcessExit, Ready, Record, Stats

from .history import History

PROTOCOL_VERSION = 1


@dataclass(slots=True)
class CaptureState:
    """Attach state, the bounded history and the running totals of the current capture."""

    history: History
    pid: int | None = None
    pids: list[int] = field(default_factory=list)
    filter: Filter | None = None
    attached: bool = False
    ready: bool = False
    replay: str | None = None
    error: dict[str, str] | None = None
    exited: list[int] = field(default_factory=list)
    totals: Stats = field(default_factory=Stats)
    lost: int = 0
    seen: int = 0  # exchanges (pending or complete) that passed the filter
    filtered_out: int = 0

    def reset(self, pid: int, flt: Filter | None, replay: str | None) -> None:
        """A new capture begins: forget the previous one's traffic and totals."""
        self.history.clear()
        self.pid, self.pids, self.filter, self.replay = pid, [pid], flt, replay
        self.attached, self.ready, self.error = True, False, None
        self.exited = []
        self.totals, self.lost, self.seen, self.filtered_out = Stats(), 0, 0, 0

    def apply(self, batch: list[Record]) -> tuple[list[Exchange], list[Record]]:
        """Take a batch of records: returns (exchanges added or changed, notable records)."""
        changed: list[Exchange] = []
        notable: list[Record] = []
        for rec in batch:
            if isinstance(rec, Pending | Completed):
                ex = rec.exchange
                if self.filter is not None and not self.filter.matches(ex):
                    # a pending request may fail a filter its answer passes, and the reverse
                    if ex.id in self.history:
                        self.history.remove(ex.id)
                    self.filtered_out += 1
                    continue
                if ex.id not in self.history:
                    self.seen += 1
                self.history.put(ex)
                changed.append(ex)
            elif isinstance(rec, Stats):
                self.totals = rec
            elif isinstance(rec, Lost):
                self.lost += rec.count
                notable.append(rec)
            elif isinstance(rec, Ready):
                self.ready = True
                self.pids = list(rec.pids) or self.pids
                notable.append(rec)
            elif isinstance(rec, ProcessExit):
                self.exited.append(rec.pid)
                notable.append(rec)
            elif isinstance(rec, Error):
                self.error = {"message": rec.message, "remedy": rec.remedy}
                notable.append(rec)
        return changed, notable

    def describe(self) -> dict[str, Any]:
        """The ``httptap/stats`` result (PROTOCOL.md, ``Stats``)."""
        t = self.totals
        return {
            "protocol": PROTOCOL_VERSION,
            "attached": self.attached,
            "ready": self.ready,
            "pid": self.pid,
            "pids": list(self.pids),
            "filter": self.filter.text if self.filter is not None else None,
            "replay": self.replay,
            "error": self.error,
            "exited": list(self.exited),
            "events": t.events,
            "bytes": t.bytes,
            "lost": max(t.lost, self.lost),
            "connections": t.connections,
            "exchanges": self.seen,
            "engine_exchanges": t.exchanges,
            "pending": self.history.pending(),
            "not_http": t.not_http,
            "filtered_out": self.filtered_out,
            "stored": len(self.history),
            "history_limit": self.history.limit,
            "evicted": self.history.evicted,
        }
