"""The WebSocket messages and SSE events of an exchange in ``httptap/exchange``: bounded.

The last ``limit`` messages (default ``DETAIL_MESSAGES``), each with a one-line ``preview``
and its ``data`` made displayable (JSON pretty-printed, binary as a hex dump) and cut to
``data_limit`` characters: a chat of 100 000 messages stays one small response.
"""

from __future__ import annotations

from typing import Any

from httptap.model import Exchange, Message
from httptap.present.clock import iso_utc
from httptap.present.messages import message_data, message_row

#: messages sent in ``httptap/exchange`` unless the client asks otherwise (the newest)
DETAIL_MESSAGES = 200
#: at most this many, whatever the client asks
MAX_MESSAGES = 2000
#: characters of one message's display data unless the client asks otherwise
DETAIL_MESSAGE_DATA = 4096


def messages_detail(ex: Exchange, limit: int = DETAIL_MESSAGES,
                    data_limit: int = DETAIL_MESSAGE_DATA) -> dict[str, Any]:
    """``messages`` (the newest ``limit``, oldest first), ``messages_total`` and
    ``messages_omitted`` (older ones left out) of ``ex``."""
    everything = list(ex.messages)  # a snapshot: the capture may append meanwhile
    limit = max(0, min(limit, MAX_MESSAGES))
    shown = everything[len(everything) - limit :] if limit else []
    return {
        "messages": [message_item(m, data_limit) for m in shown],
        "messages_total": len(everything),
        "messages_omitted": len(everything) - len(shown),
    }


def message_item(m: Message, data_limit: int = DETAIL_MESSAGE_DATA) -> dict[str, Any]:
    """One message as PROTOCOL.md's ``MessageItem``."""
    row = message_row(m)
    decoded = message_data(m)  # in full (bounded itself), then cut: JSON stays pretty
    text = decoded.text
    return {
        "id": m.id,
        "time": iso_utc(m.wall, digits=3) if m.wall is not None else None,
        "proto": m.proto,
        "direction": m.direction,
        "arrow": row.arrow,
        "opcode": m.opcode,
        "kind": row.opcode,
        "size": m.size,
        "preview": row.preview,
        "binary": row.binary,
        "data": text[:data_limit],
        "data_kind": decoded.kind,
        "data_notes": list(decoded.notes),
        "data_display_truncated": len(text) > data_limit,
        "truncated": m.truncated,
        "compressed": m.compressed,
        "close_code": m.close_code,
        "close_reason": m.close_reason,
        "sse": {"id": m.sse_id, "event": m.sse_event, "retry": m.sse_retry}
        if m.proto == "sse" else None,
    }


def messages_text(d: dict[str, Any]) -> list[str]:
    """The messages of a detail object as plain-text lines (none when it has none)."""
    items = d.get("messages") or []
    if not items:
        return []
    lines = ["", f"Messages ({d.get('messages_total', len(items))}):"]
    if d.get("messages_omitted"):
        lines.append(f"  … {d['messages_omitted']} earlier message(s) not sent")
    for m in items:
        clock = (m["time"] or "")[11:23]
        lines.append(f"  {clock} {m['arrow']} {m['kind']:<7} {m['size']:>7}  {m['preview']}")
    return lines
