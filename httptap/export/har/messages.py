"""WebSocket messages and server-sent events in HAR entries, as Chrome's DevTools keep them.

``_webSocketMessages`` is what Chrome's HAR export writes on a WebSocket entry: ``type``
(``send`` | ``receive``), ``time`` (seconds; epoch seconds here), ``opcode`` (1 text, 2
binary, 8 close, 9 ping, 10 pong) and ``data`` (text; base64 for binary frames, as the
DevTools protocol carries them). Chrome's export writes no SSE; its ``EventSourceMessage``
(``time``, ``eventName``, ``eventId``, ``data``) is what tools that do write
``_eventSourceMessages`` use, so that is the shape here. Each item also carries an
``_httptap`` object with what those shapes lack (true size, truncation, compression, the
close code, the data's encoding), so our files read back exactly; foreign ones load best
effort.
"""

from __future__ import annotations

import base64
from typing import Any

from httptap import contract
from httptap.model import Exchange, Message

OPCODES = {"text": 1, "binary": 2, "close": 8, "ping": 9, "pong": 10}
_OPCODE_NAMES = {v: k for k, v in OPCODES.items()}


def har_messages(ex: Exchange) -> dict[str, list[dict[str, Any]]]:
    """The entry fields of ``ex``'s messages (none when it has none)."""
    ws = [_ws_item(m) for m in ex.messages if m.proto == "websocket"]
    sse = [_sse_item(m) for m in ex.messages if m.proto == "sse"]
    out: dict[str, list[dict[str, Any]]] = {}
    if ws:
        out["_webSocketMessages"] = ws
    if sse:
        out["_eventSourceMessages"] = sse
    return out


def messages_from_har(entry: dict[str, Any], ex: Exchange) -> list[Message]:
    """The messages of a HAR entry (ours exactly, a browser's best effort), in time order.

    Raises ValueError/TypeError/KeyError on items of the wrong shape.
    """
    out: list[Message] = []
    for item in entry.get("_webSocketMessages") or []:
        out.append(_ws_message(item, ex))
    for item in entry.get("_eventSourceMessages") or []:
        out.append(_sse_message(item, ex))
    if entry.get("_webSocketMessages") and entry.get("_eventSourceMessages"):
        out.sort(key=lambda m: m.time_ns)
    for i, m in enumerate(out, 1):
        m.id = m.id or f"{ex.id}.{i}"
    return out


# -- writing -----------------------------------------------------------------------------


def _custom(m: Message, encoding: str) -> dict[str, Any]:
    custom: dict[str, Any] = {"id": m.id, "size": m.size, "truncated": m.truncated}
    if m.compressed:
        custom["compressed"] = True
    if encoding == "base64":
        custom["encoding"] = "base64"
    return custom


def _ws_item(m: Message) -> dict[str, Any]:
    if m.opcode == "binary":
        data, encoding = base64.b64encode(m.data).decode("ascii"), "base64"
    else:
        data, encoding = contract.encode_bytes(m.data)
    custom = _custom(m, encoding)
    if m.close_code is not None:
        custom["close_code"] = m.close_code
        custom["close_reason"] = m.close_reason
    return {
        "type": "send" if m.direction == "sent" else "receive",
        "time": m.wall if m.wall is not None else 0.0,
        "opcode": OPCODES.get(m.opcode, 1),
        "data": data,
        "_httptap": custom,
    }


def _sse_item(m: Message) -> dict[str, Any]:
    data, encoding = contract.encode_bytes(m.data)
    custom = _custom(m, encoding)
    if m.sse_retry is not None:
        custom["retry"] = m.sse_retry
    if m.sse_event is None:
        custom["unnamed"] = True  # eventName says "message", as a browser reports it
    if m.direction == "sent":
        custom["direction"] = "sent"  # the traced process is the server
    return {
        "time": m.wall if m.wall is not None else 0.0,
        "eventName": m.sse_event or "message",
        "eventId": m.sse_id or "",
        "data": data,
        "_httptap": custom,
    }


# -- reading -----------------------------------------------------------------------------


def _common(item: dict[str, Any], ex: Exchange, data: bytes) -> Message:
    c = _custom_of(item)
    time = item.get("time")
    wall = float(time) if isinstance(time, int | float) and time > 0 else None
    size = c.get("size")
    return Message(
        id=str(c.get("id") or ""),
        exchange_id=ex.id,
        pid=ex.connection.pid,
        tid=ex.connection.tid,
        data=data,
        size=int(size) if isinstance(size, int) and size >= 0 else len(data),
        truncated=bool(c.get("truncated")),
        compressed=bool(c.get("compressed")),
        time_ns=round(wall * 1e9) if wall is not None else 0,
        wall=wall,
    )


def _custom_of(item: dict[str, Any]) -> dict[str, Any]:
    c = item.get("_httptap")
    return c if isinstance(c, dict) else {}


def _ws_message(item: dict[str, Any], ex: Exchange) -> Message:
    opcode = _OPCODE_NAMES.get(int(item.get("opcode", 1)), "text")
    c = _custom_of(item)
    text = str(item.get("data") or "")
    binary = c.get("encoding") == "base64" or (opcode == "binary" and not c)
    m = _common(item, ex, contract.decode_bytes(text, "base64" if binary else "utf-8"))
    m.proto = "websocket"
    m.direction = "sent" if item.get("type") == "send" else "received"
    m.opcode = opcode
    if c.get("close_code") is not None:
        m.close_code = int(c["close_code"])
        m.close_reason = str(c.get("close_reason") or "")
    return m


def _sse_message(item: dict[str, Any], ex: Exchange) -> Message:
    c = _custom_of(item)
    text = str(item.get("data") or "")
    m = _common(item, ex, contract.decode_bytes(text, str(c.get("encoding") or "utf-8")))
    m.proto = "sse"
    m.direction = "sent" if c.get("direction") == "sent" else "received"
    m.opcode = "event"
    event = item.get("eventName")
    m.sse_event = None if c.get("unnamed") or not event else str(event)
    m.sse_id = str(item["eventId"]) if item.get("eventId") else None
    retry = c.get("retry")
    m.sse_retry = int(retry) if retry is not None else None
    return m
