"""Content-Encoding undone (``httptap.content.encoding``): every coding, stacked, bounded,
and an honest account of what could not be undone."""

from __future__ import annotations

import gzip
import zlib

import pytest

from httptap.content import Outcome, codings, undo_content_encoding
from httptap.content import encoding as enc

TEXT = b"The quick brown fox jumps over the lazy dog. " * 40


def _brotli(data: bytes) -> bytes:
    return pytest.importorskip("brotli").compress(data)


def _zstd(data: bytes) -> bytes:
    return pytest.importorskip("zstandard").ZstdCompressor().compress(data)


def _deflate(data: bytes, wbits: int) -> bytes:
    c = zlib.compressobj(wbits=wbits)
    return c.compress(data) + c.flush()


ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": lambda d: _deflate(d, zlib.MAX_WBITS),
    "br": _brotli,
    "zstd": _zstd,
}


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_every_coding_round_trips(coding: str) -> None:
    out = undo_content_encoding(ENCODERS[coding](TEXT), coding.upper(), limit=1 << 20)
    assert out.data == TEXT
    assert out.complete and out.undone == [coding]
    assert out.steps[0].size_out == len(TEXT) and out.steps[0].outcome is Outcome.DECODED


def test_raw_deflate_as_some_servers_send_it() -> None:
    out = undo_content_encoding(_deflate(TEXT, -zlib.MAX_WBITS), "deflate", limit=1 << 20)
    assert (out.data, out.complete) == (TEXT, True)


def test_stacked_codings_are_undone_last_first() -> None:
    data = _zstd(gzip.compress(_deflate(TEXT, zlib.MAX_WBITS)))
    out = undo_content_encoding(data, "deflate, identity, gzip,zstd", limit=1 << 20)
    assert out.data == TEXT
    assert out.undone == ["zstd", "gzip", "deflate"]


def test_codings_ignore_identity_and_blanks() -> None:
    assert codings(" GZIP , identity,, br ") == ["gzip", "br"]
    assert codings(None) == [] and codings("identity") == []
    out = undo_content_encoding(TEXT, "identity", limit=10)
    assert (out.data, out.steps, out.complete) == (TEXT, [], True)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_output_is_bounded_however_small_the_input(coding: str) -> None:
    bomb = ENCODERS[coding](b"\0" * (16 << 20))
    out = undo_content_encoding(bomb, coding, limit=64 << 10)
    assert len(out.data) == 64 << 10
    assert out.steps[-1].outcome is Outcome.CAPPED and not out.complete


def test_a_capped_layer_stops_the_codings_below_it() -> None:
    data = gzip.compress(gzip.compress(b"\0" * (4 << 20)))
    out = undo_content_encoding(data, "gzip, gzip", limit=64 << 10)  # the inner: ~4 KiB
    assert [s.outcome for s in out.steps] == [Outcome.DECODED, Outcome.CAPPED]
    assert len(out.data) == 64 << 10


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_truncated_stream_keeps_the_decoded_prefix(coding: str) -> None:
    full = ENCODERS[coding](bytes(range(256)) * 400)
    out = undo_content_encoding(full[: len(full) // 2], coding, limit=1 << 20)
    assert out.steps[0].outcome is Outcome.INCOMPLETE and not out.complete
    assert (bytes(range(256)) * 400).startswith(out.data)


def test_unknown_missing_and_corrupt_keep_the_encoded_bytes(monkeypatch) -> None:
    out = undo_content_encoding(b"abc", "compress", limit=100)
    assert (out.data, out.steps[0].outcome, out.undone) == (b"abc", Outcome.UNKNOWN, [])
    out = undo_content_encoding(b"not gzip", "gzip", limit=100)
    assert (out.data, out.steps[0].outcome) == (b"not gzip", Outcome.FAILED)
    assert out.steps[0].detail
    monkeypatch.setattr(enc, "_import_first", lambda *names: None)
    for coding, package in (("br", "brotli"), ("zstd", "zstandard")):
        out = undo_content_encoding(b"\x8b\x02", coding, limit=100)
        assert out.steps[0].outcome is Outcome.MISSING and package in out.steps[0].detail
        assert out.data == b"\x8b\x02" and not out.complete


def test_brotlicffi_is_used_when_brotli_is_not(monkeypatch) -> None:
    brotli = pytest.importorskip("brotli")
    monkeypatch.setattr(enc, "_import_first", lambda *names: brotli if "brotlicffi" in names
                        else None)
    out = undo_content_encoding(brotli.compress(TEXT), "br", limit=1 << 20)
    assert out.data == TEXT


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_a_body_exactly_at_the_limit_is_whole_and_one_byte_over_is_capped(coding: str) -> None:
    data = ENCODERS[coding](TEXT)
    whole = undo_content_encoding(data, coding, limit=len(TEXT))
    assert (whole.data, whole.complete) == (TEXT, True)
    cut = undo_content_encoding(data, coding, limit=len(TEXT) - 1)
    assert cut.data == TEXT[:-1] and cut.steps[0].outcome is Outcome.CAPPED
