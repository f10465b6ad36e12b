"""WebSocket messages and server-sent events as every front end shows them.

A messages view is one row per message, like the browser's: time, an arrow (↑ sent by the
traced process, ↓ received), the opcode (the event type for SSE), the size and a one-line
preview of the data — text as text, anything else as hex. ``message_data`` is the whole
message for a detail pane: text pretty-printed when it is JSON, else a hex dump.
"""

from __future__ import annotations

from dataclasses import dataclass

from httptap.model import Exchange, Message
from httptap.present.clock import clock
from httptap.present.text import DISPLAY_LIMIT, Decoded, bytes_text, hex_text
from httptap.present.units import human_size

ARROWS = {"sent": "↑", "received": "↓"}
#: characters of data a row shows at most
PREVIEW = 120
#: bytes of binary data a row shows as hex at most
_HEX_PREVIEW = 24


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One message as the cells of a row; ``binary`` when ``preview`` is hex."""

    time: str
    arrow: str
    direction: str
    opcode: str
    size: str
    preview: str
    binary: bool
    flags: str  # "compressed", "truncated", "compressed, truncated" or ""


def message_row(msg: Message, preview: int = PREVIEW) -> MessageRow:
    """The row of ``msg``, its preview at most ``preview`` characters."""
    text, binary = message_preview(msg, preview)
    flags = [f for f, on in (("compressed", msg.compressed), ("truncated", msg.truncated)) if on]
    return MessageRow(
        time=clock(msg.wall),
        arrow=ARROWS.get(msg.direction, "·"),
        direction=msg.direction,
        opcode=message_kind(msg),
        size=human_size(msg.size),
        preview=text,
        binary=binary,
        flags=", ".join(flags),
    )


def message_kind(msg: Message) -> str:
    """The opcode; for an SSE event its type (``message`` when unnamed)."""
    if msg.proto == "sse":
        return msg.sse_event or "message"
    return msg.opcode


def message_preview(msg: Message, limit: int = PREVIEW) -> tuple[str, bool]:
    """``(text, binary)``: one line of at most ``limit`` characters of the data.

    A close shows its code and reason; a binary message (or text that is not UTF-8) the
    first bytes in hex.
    """
    if msg.opcode == "close":
        if msg.close_code is None:
            return "close", False
        return _cut(f"{msg.close_code} {msg.close_reason}".rstrip(), limit), False
    text = as_text(msg)
    if text is None:
        shown = msg.data[: min(_HEX_PREVIEW, max(limit // 3, 1))]
        hexed = " ".join(f"{b:02x}" for b in shown)
        more = "…" if len(msg.data) > len(shown) or msg.truncated else ""
        return (hexed + more if hexed else "(empty)"), True
    if not text:
        return "(empty)", False
    return _cut(_one_line(text), limit, more=msg.truncated), False


def as_text(msg: Message) -> str | None:
    """The data as text, or None for binary data (a binary opcode, or not UTF-8).

    A message cut at the body limit may end inside a character: that end is dropped.
    """
    if msg.opcode == "binary":
        return None
    try:
        return msg.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = exc.reason == "unexpected end of data" and exc.start >= len(msg.data) - 3
        if msg.truncated and cut:
            return msg.data[: exc.start].decode("utf-8")
        return None


def message_data(msg: Message, limit: int = DISPLAY_LIMIT) -> Decoded:
    """The whole captured data of ``msg`` for a detail pane (JSON pretty, binary as hex)."""
    notes = []
    if msg.truncated:
        notes.append(f"data truncated at capture: {human_size(len(msg.data))} kept of "
                     f"{human_size(msg.size)}")
    if msg.compressed:
        notes.append("sent compressed (permessage-deflate): shown decompressed")
    if msg.opcode == "close" and msg.close_code is not None:
        notes.append(f"close code {msg.close_code}" +
                     (f": {msg.close_reason}" if msg.close_reason else ""))
        return Decoded(f"{msg.close_code} {msg.close_reason}".rstrip(), "text", notes)
    if not msg.data:
        return Decoded("(empty)", "empty", notes)
    if as_text(msg) is None:
        return hex_text(msg.data, notes)
    return bytes_text(msg.data, "text/plain", None, limit, notes, partial=msg.truncated)


def carries_messages(ex: Exchange) -> bool:
    """Whether ``ex`` is (or is becoming) a WebSocket or an event stream: a messages view
    applies to it."""
    if ex.messages:
        return True
    if ex.status == 101 or (ex.request.header("upgrade") or "").lower() == "websocket":
        return True
    ctype = ex.response.header("content-type") if ex.response is not None else None
    return (ctype or "").lower().startswith("text/event-stream")


def message_count(n: int) -> str:
    """``⇅ 12``: a list row's marker of an exchange with messages ("" for none)."""
    return f"⇅ {n}" if n else ""


def _one_line(text: str) -> str:
    return " ".join(text.split()) if any(c in text for c in "\r\n\t") else text


def _cut(text: str, limit: int, *, more: bool = False) -> str:
    if len(text) > limit:
        return text[: max(limit - 1, 0)] + "…"
    return text + "…" if more else text
