"""What a WebSocket reader yields: whole messages and notes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class WsMessage:
    """One message, its fragments joined, unmasked and inflated.

    ``data`` is at most the body limit; ``size`` is the true payload size (after inflating);
    ``ts_ns`` is the time of the bytes that completed it.
    """

    opcode: str  # "text" | "binary" | "ping" | "pong" | "close"
    data: bytes
    size: int
    truncated: bool
    compressed: bool
    ts_ns: int
    close_code: int | None = None
    close_reason: str = ""


@dataclass(slots=True)
class WsNote:
    """Something the reader had to tell: a resynchronisation, a gap, a frame it could not use."""

    text: str
    ts_ns: int


WsEvent = WsMessage | WsNote
