"""Content-Encoding undone: gzip, deflate (zlib-wrapped or raw), br, zstd, stacked.

Every decoder is bounded: it stops at ``limit`` bytes of output however small the input
(a 64 KiB gzip inflates to 64 MiB: the decompression-bomb guard; br is bounded while it
decodes only by brotli >= 1.1, older bindings are fed in small pieces and checked after
each). br needs the
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
            decoded, outcome = decoder(out.data, limit)
        except MissingCodec as exc:
            out.steps.append(Step(coding, Outcome.MISSING, before, detail=str(exc)))
            break
        except Exception as exc:  # any corrupt stream: the caller keeps the encoded bytes
            out.steps.append(Step(coding, Outcome.FAILED, before, detail=str(exc)))
            break
        out.data = decoded
        out.steps.append(Step(coding, outcome, before, len(decoded)))
        if outcome is Outcome.CAPPED:
            break
        # An incomplete stream (a body cut at capture) still goes on to the next coding:
        # the prefix of a stacked encoding often decodes too.
    return out


# -- the decoders: (data, limit) -> (at most limit bytes of output, outcome) ---------------
# Output is built from pieces joined once, trimmed to ``limit`` before the join: at most
# about twice ``limit`` is ever held (the HAR export's bound, tests/fuzz/test_memory_bounds).

_Decoded = tuple[bytes, Outcome]


def _joined(pieces: list[bytes], limit: int, finished: bool) -> _Decoded:
    total = sum(map(len, pieces))
    if total > limit:
        pieces[-1] = pieces[-1][: len(pieces[-1]) - (total - limit)]
        return b"".join(pieces), Outcome.CAPPED
    return b"".join(pieces), Outcome.DECODED if finished else Outcome.INCOMPLETE


def _zlib(wbits: int) -> Callable[[bytes, int], _Decoded]:
    def decode(data: bytes, limit: int) -> _Decoded:
        d = zlib.decompressobj(wbits)
        # max_length bounds the output however small the input: the bomb guard.
        out = d.decompress(data, limit)
        if len(out) == limit and not d.eof and d.decompress(d.unconsumed_tail, 1):
            return out, Outcome.CAPPED
        return out, Outcome.DECODED if d.eof else Outcome.INCOMPLETE

    return decode


def _deflate(data: bytes, limit: int) -> _Decoded:
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


_PIECE = 1 << 20  # output asked for per call, so the pieces overshoot the limit by little


def _brotli(data: bytes, limit: int) -> _Decoded:
    mod = _import_first("brotli", "brotlicffi")
    if mod is None:
        raise MissingCodec("needs the 'brotli' package (pip install brotli)")
    d = mod.Decompressor()
    try:
        # brotli >= 1.1 bounds the output of one call: a few bytes can hold many 16 MiB
        # meta-blocks, so no input piece size bounds it.
        pieces = [d.process(data, output_buffer_limit=min(_PIECE, limit + 1))]
    except TypeError:  # an older binding without the bound: small pieces, checked after each
        return _brotli_pieces(d, data, limit)
    total = len(pieces[0])
    # Output held back by the bound comes with empty input; none at all: the input is spent.
    while total <= limit and not d.is_finished():
        piece = d.process(b"", output_buffer_limit=min(_PIECE, limit + 1 - total))
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    return _joined(pieces, limit, d.is_finished())


def _brotli_pieces(d: Any, data: bytes, limit: int) -> _Decoded:
    pieces, total = [], 0
    for i in range(0, len(data), 64):
        pieces.append(d.process(data[i : i + 64]))
        total += len(pieces[-1])
        if total > limit:
            break
    finished = getattr(d, "is_finished", None)
    return _joined(pieces, limit, bool(finished()) if finished is not None else True)


def _zstd(data: bytes, limit: int) -> _Decoded:
    mod = _import_first("compression.zstd")  # Python 3.14+
    if mod is not None:
        d = mod.ZstdDecompressor()
        out = d.decompress(data, max_length=limit + 1)
        return _joined([out], limit, d.eof)
    mod = _import_first("zstandard")
    if mod is None:
        raise MissingCodec("needs the 'zstandard' package (pip install zstandard)")
    # zstandard's decompressobj takes no output bound and its stream reader says b"" at a
    # frame cut short: the reader measures the output (bounded), then, only when it fits,
    # decompressobj decodes the same input again, bounded by that measure, and tells eof.
    reader = mod.ZstdDecompressor().stream_reader(data)
    pieces, total = [], 0
    while total <= limit:
        piece = reader.read(_PIECE)
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    if total > limit:
        return _joined(pieces, limit, False)
    pieces.clear()
    z = mod.ZstdDecompressor().decompressobj()
    return z.decompress(data), Outcome.DECODED if z.eof else Outcome.INCOMPLETE


#: Decoder of each content-coding name.
DECODERS: dict[str, Callable[[bytes, int], _Decoded]] = {
    "gzip": _zlib(16 + zlib.MAX_WBITS),
    "x-gzip": _zlib(16 + zlib.MAX_WBITS),
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
