"""Inputs that try to make httptap grow without bound: memory must stay flat (tracemalloc)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from httptap.capture.events import Dir, Event, Kind, SockFlag
from httptap.export.har import MAX_DECODED, exchange_to_har_entry
from httptap.model import Body, Connection, Exchange, Proto, Request, Response
from httptap.present import DISPLAY_LIMIT, decode_body
from httptap.protocols.base import Direction, ExchangeDone, ParseFailed
from httptap.protocols.grpc import GrpcFramer
from httptap.protocols.http1 import Http1Parser
from httptap.protocols.http2 import MAX_TABLE_SIZE, PREFACE, Http2Parser, TolerantDecoder
from httptap.streams import StreamTable
from tests.fuzz._harness import tried
from tests.unit.test_http2_helpers import raw_frame

MiB = 1024 * 1024
REQ, RESP = Direction.REQUEST, Direction.RESPONSE


@contextmanager
def growth_below(limit: int) -> Iterator[None]:
    """Fail if memory still held after the block grew by ``limit`` bytes or more."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        yield
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < limit, f"grew {(after - before) / MiB:.1f} MiB"


@contextmanager
def peak_below(limit: int) -> Iterator[None]:
    """Fail if Python allocations inside the block peak above ``limit`` bytes."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak {peak / MiB:.1f} MiB >= {limit / MiB:.1f} MiB"


def _feed_many(feed: Callable[[bytes], object], chunk: bytes, total: int) -> None:
    for _ in range(total // len(chunk)):
        feed(chunk)


# -- HTTP/1.1 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head", [b"GET / HTTP/1.1\r\nX-Long: ", b"GET /", b"HTTP/1.1 200 OK\r\nA: "]
)
def test_header_line_without_end(head: bytes) -> None:
    """64 MiB of a header (or request line) that never ends: refused, never buffered."""
    tried("bound-h1-endless-header")
    p = Http1Parser(Connection())
    d = RESP if head.startswith(b"HTTP/") else REQ
    events = []
    with peak_below(2 * MiB):
        events += p.feed(d, head, 1)
        _feed_many(lambda c: events.extend(p.feed(d, c, 2)), b"a" * 16384, 64 * MiB)
        events += p.close(3)
    assert any(isinstance(e, ParseFailed) for e in events) or all(
        e.exchange.notes for e in events if isinstance(e, ExchangeDone)
    )


@pytest.mark.parametrize("size", [b"10000000000000000", b"ffffffffffffffffffff", b"8" + b"0" * 15])
def test_chunk_size_2_pow_64(size: bytes) -> None:
    """A chunk size of 2^64 (or 2^63) and 16 MiB of body: no crash, no buffering."""
    tried("bound-h1-chunk-size")
    p = Http1Parser(Connection(), body_limit=1024)
    events = []
    with peak_below(2 * MiB):
        events += p.feed(REQ, b"POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 1)
        events += p.feed(REQ, size + b"\r\n", 2)
        _feed_many(lambda c: events.extend(p.feed(REQ, c, 3)), b"z" * 65536, 16 * MiB)
        events += p.gap(REQ, 2**64 - 1, 4)
        events += p.close(5)
    for e in events:
        if isinstance(e, ExchangeDone):
            assert len(e.exchange.request.body.data) <= 1024


# -- HTTP/2 ---------------------------------------------------------------------------------


def _literal_with_indexing(name: bytes, value: bytes) -> bytes:
    return b"\x40" + _hpack_str(name) + _hpack_str(value)


def _hpack_int(value: int, prefix_bits: int, first: int) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _hpack_str(raw: bytes) -> bytes:
    return _hpack_int(len(raw), 7, 0) + raw


def test_hpack_table_size_bomb() -> None:
    """SETTINGS and size updates of 2^32-1, then 64 MiB of indexed literals: table capped."""
    tried("bound-hpack-table")
    dec = TolerantDecoder()
    dec.set_table_size_limit(2**32 - 1)
    with peak_below(8 * MiB):
        update = _hpack_int(2**32 - 1, 5, 0x20)
        value = b"v" * 16000
        for i in range(4096):
            out = dec.decode(update + _literal_with_indexing(b"x-%d" % i, value))
            assert dec._size <= MAX_TABLE_SIZE
        assert out.headers


def test_hpack_bomb_through_the_parser() -> None:
    """The same bomb over a connection, headers growing past the header-list limit."""
    tried("bound-h2-table")
    p = Http2Parser(Connection(protocol=Proto.H2))
    settings = raw_frame(0x4, 0, 0, b"\x00\x01\xff\xff\xff\xff")
    with peak_below(16 * MiB):
        p.feed(REQ, PREFACE + settings, 1)
        p.feed(RESP, settings, 1)
        block = _hpack_int(2**32 - 1, 5, 0x20) + b"\x82\x86\x84\x01\x01a"
        for sid in range(1, 1001, 2):  # 500 open streams of 16 KB headers
            fields = b"".join(_literal_with_indexing(b"x-%d" % j, b"v" * 8000) for j in range(2))
            p.feed(REQ, raw_frame(0x1, 0x5, sid, block + fields), 2)
        p.close(3)
    assert p._internal_errors == 0


def test_100k_streams_on_one_connection() -> None:
    """10^5 requests left open on one connection: the oldest are evicted, memory flat.

    The first 80 000 run untraced (tracemalloc is slow); the last 20 000 must not grow what
    is held by more than a few MiB, whatever the count before.
    """
    tried("bound-h2-streams")
    p = Http2Parser(Connection(protocol=Proto.H2))
    block = b"\x82\x86\x84\x01\x01a"
    p.feed(REQ, PREFACE + raw_frame(0x4, 0, 0), 1)
    frames = [raw_frame(0x1, 0x4, sid, block) for sid in range(1, 200_000, 2)]

    def feed(lo: int, hi: int) -> None:
        for i in range(lo, hi, 1000):
            p.feed(REQ, b"".join(frames[i : i + 1000]), 2)

    feed(0, 80_000)
    with growth_below(4 * MiB):
        feed(80_000, 100_000)
    assert len(p._streams) <= p.max_streams
    p.close(3)
    assert p._internal_errors == 0


def test_grpc_message_count_and_size_bounded() -> None:
    """10^5 tiny messages and one announced as 4 GiB: kept data stays bounded."""
    tried("bound-grpc")
    framer = GrpcFramer(limit=1024)
    one = b"\x00\x00\x00\x00\x03abc"
    for _ in range(80):
        framer.feed(one * 1000)
    with growth_below(2 * MiB):
        for _ in range(20):
            framer.feed(one * 1000)
    big = GrpcFramer(limit=1024)
    big.feed(b"\x00\xff\xff\xff\xff")
    with peak_below(2 * MiB):
        _feed_many(big.feed, b"q" * 65536, 16 * MiB)
    assert framer.messages == 100_000


# -- display and export ---------------------------------------------------------------------


def _gzip_bomb(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero = bytes(MiB)
    return b"".join([*(c.compress(zero) for _ in range(size // MiB)), c.flush()])


BOMB = _gzip_bomb(256 * MiB)  # ≈ 250 KiB on the wire


def test_gzip_bomb_display_capped_with_note() -> None:
    tried("bound-gzip-display")
    headers = [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")]
    with peak_below(4 * DISPLAY_LIMIT):
        out = decode_body(Body(BOMB, len(BOMB)), headers)
    assert any("bomb" in n for n in out.notes)
    assert len(out.text) <= 2 * DISPLAY_LIMIT


def test_gzip_bomb_nested_encodings() -> None:
    tried("bound-gzip-nested")
    inner = gzip.compress(BOMB[: 64 * 1024])
    headers = [("Content-Encoding", "gzip, gzip")]
    with peak_below(4 * DISPLAY_LIMIT):
        decode_body(Body(inner, len(inner)), headers)


def test_gzip_bomb_har_export_keeps_encoded_bytes() -> None:
    """HAR export inflates bodies: a bomb is saved encoded instead of exhausting memory."""
    tried("bound-gzip-har")
    ex = Exchange(request=Request(method="GET", path="/"),
                  response=Response(status=200, headers=[("Content-Encoding", "gzip")],
                                    body=Body(BOMB, len(BOMB))))
    with peak_below(2 * MAX_DECODED + 8 * MiB):
        entry = exchange_to_har_entry(ex)
    assert len(entry["response"]["content"].get("text", "")) < 2 * len(BOMB)


@pytest.mark.parametrize("coding", ["zstd", "br"])
def test_zstd_and_br_bombs_are_bounded_in_display_and_har(coding: str) -> None:
    """The codecs HAR export now shares with the display: bounded for every coding."""
    tried(f"bound-{coding}-bomb")
    if coding == "zstd":
        bomb = pytest.importorskip("zstandard").ZstdCompressor(level=19).compress(
            b"\0" * (256 * MiB))
    else:
        bomb = pytest.importorskip("brotli").compress(b"\0" * (256 * MiB), quality=5)
    headers = [("Content-Type", "text/plain"), ("Content-Encoding", coding)]
    with peak_below(4 * DISPLAY_LIMIT):
        out = decode_body(Body(bomb, len(bomb)), headers)
    assert any("bomb" in n for n in out.notes)
    ex = Exchange(request=Request(method="GET", path="/"),
                  response=Response(status=200, headers=headers, body=Body(bomb, len(bomb))))
    with peak_below(2 * MAX_DECODED + 8 * MiB):
        entry = exchange_to_har_entry(ex)
    assert len(entry["response"]["content"].get("text", "")) < 2 * len(bomb) + 64


# -- connections -----------------------------------------------------------------------------

_REQ = b"GET /a HTTP/1.1\r\nHost: example\r\n\r\n"
_RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def _ev(kind: Kind, gen: int, data: bytes = b"", direction: Dir | None = Dir.EGRESS,
        size: int | None = None) -> Event:
    return Event(kind=kind, ts_ns=gen, gen=gen, pid=100, tid=101, fd=5,
                 size=len(data) if size is None else size, lost=0, direction=direction,
                 flags=SockFlag.CLIENT, aux=0, data=data)


def test_100k_connections_opened_and_closed() -> None:
    """10^5 connections, each with a request and a close: nothing stays behind."""
    tried("bound-conns")
    t = StreamTable()

    def run(lo: int, hi: int) -> None:
        for gen in range(lo, hi):
            t.handle(_ev(Kind.DATA, gen, _REQ))
            t.handle(_ev(Kind.CLOSE, gen, direction=None))

    run(1, 90_001)
    with growth_below(1 * MiB):
        run(90_001, 100_001)
    assert t.open_connections == 0
    assert t.stats.connections == 100_000


def test_100k_connections_never_closed_are_capped() -> None:
    tried("bound-conns-unclosed")
    t = StreamTable()
    for gen in range(1, 100_001):
        t.handle(_ev(Kind.DATA, gen, b"x"))  # not HTTP yet: cheap, still a table entry
    assert t.open_connections <= 16_384


def test_gaps_while_sniffing_are_bounded() -> None:
    tried("bound-sniff-gaps")
    t = StreamTable()
    for _ in range(10_000):
        t.handle(_ev(Kind.GAP, 7, size=1 << 20))
    conn = t._conns.get((100, 7))
    assert conn is None or len(conn.held) <= 64
