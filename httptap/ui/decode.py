"""Bodies decoded for display: content-encodings undone, JSON pretty-printed, text in its
charset, protobuf and gRPC messages decoded raw, anything else as a hex dump.

Bodies are stored raw (DESIGN.md); this runs only when a body is looked at. Every step is
bounded: decompression stops at ``DISPLAY_LIMIT`` bytes of output (a small gzip can expand
to gigabytes), hex dumps cover at most ``HEX_LIMIT`` input bytes, and whatever was cut or
could not be decoded is said in ``Decoded.notes``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from httptap.cli.lines import human_size
from httptap.model import Body, GrpcMessage, Headers, find_header

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


def decode_body(
    body: Body,
    headers: Headers,
    *,
    grpc_messages: Sequence[GrpcMessage] | None = None,
    grpc_decoder: Callable[[bytes], str | None] | None = None,
    limit: int = DISPLAY_LIMIT,
) -> Decoded:
    """Decode ``body`` (sent with ``headers``) for display, at most ``limit`` bytes of output.

    ``grpc_decoder`` decodes one gRPC message by name (``--proto``); None from it (or no
    decoder) means the message is shown as raw protobuf.
    """
    notes: list[str] = []
    if body.truncated:
        notes.append(
            f"body truncated at capture: {human_size(len(body.data))} kept "
            f"of {human_size(body.size)}"
        )
    mime, charset = _content_type(headers)
    if grpc_messages is not None and mime.startswith("application/grpc"):
        out = _grpc(grpc_messages, limit, grpc_decoder)
        out.notes[:0] = notes
        return out
    if not body.data:
        text = "(no body)" if body.size == 0 else "(body not captured)"
        return Decoded(text, "empty", notes)
    data, encodings = _undo_encodings(body.data, find_header(headers, "content-encoding"),
                                      limit, notes, partial=body.truncated)
    out = _present(data, mime, charset, limit, notes, partial=body.truncated)
    out.encodings = encodings
    return out


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


# -- content-encoding ---------------------------------------------------------------------


def _undo_encodings(
    data: bytes, header: str | None, limit: int, notes: list[str], *, partial: bool
) -> tuple[bytes, list[str]]:
    """Undo ``Content-Encoding`` (a list, applied in order, so undone in reverse)."""
    if not header:
        return data, []
    done: list[str] = []
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            notes.append(f"content-encoding {coding!r} not known: showing the encoded bytes")
            break
        try:
            out, complete = decoder(data, limit)
        except _Missing as exc:
            notes.append(f"content-encoding {coding}: {exc}; showing the encoded bytes")
            break
        except Exception as exc:  # any corrupt stream: show the bytes rather than fail
            notes.append(f"{coding} decoding failed ({exc}): showing the encoded bytes")
            break
        before = len(data)
        data = out
        done.append(coding)
        if len(data) > limit:
            data = data[:limit]
            notes.append(
                f"{coding}: decoded output capped at {human_size(limit)} "
                f"(decompression bomb guard); the rest is not shown"
            )
            break
        if not complete:
            why = "the body was truncated at capture" if partial else "the stream ends early"
            notes.append(f"{coding}: incomplete stream ({why}); showing what decoded")
        else:
            notes.append(
                f"{coding}: {human_size(before)} decoded to {human_size(len(data))}"
            )
    return data, done


class _Missing(Exception):
    """A decoder library that is not installed."""


def _zlib(wbits: int) -> Callable[[bytes, int], tuple[bytes, bool]]:
    def decode(data: bytes, limit: int) -> tuple[bytes, bool]:
        d = zlib.decompressobj(wbits)
        # max_length bounds the output however small the input: the bomb guard.
        out = d.decompress(data, limit + 1)
        return out, d.eof

    return decode


def _deflate(data: bytes, limit: int) -> tuple[bytes, bool]:
    # RFC 9110 deflate is zlib-wrapped, but some servers send raw deflate.
    try:
        return _zlib(zlib.MAX_WBITS)(data, limit)
    except zlib.error:
        return _zlib(-zlib.MAX_WBITS)(data, limit)


def _import_first(*names: str) -> Any:
    for name in names:
        with contextlib.suppress(ImportError):
            return importlib.import_module(name)
    return None


def _brotli(data: bytes, limit: int) -> tuple[bytes, bool]:
    mod = _import_first("brotli", "brotlicffi")
    if mod is None:
        raise _Missing("needs the 'brotli' package (pip install brotli)")
    d = mod.Decompressor()
    out = bytearray()
    # Small input steps keep each step's output bounded (one meta-block at most).
    for i in range(0, len(data), 256):
        out += d.process(data[i : i + 256])
        if len(out) > limit:
            return bytes(out), False
    finished = getattr(d, "is_finished", None)
    return bytes(out), bool(finished()) if finished is not None else True


def _zstd(data: bytes, limit: int) -> tuple[bytes, bool]:
    mod = _import_first("compression.zstd")  # Python 3.14+
    if mod is not None:
        d = mod.ZstdDecompressor()
        out = d.decompress(data, max_length=limit + 1)
        return out, d.eof
    mod = _import_first("zstandard")
    if mod is None:
        raise _Missing("needs the 'zstandard' package (pip install zstandard)")
    reader = mod.ZstdDecompressor().stream_reader(io.BytesIO(data))
    out = bytearray()
    complete = True
    try:
        while len(out) <= limit:
            chunk = reader.read(65536)
            if not chunk:
                break
            out += chunk
    except mod.ZstdError:
        complete = False  # a truncated frame: keep what decoded
    return bytes(out), complete


_DECODERS: dict[str, Callable[[bytes, int], tuple[bytes, bool]]] = {
    "gzip": _zlib(16 + zlib.MAX_WBITS),
    "x-gzip": _zlib(16 + zlib.MAX_WBITS),
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


# -- presentation -------------------------------------------------------------------------


def _content_type(headers: Headers) -> tuple[str, str | None]:
    value = find_header(headers, "content-type") or ""
    mime, *params = value.split(";")
    charset = None
    for p in params:
        key, _, val = p.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip('"') or None
    return mime.strip().lower(), charset


def _present(
    data: bytes, mime: str, charset: str | None, limit: int, notes: list[str], *, partial: bool
) -> Decoded:
    if mime in _PROTOBUF_MIMES or mime.endswith("+proto"):
        out = _protobuf(data, limit)
        if out is not None:
            out.notes[:0] = notes
            return out
    text = _as_text(data, mime, charset, notes, partial=partial)
    if text is None:
        return _hex(data, notes)
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


def _hex(data: bytes, notes: list[str]) -> Decoded:
    if len(data) > HEX_LIMIT:
        notes.append(f"hex dump of the first {human_size(HEX_LIMIT)} of {human_size(len(data))}")
    return Decoded(hexdump(data), "hex", notes)


def _protobuf(data: bytes, limit: int) -> Decoded | None:
    try:
        from httptap.protocols.protobuf import decode_raw, format_raw
    except ImportError:
        return None
    return Decoded(format_raw(decode_raw(data), max_chars=limit), "protobuf",
                   ["protobuf decoded without a schema (field numbers, guessed types)"])


def _grpc(
    messages: Sequence[GrpcMessage],
    limit: int,
    by_name: Callable[[bytes], str | None] | None = None,
) -> Decoded:
    try:
        from httptap.protocols.protobuf import decode_raw, format_raw
    except ImportError:  # the protobuf decoder is optional for display
        decode_raw = format_raw = None  # type: ignore[assignment]
    if not messages:
        return Decoded("(no messages)", "empty", [])
    parts: list[str] = []
    budget = limit
    named = unnamed = 0
    for i, m in enumerate(messages, 1):
        flags = ", compressed" if m.compressed else ""
        cut = ", truncated at capture" if m.truncated else ""
        text = by_name(m.data) if by_name is not None else None
        raw = ", raw (schema did not fit)" if by_name is not None and text is None else ""
        parts.append(f"── message {i} · {human_size(m.size)}{flags}{cut}{raw}")
        named += text is not None
        unnamed += bool(raw)
        if text is not None:
            body = text[: max(budget, 1024)]
        elif format_raw is not None and decode_raw is not None:
            body = format_raw(decode_raw(m.data), max_chars=max(budget, 1024))
        else:
            body = hexdump(m.data)
        parts.append(body or "(empty message)")
        budget -= len(body)
        if budget <= 0 and i < len(messages):
            parts.append(f"… {len(messages) - i} more message(s) not shown (display limit)")
            break
    how = ("protobuf decoded without a schema" if not named else
           "decoded by name (--proto)" if not unnamed else
           f"{named} decoded by name (--proto), {unnamed} without a schema")
    return Decoded("\n".join(parts), "grpc", [f"{len(messages)} gRPC message(s), {how}"])
