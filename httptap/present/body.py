"""Bodies decoded for display: content-encodings undone (``httptap.content``), then made
displayable (``present.text``), gRPC messages raw or by schema (``--proto``).

Bodies are stored raw (DESIGN.md); this runs only when a body is looked at. Decompression
stops at ``DISPLAY_LIMIT`` bytes of output (a small gzip can expand to gigabytes) and
whatever was cut or could not be decoded is said in ``Decoded.notes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from httptap.content.encoding import Decompressed, Outcome, undo_content_encoding
from httptap.content.proto_schema import message_decoder
from httptap.model import Body, Exchange, GrpcMessage, Headers, find_header
from httptap.present.grpc_text import grpc_text
from httptap.present.text import DISPLAY_LIMIT, Decoded, bytes_text, content_type
from httptap.present.units import human_size

if TYPE_CHECKING:
    from httptap.content.proto_schema import ProtoSchemas


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
        notes.append(f"body truncated at capture: {kept_of(body)}")
    mime, charset = content_type(headers)
    if grpc_messages is not None and mime.startswith("application/grpc"):
        out = grpc_text(grpc_messages, limit, grpc_decoder)
        out.notes[:0] = notes
        return out
    if not body.data:
        text = "(no body)" if body.size == 0 else "(body not captured)"
        return Decoded(text, "empty", notes)
    plain = undo_content_encoding(body.data, find_header(headers, "content-encoding"),
                                  limit=limit)
    notes += encoding_notes(plain, limit, partial=body.truncated)
    out = bytes_text(plain.data, mime, charset, limit, notes, partial=body.truncated)
    out.encodings = plain.undone
    return out


def decode_request(ex: Exchange, schemas: ProtoSchemas | None = None) -> Decoded:
    """The request body of ``ex`` decoded for display (gRPC by name with ``schemas``)."""
    g = ex.grpc
    return decode_body(ex.request.body, ex.request.headers,
                       grpc_messages=g.requests if g is not None else None,
                       grpc_decoder=message_decoder(schemas, g, "request"))


def decode_response(ex: Exchange, schemas: ProtoSchemas | None = None) -> Decoded:
    """The response body of ``ex`` decoded for display (gRPC by name with ``schemas``)."""
    if ex.response is None:
        return Decoded("(no response yet)" if not ex.complete else "(no response)", "empty")
    g = ex.grpc
    return decode_body(ex.response.body, ex.response.headers,
                       grpc_messages=g.responses if g is not None else None,
                       grpc_decoder=message_decoder(schemas, g, "response"))


def kept_of(body: Body) -> str:
    """``1.0K kept of 12.4K``: what the capture kept of a truncated body."""
    return f"{human_size(len(body.data))} kept of {human_size(body.size)}"


def encoding_notes(plain: Decompressed, limit: int, *, partial: bool) -> list[str]:
    """What undoing the content-encodings did, one note per coding."""
    notes = []
    for s in plain.steps:
        if s.outcome is Outcome.UNKNOWN:
            notes.append(f"content-encoding {s.coding!r} not known: showing the encoded bytes")
        elif s.outcome is Outcome.MISSING:
            notes.append(f"content-encoding {s.coding}: {s.detail}; showing the encoded bytes")
        elif s.outcome is Outcome.FAILED:
            notes.append(f"{s.coding} decoding failed ({s.detail}): showing the encoded bytes")
        elif s.outcome is Outcome.CAPPED:
            notes.append(f"{s.coding}: decoded output capped at {human_size(limit)} "
                         f"(decompression bomb guard); the rest is not shown")
        elif s.outcome is Outcome.INCOMPLETE:
            why = "the body was truncated at capture" if partial else "the stream ends early"
            notes.append(f"{s.coding}: incomplete stream ({why}); showing what decoded")
        else:
            notes.append(f"{s.coding}: {human_size(s.size_in)} decoded to "
                         f"{human_size(s.size_out)}")
    return notes
