"""Benchmark: Http2Parser on a connection of gRPC unary calls; prints streams/s.

Each call is what grpc-python's C core sends: request HEADERS (7 fields) + one DATA frame with
END_STREAM in one write; response HEADERS + DATA + trailers HEADERS in one write. HPACK state
is realistic: the first call's literals are indexed, later calls mostly reference the table.

    .venv/bin/python bench/http2_parse.py [calls]
"""

from __future__ import annotations

import sys
import time

from hpack import Encoder

from httptap.model import Connection, Proto
from httptap.protocols.base import Direction, ExchangeDone
from httptap.protocols.http2 import PREFACE, Http2Parser


def _frame(ftype: int, flags: int, sid: int, payload: bytes) -> bytes:
    return (
        len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload
    )


def _grpc(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


def build(calls: int) -> list[tuple[Direction, bytes]]:
    req_enc, resp_enc = Encoder(), Encoder()
    chunks = [
        (Direction.REQUEST, PREFACE + _frame(4, 0, 0, b"")),
        (Direction.RESPONSE, _frame(4, 0, 0, b"") + _frame(4, 1, 0, b"")),
    ]
    for i in range(calls):
        sid = 2 * i + 1
        head = req_enc.encode(
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", "/shop.v1.Orders/GetOrder"),
                (":authority", "orders.internal:50051"),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
                ("grpc-accept-encoding", "identity,deflate,gzip"),
                ("user-agent", "grpc-python/1.85.3 grpc-c/58.0.0 (linux; chttp2)"),
                ("grpc-timeout", "4999m"),
            ]
        )
        request = b"\x08" + (i % 100_000).to_bytes(3, "big") + b"\x12\x06abcdef"
        chunks.append(
            (
                Direction.REQUEST,
                _frame(1, 4, sid, head) + _frame(0, 1, sid, _grpc(request)),
            )
        )
        rhead = resp_enc.encode([(":status", "200"), ("content-type", "application/grpc")])
        trailers = resp_enc.encode([("grpc-status", "0"), ("grpc-message", "")])
        response = b"\x0a\x20" + b"x" * 32 + b"\x10\x01"
        chunks.append(
            (
                Direction.RESPONSE,
                _frame(1, 4, sid, rhead)
                + _frame(0, 0, sid, _grpc(response))
                + _frame(1, 5, sid, trailers),
            )
        )
    return chunks


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    chunks = build(calls)
    best = 0.0
    for _ in range(3):
        parser = Http2Parser(Connection(protocol=Proto.H2))
        completed = 0
        start = time.perf_counter()
        for ts, (direction, data) in enumerate(chunks):
            for ev in parser.feed(direction, data, ts):
                if isinstance(ev, ExchangeDone):
                    completed += 1
        elapsed = time.perf_counter() - start
        assert completed == calls, completed
        best = max(best, calls / elapsed)
    size = sum(len(d) for _, d in chunks) / calls
    print(
        f"http2 gRPC unary: {best:,.0f} streams/s ({1e6 / best:.1f} µs/stream, {size:.0f} B/call)"
    )


if __name__ == "__main__":
    main()
