"""GrpcFramer and the gRPC helpers on their own."""

from __future__ import annotations

import gzip
import zlib

from hypothesis import given
from hypothesis import strategies as st

from httptap.model import GrpcCall
from httptap.protocols.grpc import (
    GrpcFramer,
    apply_status,
    is_grpc,
    looks_like_grpc,
    split_path,
)
from tests.unit.test_http2_helpers import grpc_frame


def _feed_all(framer: GrpcFramer, data: bytes, step: int) -> list:
    out = []
    for i in range(0, len(data), step):
        out += framer.feed(data[i : i + step])
    return out


@given(
    messages=st.lists(st.binary(max_size=300), max_size=8),
    step=st.integers(1, 64),
)
def test_split_anywhere(messages: list[bytes], step: int) -> None:
    stream = b"".join(grpc_frame(m) for m in messages)
    got = _feed_all(GrpcFramer(), stream, step)
    assert [m.data for m in got] == messages
    assert [m.size for m in got] == [len(m) for m in messages]


def test_gzip_and_deflate() -> None:
    text = b"hello hello hello hello"
    gz = GrpcFramer(encoding="gzip").feed(grpc_frame(text, compress=True))
    assert gz[0].data == text and gz[0].compressed
    body = zlib.compress(text)
    frame = b"\x01" + len(body).to_bytes(4, "big") + body
    assert GrpcFramer(encoding="deflate").feed(frame)[0].data == text


def test_unknown_encoding_is_kept_raw_with_a_note() -> None:
    framer = GrpcFramer(encoding="snappy")
    frame = b"\x01\x00\x00\x00\x03abc"
    (msg,) = framer.feed(frame)
    assert msg.data == b"abc" and msg.compressed
    assert framer.notes == ["gRPC encoding 'snappy' not decoded: messages kept raw"]


def test_corrupt_gzip_is_kept_raw() -> None:
    framer = GrpcFramer(encoding="gzip")
    (msg,) = framer.feed(b"\x01\x00\x00\x00\x05abcde")
    assert msg.data == b"abcde" and framer.notes


def test_compressed_flag_without_encoding() -> None:
    framer = GrpcFramer()
    (msg,) = framer.feed(b"\x01\x00\x00\x00\x01z")
    assert msg.data == b"z" and "without grpc-encoding" in framer.notes[0]


def test_decompression_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"\x00" * 10_000_000)
    framer = GrpcFramer(encoding="gzip", limit=4096)
    (msg,) = _feed_all(framer, grpc_frame(bomb), 1000)
    assert len(msg.data) == 4096 and msg.truncated and msg.size == len(bomb)


def test_message_cap() -> None:
    framer = GrpcFramer(max_messages=3)
    got = framer.feed(grpc_frame(b"x") * 5)
    assert len(got) == 3 and framer.messages == 5
    assert "more than 3 gRPC messages" in framer.notes[0]


def test_byte_budget() -> None:
    framer = GrpcFramer(max_bytes=10)
    got = framer.feed(grpc_frame(b"123456") * 3)
    assert [m.data for m in got] == [b"123456", b"", b""]
    assert got[1].truncated and got[1].size == 6


def test_gap_inside_a_message_then_sync() -> None:
    framer = GrpcFramer()
    frame = grpc_frame(b"A" * 100)
    assert framer.feed(frame[:30]) == []
    assert framer.gap(50) == []
    (msg,) = framer.feed(frame[80:])
    assert msg.size == 100 and msg.truncated and msg.data == b"A" * 50
    assert [m.data for m in framer.feed(grpc_frame(b"next"))] == [b"next"]


def test_gap_across_messages_loses_framing() -> None:
    framer = GrpcFramer()
    framer.feed(grpc_frame(b"A" * 10)[:8])
    framer.gap(100)
    assert framer.lost and framer.feed(grpc_frame(b"x")) == []
    assert "framing lost" in framer.notes[0]


def test_close_inside_a_message() -> None:
    framer = GrpcFramer()
    framer.feed(b"\x00\x00\x00")
    framer.close()
    assert framer.notes == ["stream ended inside a gRPC message"]


def test_helpers() -> None:
    assert split_path("/grpc.health.v1.Health/Check") == ("grpc.health.v1.Health", "Check")
    assert split_path("/Svc/M") == ("Svc", "M")
    assert split_path("") == ("", "")
    assert is_grpc("application/grpc+proto") and is_grpc("application/grpc-web")
    assert not is_grpc("application/json") and not is_grpc(None)
    call = GrpcCall()
    assert apply_status(call, [("grpc-status", "13"), ("grpc-message", "boom%0Aline")])
    assert (call.status, call.message) == (13, "boom\nline")
    assert not apply_status(GrpcCall(), [("x", "y")])
    bad = GrpcCall()
    assert apply_status(bad, [("grpc-status", "oops")]) and bad.status is None


def test_looks_like_grpc() -> None:
    assert looks_like_grpc(grpc_frame(b"abc") + grpc_frame(b""))
    assert looks_like_grpc(grpc_frame(b"x" * 100)[:20])  # a message cut by the frame
    assert not looks_like_grpc(b'{"json": true}')
    assert not looks_like_grpc(b"\x00\x00\x00")
    assert not looks_like_grpc(b"\x00\xff\xff\xff\xff...")
