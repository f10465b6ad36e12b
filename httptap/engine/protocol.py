"""The helper protocol: records as versioned JSON lines with a ``"type"`` field, and back.

Exchange and Pending records carry the JSON-lines contract object (``httptap.contract``), so
the helper's exchanges are exactly what ``httptap --jsonl`` prints.
"""

from __future__ import annotations

import json
from typing import Any

from httptap import contract
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

VERSION = 1


def to_json(rec: Record) -> str:
    """One line (without the newline) for ``rec``."""
    d: dict[str, Any]
    if isinstance(rec, Completed):
        d = {"type": "exchange", "exchange": contract.to_dict(rec.exchange)}
    elif isinstance(rec, Pending):
        d = {"type": "pending", "exchange": contract.to_dict(rec.exchange)}
    elif isinstance(rec, Message):
        d = {"type": "message", "message": contract.message_to_dict(rec.message)}
    elif isinstance(rec, Stats):
        d = {
            "type": "stats", "events": rec.events, "bytes": rec.bytes, "lost": rec.lost,
            "lost_bytes": rec.lost_bytes,
            "connections": rec.connections, "exchanges": rec.exchanges,
            "pending": rec.pending, "not_http": rec.not_http, "evicted": rec.evicted,
            "per_connection": rec.per_connection,
        }
    elif isinstance(rec, Ready):
        d = {"type": "ready", "pids": rec.pids, "message": rec.message}
    elif isinstance(rec, Lost):
        d = {"type": "lost", "count": rec.count, "pid": rec.pid, "fd": rec.fd}
    elif isinstance(rec, ProcessExit):
        d = {"type": "process_exit", "pid": rec.pid, "remaining": rec.remaining}
    elif isinstance(rec, Error):
        d = {"type": "error", "message": rec.message, "remedy": rec.remedy}
    else:  # pragma: no cover - every record type is listed above
        raise TypeError(f"not a record: {rec!r}")
    d["v"] = VERSION
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def from_json(line: str) -> Record:
    """Parse one helper line; raises ValueError on anything else."""
    d = json.loads(line)
    if not isinstance(d, dict) or d.get("v") != VERSION:
        raise ValueError(f"not a version {VERSION} helper record: {line[:80]!r}")
    kind = d.get("type")
    if kind == "exchange":
        return Completed(contract.from_dict(d["exchange"]))
    if kind == "pending":
        return Pending(contract.from_dict(d["exchange"]))
    if kind == "message":
        return Message(contract.message_from_dict(d["message"]))
    if kind == "stats":
        return Stats(
            events=d["events"], bytes=d["bytes"], lost=d["lost"],
            lost_bytes=d.get("lost_bytes", 0),
            connections=d["connections"], exchanges=d["exchanges"],
            pending=d.get("pending", 0), not_http=d.get("not_http", 0),
            evicted=d.get("evicted", 0),
            per_connection=d.get("per_connection") or {},
        )
    if kind == "ready":
        return Ready(list(d["pids"]), d.get("message", ""))
    if kind == "lost":
        return Lost(d["count"], d.get("pid"), d.get("fd"))
    if kind == "process_exit":
        return ProcessExit(d["pid"], d.get("remaining", 0))
    if kind == "error":
        return Error(d["message"], d.get("remedy", ""))
    raise ValueError(f"unknown helper record type {kind!r}")
