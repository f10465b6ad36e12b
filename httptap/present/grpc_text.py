"""gRPC messages made displayable: each by schema (``--proto``) when one fits, else as raw
protobuf, within one character budget for the whole call."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from httptap.content.protobuf import decode_raw, format_raw
from httptap.model import GrpcMessage
from httptap.present.text import Decoded
from httptap.present.units import human_size


def grpc_text(
    messages: Sequence[GrpcMessage],
    limit: int,
    by_name: Callable[[bytes], str | None] | None = None,
) -> Decoded:
    """The messages of one direction of a call, about ``limit`` characters at most.

    ``by_name`` decodes one message by schema; None from it (or no ``by_name``) shows the
    message as raw protobuf.
    """
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
        else:
            body = format_raw(decode_raw(m.data), max_chars=max(budget, 1024))
        parts.append(body or "(empty message)")
        budget -= len(body)
        if budget <= 0 and i < len(messages):
            parts.append(f"… {len(messages) - i} more message(s) not shown (display limit)")
            break
    how = ("protobuf decoded without a schema" if not named else
           "decoded by name (--proto)" if not unnamed else
           f"{named} decoded by name (--proto), {unnamed} without a schema")
    return Decoded("\n".join(parts), "grpc", [f"{len(messages)} gRPC message(s), {how}"])
