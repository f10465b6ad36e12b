"""A WebSocket connection behind its 101 handshake, as a ``ProtocolParser``: both sides'
readers, their messages on the handshake's exchange."""

from __future__ import annotations

from httptap.model import DEFAULT_BODY_LIMIT, Connection, Exchange
from httptap.protocols.base import Direction, ParserEvent
from httptap.protocols.messages import MessageLog, direction_of, ws_message
from httptap.protocols.websocket.events import WsEvent, WsNote
from httptap.protocols.websocket.negotiation import negotiated_deflate
from httptap.protocols.websocket.reader import WebSocketReader


class WebSocketParser:
    """Reads the frames of both sides; ``exchange`` is the handshake."""

    def __init__(
        self,
        connection: Connection,
        exchange: Exchange,
        *,
        body_limit: int = DEFAULT_BODY_LIMIT,
        midstream: bool = False,
    ) -> None:
        resp = exchange.response
        deflate = negotiated_deflate(exchange.request.headers,
                                     resp.headers if resp is not None else [])
        self._readers = {
            d: WebSocketReader(from_client=d is Direction.REQUEST, deflate=deflate,
                               limit=body_limit, synced=not midstream)
            for d in Direction
        }
        self._direction = {d: direction_of(connection, d is Direction.REQUEST) for d in Direction}
        self._log = MessageLog(exchange)

    def feed(self, direction: Direction, data: bytes, ts_ns: int) -> list[ParserEvent]:
        return self._events(direction, self._readers[direction].feed(data, ts_ns))

    def gap(self, direction: Direction, size: int, ts_ns: int) -> list[ParserEvent]:
        return self._events(direction, self._readers[direction].gap(size, ts_ns))

    def close(self, ts_ns: int) -> list[ParserEvent]:
        out: list[ParserEvent] = []
        for d, reader in self._readers.items():
            out += self._events(d, reader.close(ts_ns))
        return out

    def _events(self, direction: Direction, events: list[WsEvent]) -> list[ParserEvent]:
        out: list[ParserEvent] = []
        for ev in events:
            if isinstance(ev, WsNote):
                self._log.note(f"websocket ({self._direction[direction]}): {ev.text}")
            else:
                out.append(self._log.add(ws_message(ev, self._direction[direction])))
        return out
