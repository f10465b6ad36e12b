"""What every sans-IO protocol parser takes and returns.

The engine feeds each connection's bytes, in order, tagged with the direction they travel
in HTTP terms (``REQUEST``: client to server, ``RESPONSE``: server to client); parsers return
events. Parsers never touch bcc, sockets, threads or clocks: time comes in as ``ts_ns``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from httptap.model import Exchange, Message


class Direction(enum.IntEnum):
    REQUEST = 0  # bytes from client to server
    RESPONSE = 1  # bytes from server to client


@dataclass(slots=True)
class ExchangePending:
    """A request's head is known; its exchange is not complete (may be sent again as it grows)."""

    exchange: Exchange


@dataclass(slots=True)
class ExchangeDone:
    """An exchange is complete (or closed unanswered, then with a note)."""

    exchange: Exchange


@dataclass(slots=True)
class ParseFailed:
    """The connection cannot be parsed (any more); the engine stops feeding it."""

    reason: str


@dataclass(slots=True)
class Upgraded:
    """The connection switched protocol; ``leftover`` holds bytes already fed past the switch."""

    protocol: str  # "h2c", "websocket", "tunnel", ...
    leftover: dict[Direction, bytes] = field(default_factory=dict)
    exchange: Exchange | None = None  # the handshake (its headers negotiate extensions)


@dataclass(slots=True)
class MessageSeen:
    """A WebSocket message or server-sent event of ``exchange``, the ``seq``-th (from 1);
    it is already in ``exchange.messages`` (unless the list is full)."""

    exchange: Exchange
    message: Message
    seq: int


ParserEvent = ExchangePending | ExchangeDone | ParseFailed | Upgraded | MessageSeen

#: sees one response body's (de-chunked) bytes and their time as they arrive: SSE
BodyTap = Callable[[bytes, int], list[ParserEvent]]


class ProtocolParser(Protocol):
    """One connection's parser, both directions."""

    def feed(self, direction: Direction, data: bytes, ts_ns: int) -> list[ParserEvent]: ...

    def gap(self, direction: Direction, size: int, ts_ns: int) -> list[ParserEvent]:
        """``size`` bytes went by in ``direction`` that were not copied."""
        ...

    def close(self, ts_ns: int) -> list[ParserEvent]:
        """The connection ended: flush what is pending (unanswered requests with a note)."""
        ...
