"""Live messages of an exchange: WebSocket messages and server-sent events become model
``Message`` objects on ``Exchange.messages`` and ``MessageSeen`` parser events."""

from __future__ import annotations

from collections.abc import Callable

from httptap.model import Connection, Exchange, Message, Role
from httptap.protocols.base import BodyTap, MessageSeen, ParserEvent
from httptap.protocols.sse import SseEvent, SseParser
from httptap.protocols.websocket.events import WsMessage

#: messages kept on one exchange; past it the oldest go (a long-lived socket stays bounded)
MAX_KEPT = 1000
#: notes a message stream may add to its exchange (a garbage stream must not grow them)
MAX_NOTES = 16


class MessageLog:
    """Numbers one exchange's messages and keeps the latest ``MAX_KEPT`` on it."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.seq = 0

    def add(self, message: Message) -> MessageSeen:
        self.seq += 1
        kept = self.exchange.messages
        kept.append(message)
        if len(kept) > MAX_KEPT:
            del kept[0]
            self.exchange.note(f"only the last {MAX_KEPT} messages are kept")
        return MessageSeen(self.exchange, message, self.seq)

    def note(self, text: str) -> None:
        if len(self.exchange.notes) < MAX_NOTES:
            self.exchange.note(text)


def direction_of(connection: Connection, from_client: bool) -> str:
    """``"sent"`` or ``"received"``, from the traced process's view, of what the client (or
    the server) sent; a connection of unknown role counts as a client's, as its bytes do."""
    client = connection.role is not Role.SERVER
    return "sent" if from_client == client else "received"


def ws_message(ev: WsMessage, direction: str) -> Message:
    return Message(proto="websocket", direction=direction, opcode=ev.opcode, data=ev.data,
                   size=ev.size, truncated=ev.truncated, compressed=ev.compressed,
                   close_code=ev.close_code, close_reason=ev.close_reason, time_ns=ev.ts_ns)


def sse_message(ev: SseEvent, direction: str) -> Message:
    return Message(proto="sse", direction=direction, opcode="event", data=ev.data,
                   size=ev.size, truncated=ev.truncated, sse_id=ev.id, sse_event=ev.event,
                   sse_retry=ev.retry, time_ns=ev.ts_ns)


def _is_event_stream(headers: list[tuple[str, str]]) -> bool:
    # called for every HTTP/1 response: the length test spares lower() on most names
    for name, value in headers:
        if len(name) == 12 and name.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower() == "text/event-stream"
    return False


def sse_tap(connection: Connection, limit: int) -> Callable[[Exchange], BodyTap | None]:
    """For ``Http1Parser``: a tap on each ``text/event-stream`` response body."""

    def make(ex: Exchange) -> BodyTap | None:
        resp = ex.response
        if resp is None or not _is_event_stream(resp.headers):
            return None
        parser = SseParser(limit)
        log = MessageLog(ex)
        direction = direction_of(connection, False)

        def tap(data: bytes, ts_ns: int) -> list[ParserEvent]:
            return [log.add(sse_message(e, direction)) for e in parser.feed(data, ts_ns)]

        return tap

    return make
