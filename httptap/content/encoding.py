"""Content-Encoding undone: gzip, deflate (zlib-wrapped or raw), br, zstd, stacked.

Every decoder is bounded: it stops after ``limit + 1`` bytes of output however small the
input (a 64 KiB gzip inflates to 64 MiB: the decompression-bomb guard). br needs the
``brotli`` or ``brotlicffi`` package, zstd ``zstandard`` (or Python 3.14's
``compression.zstd``); a missing one is reported, never raised. What happened at each
coding is returned as ``Step``s so every user (display, HAR) judges the outcome itself.
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.Enum):
    """What undoing one coding came to."""

    DECODED = "decoded"  # the whole stream, within the limit
    INCOMPLETE = "incomplete"  # the stream ends early: what decoded is kept
    CAPPED = "capped"  # the output reached the limit: cut there, codings below not undone
    UNKNOWN = "unknown"  # no decoder for this coding
    MISSING = "missing"  # the decoder's package is not installed
    FAILED = "failed"  # a corrupt stream


#: Outcomes after which ``Decompressed.data`` holds this coding's (partial) output.
_UNDONE = (Outcome.DECODED, Outcome.INCOMPLETE, Outcome.CAPPED)


@dataclass(frozen=True, slots=True)
class Step:
    """One coding of the header, in the order undone (the last applied first)."""

    coding: str
    outcome: Outcome
    size_in: int = 0
    size_out: int = 0
    detail: str = ""  # the package to install, or the decoder's error


@dataclass(slots=True)
class Decompressed:
    """The bytes after undoing what could be undone, and how each coding went."""

    data: bytes
    steps: list[Step] = field(default_factory=list)

    @property
    def undone(self) -> list[str]:
        """Codings whose output ``data`` holds (in the order undone)."""
        return [s.coding for s in self.steps if s.outcome in _UNDONE]

    @property
    def complete(self) -> bool:
        """Every coding undone in full: ``data`` is the whole decoded body."""
        return all(s.outcome is Outcome.DECODED for s in self.steps)


class MissingCodec(Exception):
    """A decoder library that is not installed (the message says what to install)."""


def codings(header: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` value, lower case, in the order applied."""
    if not header:
        return []
    return [c for c in (p.strip().lower() for p in header.split(",")) if c and c != "identity"]


def undo_content_encoding(data: bytes, header: str | None, *, limit: int) -> Decompressed:
    """Undo ``header``'s codings (applied in order, so undone in reverse) on ``data``.

    Stops at the first coding that cannot be undone (unknown, missing, corrupt, or its
    output over ``limit``: cut there), keeping what decoded; the output is at most ``limit``
    bytes.
    """
    out = Decompressed(data)
    for coding in reversed(codings(header)):
        decoder = DECODERS.get(coding)
        if decoder is None:
            out.steps.append(Step(coding, Outcome.UNKNOWN, len(out.data)))
            break
        before = len(out.data)
        try:
            decoded, complete = decoder(out.data, limit)
        except MissingCodec as exc:
            out.steps.append(Step(coding, Outcome.MISSING, before, detail=str(exc)))
            break
        except Exception as exc:  # any corrupt stream: the caller keeps the encoded bytes
            out.steps.append(Step(coding, Outcome.FAILED, before, detail=str(exc)))
            break
        if len(decoded) > limit:
            out.data = decoded[:limit]
            out.steps.append(Step(coding, Outcome.CAPPED, before, limit))
            break
        out.data = decoded
        outcome = Outcome.DECODED if complete else Outcome.INCOMPLETE
        # An incomplete stream (a body cut at capture) still goes on to the next coding:
        # the prefix of a stacked encoding often decodes too.
        out.steps.append(Step(coding, outcome, before, len(decoded)))
    return out


# -- the decoders: (data, limit) -> (at most limit + 1 bytes of output, stream complete) -----


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
        raise MissingCodec("needs the 'brotli' package (pip install brotli)")
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
        raise MissingCodec("needs the 'zstandard' package (pip install zstandard)")
    # zstandard's decompressobj takes no output bound, so it gets the input in pieces no
    # larger than the room left could take: a zstd block yields at most 128 KiB from 4
    # bytes (an RLE block), so a piece of n bytes yields at most n << 15.
    d = mod.ZstdDecompressor().decompressobj()
    out = bytearray()
    pos = 0
    while pos < len(data) and len(out) <= limit and not d.eof:
        step = max(16, (limit - len(out)) >> 15)
        out += d.decompress(data[pos : pos + step])
        pos += step
    # eof: the frame ended (a stream reader would say b"" at a cut frame, not an error)
    return bytes(out), d.eof


#: Decoder of each content-coding name.
DECODERS: dict[str, Callable[[bytes, int], tuple[bytes, bool]]] = {
    "gzip": _zlib(16 + zlib.MAX_WBITS),
    "x-gzip": _zlib(16 + zlib.MAX_WBITS),
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
