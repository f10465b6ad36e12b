"""Bytes made displayable: text in its charset, JSON pretty-printed, form fields listed,
protobuf decoded raw, anything else as a hex dump; ``Decoded`` holds the result.

Every step is bounded: text is cut at ``DISPLAY_LIMIT`` characters and hex dumps cover at
most ``HEX_LIMIT`` input bytes; whatever was cut or could not be decoded is said in
``Decoded.notes``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from httptap.content.protobuf import decode_raw, format_raw
from httptap.model import Headers, find_header
from httptap.present.units import human_size

#: Decoded bytes (or characters) shown at most; decompression stops there.
DISPLAY_LIMIT = 4 * 1024 * 1024
#: Input bytes covered by a hex dump at most.
HEX_LIMIT = 256 * 1024

_TEXT_MIMES = (
    "application/javascript",
    "application/ecmascript",
    "application/xml",
    "application/xhtml+xml",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/x-ndjson",
    "application/yaml",
    "application/x-yaml",
    "application/sql",
    "image/svg+xml",
)
_PROTOBUF_MIMES = (
    "application/protobuf",
    "application/x-protobuf",
    "application/vnd.google.protobuf",
    "application/x-google-protobuf",
)


@dataclass(slots=True)
class Decoded:
    """What to show for one body: the text, what it is, and what happened on the way."""

    text: str
    kind: str  # "empty", "text", "json", "form", "protobuf", "grpc" or "hex"
    notes: list[str] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)  # content-encodings undone


def hexdump(data: bytes, limit: int = HEX_LIMIT) -> str:
    """``xxd``-like dump of the first ``limit`` bytes: offset, 16 hex bytes, ASCII."""
    lines = []
    view = data[:limit]
    for off in range(0, len(view), 16):
        row = view[off : off + 16]
        left = " ".join(f"{b:02x}" for b in row[:8])
        right = " ".join(f"{b:02x}" for b in row[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{off:08x}  {left:<23}  {right:<23}  |{text}|")
    return "\n".join(lines)


def content_type(headers: Headers) -> tuple[str, str | None]:
    """``(mime, charset)`` of ``headers``' Content-Type: the mime lower case, "" if none."""
    value = find_header(headers, "content-type") or ""
    mime, *params = value.split(";")
    charset = None
    for p in params:
        key, _, val = p.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip('"') or None
    return mime.strip().lower(), charset


def bytes_text(
    data: bytes, mime: str, charset: str | None, limit: int, notes: list[str], *, partial: bool
) -> Decoded:
    """``data`` (of ``mime``) as text for display; ``notes`` so far come first in its notes.

    ``partial``: ``data`` is a prefix cut at capture (a cut character or JSON is expected).
    """
    if mime in _PROTOBUF_MIMES or mime.endswith("+proto"):
        return Decoded(format_raw(decode_raw(data), max_chars=limit), "protobuf",
                       [*notes, "protobuf decoded without a schema (field numbers, guessed types)"])
    text = _as_text(data, mime, charset, notes, partial=partial)
    if text is None:
        return hex_text(data, notes)
    if len(text) > limit:
        text = text[:limit]
        notes.append(f"text cut at {human_size(limit)} characters for display")
    if _is_json(mime, text):
        try:
            pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            if "json" in mime:
                why = "truncated" if partial else "not valid JSON"
                notes.append(f"JSON body {why}: shown as text")
        else:
            return Decoded(pretty, "json", notes)
    if mime == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            shown = "\n".join(f"{k} = {v}" for k, v in pairs)
            return Decoded(f"{text}\n\n{shown}", "form", notes)
    return Decoded(text, "text", notes)


def _is_json(mime: str, text: str) -> bool:
    if "json" in mime:
        return True
    if mime and not mime.startswith("text/plain"):
        return False
    head = text.lstrip()[:1]
    return head in ("{", "[")


def _textual(mime: str) -> bool:
    return mime.startswith("text/") or "json" in mime or mime.endswith("+xml") or (
        mime in _TEXT_MIMES
    )


def _as_text(
    data: bytes, mime: str, charset: str | None, notes: list[str], *, partial: bool
) -> str | None:
    """``data`` as text, or None when it should be shown as binary."""
    if charset:
        try:
            return data.decode(charset)
        except LookupError:
            notes.append(f"unknown charset {charset!r}: trying UTF-8")
        except UnicodeDecodeError:
            notes.append(f"not valid {charset}: undecodable bytes shown as \ufffd")
            return data.decode(charset, "replace")
    text = _utf8(data, partial=partial)
    if text is not None and (_textual(mime) or _mostly_printable(text)):
        return text
    if text is None and _textual(mime):
        notes.append("not valid UTF-8: shown as Latin-1")
        return data.decode("latin-1")
    return None


def _utf8(data: bytes, *, partial: bool) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A body cut at capture may end inside a multi-byte character.
        if partial and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8", "replace")
        return None


def _mostly_printable(text: str) -> bool:
    sample = text[:4096]
    if "\x00" in sample:
        return False
    bad = sum(1 for c in sample if not c.isprintable() and c not in "\t\r\n")
    return bad <= len(sample) // 100


def hex_text(data: bytes, notes: list[str]) -> Decoded:
    """A hex dump of ``data`` (its first ``HEX_LIMIT`` bytes), after ``notes``."""
    if len(data) > HEX_LIMIT:
        notes.append(f"hex dump of the first {human_size(HEX_LIMIT)} of {human_size(len(data))}")
    return Decoded(hexdump(data), "hex", notes)
