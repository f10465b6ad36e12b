"""Body framing rules (RFC 9112 section 6-7): Content-Length, chunk sizes, trailer fields."""

from __future__ import annotations

MAX_HEAD = 64 * 1024  # a head (or chunk-size line, or trailer block) larger than this is refused
_MAX_CHUNK_SIZE = (1 << 63) - 1

_OWS = (9, 32)
HEX = frozenset(b"0123456789abcdefABCDEF")


def is_chunked(te: list[str]) -> bool:
    """Whether the final transfer coding is chunked (RFC 9112 section 6.3)."""
    return te[-1].rsplit(",", 1)[-1].strip(" \t").lower() == "chunked"


def content_length(values: list[str]) -> int:
    """The Content-Length, or -1 if invalid (also when repeated with different values)."""
    if len(values) == 1 and values[0].isdecimal() and len(values[0]) < 19:
        return int(values[0])
    length = -1
    for value in values:
        for part in value.split(","):
            part = part.strip(" \t")
            if not (part.isascii() and part.isdecimal()) or len(part) > 18:
                return -1
            n = int(part)
            if length not in (-1, n):
                return -1
            length = n
    return length


def chunk_size(line: bytes | bytearray) -> int:
    """The size on a chunk-size line (no LF), or -1 if the line is invalid."""
    size, _, _ext = bytes(line).rstrip(b"\r").partition(b";")
    size = size.rstrip(b" \t")
    if not size or len(size) > 16 or not HEX.issuperset(size):
        return -1
    value = int(size, 16)
    return value if value <= _MAX_CHUNK_SIZE else -1


def parse_fields(block: bytes | bytearray) -> list[tuple[str, str]] | None:
    """Header fields of a trailer block (ends with its empty line), or None if malformed."""
    fields: list[tuple[str, str]] = []
    for raw in bytes(block).split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line[0] in _OWS:  # obs-fold: continues the previous field's value
            if not fields:
                return None
            name, value = fields[-1]
            more = line.strip(b" \t").decode("latin-1")
            fields[-1] = (name, f"{value} {more}")
            continue
        raw_name, sep, raw_value = line.partition(b":")
        if not sep or not raw_name or raw_name != raw_name.strip(b" \t"):
            return None
        fields.append((raw_name.decode("latin-1"), raw_value.strip(b" \t").decode("latin-1")))
    return fields
