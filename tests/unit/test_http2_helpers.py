"""Shared helpers for the HTTP/2 and gRPC parser tests (no tests here).

``H2Pair`` drives a real h2 client and server against each other in memory and records every
chunk of bytes each one wrote, as the capture engine would see them on the wire.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterable

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import DataReceived

from httptap.model import Connection, Exchange, Proto
from httptap.protocols.base import (
    Direction,
    ExchangeDone,
    ExchangePending,
    ParseFailed,
    ParserEvent,
)
from httptap.protocols.http2 import PREFACE, Http2Parser

REQ = Direction.REQUEST
RESP = Direction.RESPONSE

Chunk = tuple[Direction, bytes]


class H2Pair:
    """An h2 client and server talking in memory; ``chunks`` is what went over the wire."""

    def __init__(self, *, server_first: bool = False, upgrade: bool = False) -> None:
        self.client = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        self.server = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        self.chunks: list[Chunk] = []
        for conn in (self.client, self.server):
            conn.decoder.max_header_list_size = 1 << 22  # the huge-headers tests
        if upgrade:
            settings = self.client.initiate_upgrade_connection()
            self.server.initiate_upgrade_connection(settings)
            # The server speaks first after 101: its SETTINGS, then the client's preface.
            self._move(self.server, self.client, RESP)
            self._move(self.client, self.server, REQ)
            self.flush()
            return
        self.client.initiate_connection()
        self.server.initiate_connection()
        if server_first:
            self._move(self.server, self.client, RESP)
        self.flush()

    def _move(self, src: H2Connection, dst: H2Connection, direction: Direction) -> bool:
        data = src.data_to_send()
        if not data:
            return False
        self.chunks.append((direction, data))
        for ev in dst.receive_data(data):
            if isinstance(ev, DataReceived) and ev.flow_controlled_length:
                dst.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        return True

    def flush(self) -> None:
        """Deliver what each side wrote until both are quiet."""
        while self._move(self.client, self.server, REQ) | self._move(
            self.server, self.client, RESP
        ):
            pass

    def send_body(self, conn: H2Connection, sid: int, body: bytes, *, end_stream: bool) -> None:
        """DATA frames of at most the peer's frame size, flushing as flow control needs."""
        size = conn.max_outbound_frame_size
        for i in range(0, max(len(body), 1), size):
            last = i + size >= len(body)
            conn.send_data(sid, body[i : i + size], end_stream=end_stream and last)
            self.flush()

    # -- conveniences --------------------------------------------------------------------

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: Iterable[tuple[str, str]] = (),
        end: bool = True,
        authority: str = "example.test",
    ) -> int:
        sid = self.client.get_next_available_stream_id()
        hs = [
            (":method", method),
            (":scheme", "http"),
            (":authority", authority),
            (":path", path),
            *headers,
        ]
        self.client.send_headers(sid, hs, end_stream=body is None and end)
        if body is not None:
            self.send_body(self.client, sid, body, end_stream=end)
        self.flush()
        return sid

    def respond(
        self,
        sid: int,
        status: int = 200,
        body: bytes | None = None,
        *,
        headers: Iterable[tuple[str, str]] = (),
        trailers: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        hs = [(":status", str(status)), *headers]
        self.server.send_headers(sid, hs, end_stream=body is None and trailers is None)
        if body is not None:
            self.send_body(self.server, sid, body, end_stream=trailers is None)
        if trailers is not None:
            self.server.send_headers(sid, list(trailers), end_stream=True)
        self.flush()


def grpc_frame(message: bytes, *, compress: bool = False) -> bytes:
    """One length-prefixed gRPC message (gzip-compressed when ``compress``)."""
    if compress:
        message = gzip.compress(message)
    return struct.pack(">?I", compress, len(message)) + message


GRPC_REQUEST_HEADERS = [
    ("content-type", "application/grpc"),
    ("te", "trailers"),
    ("grpc-accept-encoding", "identity,deflate,gzip"),
    ("user-agent", "grpc-python/1.85"),
]


def new_parser(**kwargs: object) -> Http2Parser:
    return Http2Parser(Connection(protocol=Proto.H2), **kwargs)  # type: ignore[arg-type]


def run(
    chunks: Iterable[Chunk], parser: Http2Parser | None = None, *, close: bool = True
) -> tuple[list[ParserEvent], Http2Parser]:
    """Feed ``chunks`` (timestamps 1, 2, 3 ...) and return every event."""
    parser = parser or new_parser()
    events: list[ParserEvent] = []
    ts = 0
    for direction, data in chunks:
        ts += 1
        events += parser.feed(direction, data, ts)
    if close:
        events += parser.close(ts + 1)
    return events, parser


def done(events: Iterable[ParserEvent]) -> list[Exchange]:
    """Exchanges of the ExchangeDone events, in order."""
    return [e.exchange for e in events if isinstance(e, ExchangeDone)]


def pending(events: Iterable[ParserEvent]) -> list[Exchange]:
    return [e.exchange for e in events if isinstance(e, ExchangePending)]


def failed(events: Iterable[ParserEvent]) -> list[ParseFailed]:
    return [e for e in events if isinstance(e, ParseFailed)]


def split_every_byte(chunks: Iterable[Chunk]) -> list[Chunk]:
    return [(d, data[i : i + 1]) for d, data in chunks for i in range(len(data))]


def raw_frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    """A frame built by hand (any type, any flags)."""
    head = len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big")
    return head + payload


class Wire:
    """Hand-built frames for both directions with one HPACK encoder each."""

    def __init__(self) -> None:
        from hpack import Encoder

        self.enc = {REQ: Encoder(), RESP: Encoder()}

    def block(
        self, direction: Direction, headers: list[tuple[str, str]], *, huffman: bool = True
    ) -> bytes:
        # hpack's Huffman encoder is quadratic: huge test values go as plain literals.
        return self.enc[direction].encode(headers, huffman=huffman)

    def headers(
        self,
        direction: Direction,
        sid: int,
        headers: list[tuple[str, str]],
        *,
        end_stream: bool = False,
        pad: int = 0,
        priority: bool = False,
    ) -> bytes:
        block = self.block(direction, headers)
        flags = 0x4 | (0x1 if end_stream else 0)
        payload = block
        if priority:
            flags |= 0x20
            payload = b"\x00\x00\x00\x00\x0f" + payload
        if pad:
            flags |= 0x8
            payload = bytes([pad]) + payload + b"\x00" * pad
        return raw_frame(0x1, flags, sid, payload)

    @staticmethod
    def data(sid: int, data: bytes, *, end_stream: bool = False, pad: int = 0) -> bytes:
        flags = 0x1 if end_stream else 0
        payload = data
        if pad:
            flags |= 0x8
            payload = bytes([pad]) + data + b"\x00" * pad
        return raw_frame(0x0, flags, sid, payload)

    @staticmethod
    def settings(settings: dict[int, int] | None = None, *, ack: bool = False) -> bytes:
        payload = b"".join(struct.pack(">HI", k, v) for k, v in (settings or {}).items())
        return raw_frame(0x4, 0x1 if ack else 0, 0, payload)


def request_head(path: str, method: str = "GET", *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        (":method", method),
        (":scheme", "https"),
        (":authority", "api.test"),
        (":path", path),
        *extra,
    ]


def frame_types(data: bytes) -> list[int]:
    """Types of the frames in ``data`` (one direction, preface skipped if present)."""
    if data.startswith(PREFACE):
        data = data[len(PREFACE) :]
    out = []
    i = 0
    while i + 9 <= len(data):
        out.append(data[i + 3])
        i += 9 + int.from_bytes(data[i : i + 3], "big")
    return out
