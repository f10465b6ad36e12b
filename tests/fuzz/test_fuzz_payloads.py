"""Fuzz gRPC message splitting, raw protobuf decoding and body decoding for display."""

from __future__ import annotations

import gzip
import zlib

from hypothesis import given
from hypothesis import strategies as st

from httptap.content.protobuf import decode_raw, format_raw
from httptap.model import Body
from httptap.present import decode_body, hexdump
from httptap.protocols.grpc import GrpcFramer, looks_like_grpc, split_path
from tests.fuzz._harness import fuzz_settings, guarded
from tests.fuzz._strategies import GAP_SIZES, mutate

_PB_PIECES = [
    b"\x08\x96\x01", b"\x12\x03abc", b"\x1a\x00", b"\x0b", b"\x0c", b"\x1d\x00\x00\x80\x3f",
    b"\x21" + b"\x00" * 8, b"\x22\x05\x08\x01\x10\x02", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    b"\x12\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", b"\x0f",
    b"\xfa\xff\xff\xff\x0f\x00",
]
_PROTOBUF = st.lists(st.one_of(st.sampled_from(_PB_PIECES), st.binary(max_size=6)),
                     max_size=16).map(b"".join)


@fuzz_settings(400)
@given(data=st.one_of(_PROTOBUF, st.binary(max_size=300)), hints=st.booleans())
def test_protobuf_raw_decode_survives(data: bytes, hints: bool) -> None:
    def check() -> None:
        text = format_raw(decode_raw(data), hints=hints, max_chars=4096)
        assert len(text) < 4096 + 8192  # one line may overshoot the budget, not more

    guarded("protobuf", data, check)


def _grpc_message(payload: bytes, flag: int) -> bytes:
    return bytes([flag]) + len(payload).to_bytes(4, "big") + payload


_GRPC_STREAM = st.lists(
    st.one_of(
        st.builds(_grpc_message, _PROTOBUF, st.sampled_from([0, 1, 2, 255])),
        st.builds(lambda p: _grpc_message(gzip.compress(p), 1), _PROTOBUF),
        st.binary(max_size=10),
    ),
    max_size=6,
).map(b"".join)


@fuzz_settings(300)
@given(
    stream=_GRPC_STREAM,
    cuts=st.lists(st.integers(0, 400), max_size=6),
    gaps=st.lists(GAP_SIZES, max_size=2),
    encoding=st.sampled_from([None, "gzip", "deflate", "identity", "snappy", " GZIP "]),
    limit=st.sampled_from([0, 3, 65536]),
)
def test_grpc_framer_survives(stream, cuts, gaps, encoding, limit) -> None:
    def check() -> None:
        framer = GrpcFramer(encoding=encoding, limit=limit, max_messages=50)
        prev = 0
        for i, c in enumerate([*sorted({min(c, len(stream)) for c in cuts}), len(stream)]):
            for msg in framer.feed(stream[prev:c]):
                assert len(msg.data) <= max(limit, 0) or not limit
            prev = c
            if i < len(gaps):
                framer.gap(gaps[i])
        framer.close()
        looks_like_grpc(stream)
        assert framer.messages >= 0

    guarded("grpc", {"stream": stream, "cuts": cuts, "gaps": gaps, "encoding": encoding,
                     "limit": limit}, check)


@fuzz_settings(100)
@given(path=st.text(max_size=30))
def test_grpc_split_path(path: str) -> None:
    guarded("grpc-path", path, lambda: split_path(path))


def _encode(data: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    return data


_CODINGS = ["gzip", "deflate", "br", "zstd", "identity", "x-gzip", "gzip, gzip", "bogus", ""]
_MIMES = ["application/json", "text/html; charset=latin-1", "text/plain; charset=bogus",
          "application/x-protobuf", "application/grpc", "application/x-www-form-urlencoded",
          "image/png", "", ";;;", "text/plain; charset=utf-16"]
_PLAIN = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
    st.sampled_from([b'{"a": [1, 2, {"b": null}]}', b"a=1&b=%zz", b"[" * 200, b"\xef\xbb\xbf{}"]),
)


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[bytes, str, str, bool]:
    coding = draw(st.sampled_from(_CODINGS))
    plain = draw(_PLAIN)
    data = _encode(plain, coding.split(",")[0].strip())
    if draw(st.booleans()):
        data = draw(mutate(data))
    return data, coding, draw(st.sampled_from(_MIMES)), draw(st.booleans())


@fuzz_settings(400)
@given(body=_bodies(), limit=st.sampled_from([16, 4096]))
def test_decode_body_survives(body, limit) -> None:
    data, coding, mime, truncated = body

    def check() -> None:
        headers = [("Content-Type", mime), ("Content-Encoding", coding)]
        out = decode_body(Body(data, len(data) + truncated, truncated), headers, limit=limit)
        assert isinstance(out.text, str)
        hexdump(data)

    guarded("decode", {"data": data, "coding": coding, "mime": mime,
                       "truncated": truncated, "limit": limit}, check)
