"""Filter fields over WebSocket messages and server-sent events.

Two tables' worth: ``EXCHANGE_FIELDS`` join the exchange filter (``ws.text~hello`` is true
when any of the exchange's messages matches) and ``MESSAGE_FIELDS`` are the message-level
filter of a messages view (``opcode=text and text~foo``), evaluated on one ``Message``.
"""

from __future__ import annotations

from httptap.filter.fields import Field, FieldType, Value
from httptap.model import Exchange, Message

OPCODE_WORDS: dict[str, str] = {
    "text": "text",
    "binary": "binary",
    "ping": "ping",
    "pong": "pong",
    "close": "close",
    "event": "event",
}
DIRECTION_WORDS: dict[str, str] = {
    "sent": "sent",
    "send": "sent",
    "out": "sent",
    "received": "received",
    "receive": "received",
    "recv": "received",
    "in": "received",
}
MESSAGE_PROTO_WORDS: dict[str, str] = {"websocket": "websocket", "ws": "websocket", "sse": "sse"}


def message_text(msg: Message) -> str:
    """The captured data as text for matching: UTF-8, else one character per byte."""
    try:
        return msg.data.decode("utf-8")
    except UnicodeDecodeError:
        return msg.data.decode("latin-1")


def sse_event(msg: Message) -> str:
    """The event type of an SSE event: ``message`` when the stream did not name it."""
    return msg.sse_event or "message"


def _one(value: Value | None) -> list[Value]:
    return [] if value is None or value == "" else [value]


def _ws_texts(ex: Exchange, _: str) -> list[Value]:
    return [message_text(m) for m in ex.messages if m.proto == "websocket" and m.opcode == "text"]


def _ws_opcodes(ex: Exchange, _: str) -> list[Value]:
    return list({m.opcode for m in ex.messages if m.proto == "websocket"})


def _sse_events(ex: Exchange, _: str) -> list[Value]:
    return list({sse_event(m) for m in ex.messages if m.proto == "sse"})


def _msg_event(msg: Message, _: str) -> list[Value]:
    return [sse_event(msg)] if msg.proto == "sse" else []


EXCHANGE_FIELDS: tuple[Field, ...] = (
    Field("ws.text", FieldType.TEXT, "any WebSocket text message of the exchange (captured part)",
          'ws.text~"hello"', _ws_texts),
    Field("ws.opcode", FieldType.CHOICE,
          "any WebSocket message's opcode: text, binary, ping, pong, close", "ws.opcode=close",
          _ws_opcodes, choices=OPCODE_WORDS),
    Field("sse.event", FieldType.TEXT, "any server-sent event's type (message when unnamed)",
          "sse.event=update", _sse_events),
    Field("messages", FieldType.NUMBER, "WebSocket messages and server-sent events so far",
          "messages>100", lambda ex, _: [len(ex.messages)]),
)  # fmt: skip

MESSAGE_FIELDS: tuple[Field, ...] = (
    Field("direction", FieldType.CHOICE, "sent or received, from the traced process's view",
          "direction=sent", lambda m, _: [m.direction], choices=DIRECTION_WORDS),
    Field("opcode", FieldType.CHOICE, "text, binary, ping, pong, close; event for SSE",
          "opcode=text", lambda m, _: [m.opcode], choices=OPCODE_WORDS),
    Field("proto", FieldType.CHOICE, "websocket (ws) or sse", "proto=sse",
          lambda m, _: [m.proto], choices=MESSAGE_PROTO_WORDS),
    Field("text", FieldType.TEXT, "the data (captured part) as text", "text~error",
          lambda m, _: _one(message_text(m))),
    Field("size", FieldType.SIZE, "payload size (decompressed, true size)", "size>1k",
          lambda m, _: [m.size]),
    Field("event", FieldType.TEXT, "SSE event type (message when unnamed)", "event=update",
          _msg_event),
    Field("sse.id", FieldType.TEXT, "SSE event id", "sse.id=42", lambda m, _: _one(m.sse_id)),
    Field("close.code", FieldType.NUMBER, "close frame status code", "close.code!=1000",
          lambda m, _: _one(m.close_code)),
    Field("close.reason", FieldType.TEXT, "close frame reason", "close.reason~timeout",
          lambda m, _: _one(m.close_reason)),
    Field("compressed", FieldType.BOOL, "sent compressed (permessage-deflate)",
          "compressed=true", lambda m, _: [m.compressed]),
    Field("truncated", FieldType.BOOL, "data cut at the body limit", "truncated",
          lambda m, _: [m.truncated]),
)  # fmt: skip
