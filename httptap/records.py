"""Typed records that every capture yields, in-process or through the helper.

Front ends consume only these. ``httptap.engine.protocol`` turns them into the helper's
versioned JSON lines and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from httptap import model
from httptap.model import Exchange


@dataclass(slots=True)
class Ready:
    """Probes are live for ``pids``."""

    pids: list[int]
    message: str = ""


@dataclass(slots=True)
class Pending:
    """A request seen, its response not complete yet (the exchange so far)."""

    exchange: Exchange


@dataclass(slots=True)
class Completed:
    """A complete exchange (or one closed without an answer, then with a note)."""

    exchange: Exchange


@dataclass(slots=True)
class Message:
    """A WebSocket message or server-sent event, as it happens (its exchange goes on).

    ``exchange`` is the live exchange it belongs to (its handshake or SSE response) where the
    capture runs in this process; None when it came through the helper (``exchange_id``)."""

    message: model.Message
    exchange: Exchange | None = None


@dataclass(slots=True)
class Stats:
    """Running totals of a capture."""

    events: int = 0
    bytes: int = 0
    #: events the kernel could not deliver (ring buffer full)
    lost: int = 0
    #: bytes in the events the kernel could not deliver
    lost_bytes: int = 0
    connections: int = 0
    exchanges: int = 0
    pending: int = 0
    not_http: int = 0
    #: connections dropped from the table before they closed (too many open at once)
    evicted: int = 0
    #: lost bytes by connection ("pid P fd F REMOTE"), the connections that lost the most;
    #: a socket's loss is known at its next delivered event
    per_connection: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Lost:
    """The kernel could not deliver ``count`` events (ring buffer full); ``pid``/``fd`` name
    the connection that last reported lost bytes, else the one active last (drops are
    counted per CPU: a socket's own loss is known only at its next delivered event)."""

    count: int
    pid: int | None = None
    fd: int | None = None


@dataclass(slots=True)
class ProcessExit:
    """A traced process exited; ``remaining`` traced processes live on."""

    pid: int
    remaining: int = 0


@dataclass(slots=True)
class Error:
    """Capture failed or cannot go on; ``remedy`` says what the user can do."""

    message: str
    remedy: str = ""


Record = Ready | Pending | Completed | Message | Stats | Lost | ProcessExit | Error
