"""What the server knows about the current capture: attach state, history, totals.

The history and the fold of records are ``httptap.store``'s; this adds what only the server
has (the pid it attached to, the replay file, attached or not) and the ``httptap/stats``
answer. Lives on the server's event loop only (records are posted there by the bridge), so
it needs no locks.
"""

from __future__ import annotations

from typing import Any

from httptap.filter import Filter
from httptap.model import Exchange
from httptap.records import Record
from httptap.store import CaptureState, History

PROTOCOL_VERSION = 1


class ServerState:
    """Attach state, the bounded history and the running totals of the current capture."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.capture = CaptureState(history)
        self.pid: int | None = None
        self.attached = False
        self.replay: str | None = None

    @property
    def filter(self) -> Filter | None:
        return self.capture.filter

    def reset(self, pid: int, flt: Filter | None, replay: str | None) -> None:
        """A new capture begins: forget the previous one's traffic and totals."""
        self.history.clear()
        self.capture = CaptureState(self.history, filter=flt)
        self.capture.pids = [pid]
        self.pid, self.replay, self.attached = pid, replay, True

    def apply(self, batch: list[Record]) -> tuple[list[Exchange], list[Record]]:
        """Take a batch of records: returns (exchanges added or changed, notable records)."""
        done = self.capture.apply(batch)
        seen: dict[str, Exchange] = {}
        for entry in done.changed:
            seen[entry.ex.id] = entry.ex
        return list(seen.values()), done.notable

    def describe(self) -> dict[str, Any]:
        """The ``httptap/stats`` result (PROTOCOL.md, ``Stats``)."""
        c = self.capture
        t = c.totals
        flt = c.filter
        return {
            "protocol": PROTOCOL_VERSION,
            "attached": self.attached,
            "ready": c.ready,
            "pid": self.pid,
            "pids": list(c.pids),
            "filter": flt.text if flt is not None else None,
            "replay": self.replay,
            "error": {"message": c.error.message, "remedy": c.error.remedy} if c.error else None,
            "exited": list(c.exited),
            "events": t.events,
            "bytes": t.bytes,
            "lost": c.lost_events,
            "connections": t.connections,
            "exchanges": c.seen,
            "engine_exchanges": t.exchanges,
            "pending": c.pending,
            "not_http": t.not_http,
            "filtered_out": c.filtered_out,
            "stored": len(self.history),
            "history_limit": self.history.limit,
            "evicted": self.history.evicted,
        }
