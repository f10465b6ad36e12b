"""Payload codecs: Content-Encoding undone (gzip, deflate, br, zstd), protobuf decoded raw
or by schema (``--proto``). Bytes in, bytes or text out; no formatting, no front end."""

from httptap.content.encoding import (
    DECODERS,
    Decompressed,
    MissingCodec,
    Outcome,
    Step,
    codings,
    undo_content_encoding,
)

__all__ = [
    "DECODERS",
    "Decompressed",
    "MissingCodec",
    "Outcome",
    "Step",
    "codings",
    "undo_content_encoding",
]
