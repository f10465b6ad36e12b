"""Http1Parser: every framing case, fed whole, byte by byte, split in two everywhere, and
followed by the start of a next message; gaps, loss, malformed input, mid-stream joins."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httptap.model import Connection, Exchange
from httptap.protocols.base import (
    Direction,
    ExchangeDone,
    ExchangePending,
    ParseFailed,
    ParserEvent,
    Upgraded,
)
from httptap.protocols.http1 import MAX_HEAD, Http1Parser

Q = Direction.REQUEST
R = Direction.RESPONSE
Script = list[tuple[Direction, bytes]]


# ---------------------------------------------------------------------- harness


@dataclass
class Run:
    events: list[ParserEvent] = field(default_factory=list)
    # bytes fed after an Upgraded event, per direction (the engine would route them on)
    after_upgrade: dict[Direction, bytes] = field(default_factory=lambda: {Q: b"", R: b""})

    @property
    def done(self) -> list[Exchange]:
        return [e.exchange for e in self.events if isinstance(e, ExchangeDone)]

    @property
    def pending(self) -> list[Exchange]:
        return [e.exchange for e in self.events if isinstance(e, ExchangePending)]

    @property
    def failures(self) -> list[ParseFailed]:
        return [e for e in self.events if isinstance(e, ParseFailed)]

    @property
    def upgrades(self) -> list[Upgraded]:
        return [e for e in self.events if isinstance(e, Upgraded)]


def run(script: Script, *, close: bool = True, conn: Connection | None = None, **kw: Any) -> Run:
    """Feed ``script`` (ts = 1000 * feed index); close at the end unless told otherwise."""
    parser = Http1Parser(conn or Connection(), **kw)
    out = Run()
    upgraded = False
    ts = 0
    for direction, data in script:
        ts += 1000
        if upgraded:
            out.after_upgrade[direction] += data
        evs = parser.feed(direction, data, ts)
        out.events.extend(evs)
        upgraded = upgraded or any(isinstance(e, Upgraded) for e in evs)
    if close:
        out.events.extend(parser.close(ts + 1000))
    return out


def summary(ex: Exchange) -> tuple[Any, ...]:
    """Everything but timings: what must not depend on how the bytes were split."""
    q = ex.request
    s = ex.response
    resp = None
    if s is not None:
        resp = (
            s.status,
            s.reason,
            s.http_version,
            s.headers,
            s.body.data,
            s.body.size,
            s.body.truncated,
            s.trailers,
        )
    return (
        q.method,
        q.path,
        q.authority,
        q.http_version,
        q.headers,
        q.body.data,
        q.body.size,
        q.body.truncated,
        q.trailers,
        resp,
        ex.complete,
        tuple(ex.notes),
    )


def outcome(r: Run) -> tuple[Any, ...]:
    ups = []
    for u in r.upgrades:
        # leftover plus what came after is what the next parser gets, however it was split
        ups.append((u.protocol, {d: u.leftover.get(d, b"") + r.after_upgrade[d] for d in (Q, R)}))
    return (
        [summary(e) for e in r.done],
        [(e.request.method, e.request.path) for e in r.pending],
        [f.reason for f in r.failures],
        ups,
    )


def byte_by_byte(script: Script) -> Script:
    return [(d, data[i : i + 1]) for d, data in script for i in range(len(data))]


def two_piece_splits(script: Script):
    for k, (d, data) in enumerate(script):
        for i in range(1, len(data)):
            yield [*script[:k], (d, data[:i]), (d, data[i:]), *script[k + 1 :]]


def check_splits(script: Script, *, close: bool = True, **kw: Any) -> Run:
    """Run ``script`` whole, byte by byte and split in two at every point: same outcome."""
    whole = run(script, close=close, **kw)
    expected = outcome(whole)
    assert outcome(run(byte_by_byte(script), close=close, **kw)) == expected
    for variant in two_piece_splits(script):
        assert outcome(run(variant, close=close, **kw)) == expected, variant
    return whole


def check_trailing(script: Script, **kw: Any) -> None:
    """The start of a next message after the last feed changes nothing that was complete."""
    base = run(script, close=False, **kw)
    nxt = {Q: b"GET /next HTTP/1.1\r\nHo", R: b"HTTP/1.1 204 No"}
    d, data = script[-1]
    tail = run([*script[:-1], (d, data + nxt[d])], close=False, **kw)
    assert [summary(e) for e in tail.done] == [summary(e) for e in base.done]
    assert not tail.failures


def req(method: str = "GET", path: str = "/", headers: str = "", body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: example.test\r\n{headers}\r\n".encode()
    return head + body


def resp(status: str = "200 OK", headers: str = "", body: bytes = b"", *, cl: bool = True) -> bytes:
    if cl:
        headers = f"Content-Length: {len(body)}\r\n{headers}"
    return f"HTTP/1.1 {status}\r\n{headers}\r\n".encode() + body


def chunked(*chunks: bytes, trailers: str = "", ext: str = "") -> bytes:
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(c), ext.encode(), c) for c in chunks)
    return out + b"0\r\n" + trailers.encode() + b"\r\n"


# ---------------------------------------------------------------------- framing cases

CASES: dict[str, Script] = {
    "keep-alive": [
        (Q, req(path="/a")),
        (R, resp(body=b"one")),
        (Q, req(path="/b")),
        (R, resp(body=b"two")),
        (Q, req(path="/c")),
        (R, resp(body=b"")),
    ],
    "post-cl-chunked-response": [
        (Q, req("POST", "/items", "Content-Length: 5\r\n", b"hello")),
        (
            R,
            resp(
                "201 Created",
                "Transfer-Encoding: chunked\r\n",
                chunked(b"abc", b"defgh", ext=";name=value", trailers="X-Check: 1\r\n"),
                cl=False,
            ),
        ),
    ],
    "chunked-request-with-trailers": [
        (
            Q,
            req(
                "PUT",
                "/up",
                "Transfer-Encoding: chunked\r\n",
                chunked(b"x" * 17, b"y", trailers="Digest: abc\r\nT2:  v  \r\n"),
            ),
        ),
        (R, resp("204 No Content", cl=False)),
    ],
    "head-then-get": [
        (Q, req("HEAD", "/big")),
        (R, resp(headers="Content-Length: 1000\r\n", cl=False)),
        (Q, req(path="/next")),
        (R, resp(body=b"after head")),
    ],
    "204-304-then-more": [
        (Q, req(path="/a")),
        (R, resp("204 No Content", cl=False)),
        (Q, req(path="/b", headers="If-None-Match: x\r\n")),
        (R, resp("304 Not Modified", "Content-Length: 55\r\nETag: x\r\n", cl=False)),
        (Q, req(path="/c")),
        (R, resp(body=b"third")),
    ],
    "pipelined-3": [
        (
            Q,
            req(path="/1") + req("HEAD", "/2") + req("POST", "/3", "Content-Length: 3\r\n", b"abc"),
        ),
        (
            R,
            resp(body=b"first")
            + resp(headers="Content-Length: 99\r\n", cl=False)
            + resp("201 Created", body=b"third"),
        ),
    ],
    "100-continue": [
        (Q, req("POST", "/upload", "Expect: 100-continue\r\nContent-Length: 4\r\n")),
        (R, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (Q, b"data"),
        (R, resp(body=b"stored")),
    ],
    "103-early-hints": [
        (Q, req(path="/page")),
        (R, b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"),
        (R, resp(body=b"<html>")),
    ],
    "http10": [
        (Q, b"GET /old HTTP/1.0\r\n\r\n"),
        (R, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        (Q, b"GET /old2 HTTP/1.0\r\n\r\n"),
        (R, b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok2"),
    ],
    "connection-close": [
        (Q, req(headers="Connection: close\r\n")),
        (R, resp(headers="Connection: close\r\n", body=b"bye")),
    ],
    "leading-crlf": [
        (Q, req("POST", "/a", "Content-Length: 1\r\n", b"x") + b"\r\n"),
        (R, resp(body=b"1")),
        (Q, req(path="/b")),
        (R, resp(body=b"2")),
    ],
    "absolute-form-and-options": [
        (Q, b"GET http://proxy.test/x?y=1 HTTP/1.1\r\nHost: proxy.test\r\n\r\n"),
        (R, resp(body=b"p")),
        (Q, b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
        (R, resp(body=b"")),
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_split_invariance(name: str) -> None:
    whole = check_splits(CASES[name])
    assert not whole.failures
    assert all(ex.complete for ex in whole.done), [ex.notes for ex in whole.done]


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_trailing_data(name: str) -> None:
    check_trailing(CASES[name])


def test_keep_alive_content() -> None:
    r = run(CASES["keep-alive"])
    assert [(e.request.path, e.response.body.data) for e in r.done] == [
        ("/a", b"one"),
        ("/b", b"two"),
        ("/c", b""),
    ]
    ex = r.done[0]
    assert ex.request.method == "GET"
    assert ex.request.authority == "example.test"
    assert ex.request.headers == [("Host", "example.test")]
    assert ex.response.status == 200 and ex.response.reason == "OK"
    assert ex.response.headers == [("Content-Length", "3")]
    assert ex.id == ""
    assert len(r.pending) == 3


def test_shared_connection_object() -> None:
    conn = Connection(pid=7)
    r = run(CASES["keep-alive"], conn=conn)
    assert all(ex.connection is conn for ex in r.done)


def test_timings() -> None:
    script: Script = [
        (Q, req("POST", "/t", "Content-Length: 6\r\n", b"abc")),  # ts 1000
        (Q, b"def"),  # ts 2000: completes the request
        (R, resp(body=b"0123456789")[:-4]),  # ts 3000: first response byte
        (R, b"6789"),  # ts 4000: completes the response
    ]
    r = run(script)
    t = r.done[0].timings
    assert (t.request_start, t.request_end, t.response_start, t.response_end) == (
        1000,
        2000,
        3000,
        4000,
    )
    assert r.pending[0].timings.request_start == 1000


def test_pending_before_body_complete() -> None:
    p = Http1Parser(Connection())
    evs = p.feed(Q, req("POST", "/slow", "Content-Length: 10\r\n", b"12345"), 1)
    assert [type(e) for e in evs] == [ExchangePending]
    ex = evs[0].exchange
    assert ex.request.body.data == b"12345" and not ex.complete
    assert p.feed(Q, b"67890", 2) == []
    assert ex.request.body.data == b"1234567890"
    assert ex.timings.request_end == 2


def test_chunked_bodies_and_trailers() -> None:
    r = run(CASES["post-cl-chunked-response"])
    s = r.done[0].response
    assert s.body.data == b"abcdefgh" and s.body.size == 8
    assert s.trailers == [("X-Check", "1")]
    r = run(CASES["chunked-request-with-trailers"])
    q = r.done[0].request
    assert q.body.data == b"x" * 17 + b"y"
    assert q.trailers == [("Digest", "abc"), ("T2", "v")]


def test_head_204_304_have_no_body() -> None:
    r = run(CASES["head-then-get"])
    assert r.done[0].response.body.size == 0
    assert r.done[0].response.header("content-length") == "1000"
    assert r.done[1].response.body.data == b"after head"
    r = run(CASES["204-304-then-more"])
    assert [e.response.status for e in r.done] == [204, 304, 200]
    assert r.done[2].response.body.data == b"third"


def test_pipelining_fifo() -> None:
    r = run(CASES["pipelined-3"])
    assert [(e.request.path, e.response.status, e.response.body.data) for e in r.done] == [
        ("/1", 200, b"first"),
        ("/2", 200, b""),
        ("/3", 201, b"third"),
    ]


def test_informational_responses_are_noted() -> None:
    r = run(CASES["100-continue"])
    (ex,) = r.done
    assert ex.response.status == 200 and ex.response.body.data == b"stored"
    assert ex.request.body.data == b"data"
    assert "100 Continue" in ex.notes
    (ex,) = run(CASES["103-early-hints"]).done
    assert ex.notes == ["103 Early Hints"] and ex.response.body.data == b"<html>"


def test_http10() -> None:
    r = run(CASES["http10"])
    assert [e.request.http_version for e in r.done] == ["1.0", "1.0"]
    assert [e.response.http_version for e in r.done] == ["1.0", "1.0"]
    assert [e.response.body.data for e in r.done] == [b"ok", b"ok2"]


def test_trailing_whitespace_stripped() -> None:
    r = run([(Q, req(headers="X-A:   padded \t\r\n")), (R, resp(body=b""))])
    assert r.done[0].request.headers[-1] == ("X-A", "padded")


def test_latin1_header_values() -> None:
    r = run([(Q, req()), (R, b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nContent-Length: 0\r\n\r\n")])
    assert r.done[0].response.headers[0] == ("X-Name", "café")


# ---------------------------------------------------------------------- close


def test_close_delimited_response() -> None:
    script: Script = [
        (Q, b"GET /stream HTTP/1.0\r\n\r\n"),
        (R, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst "),
        (R, b"second"),
    ]
    r = check_splits(script)
    (ex,) = r.done
    assert ex.complete and ex.response.body.data == b"first second"
    assert ex.timings.response_end == 3000  # the last byte, not the close
    assert run(script, close=False).done == []


def test_close_delimited_non_chunked_transfer_coding() -> None:
    r = run([(Q, req()), (R, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b..")])
    assert r.done[0].complete and r.done[0].response.body.data == b"\x1f\x8b.."


def test_close_without_response() -> None:
    r = run([(Q, req(path="/a")), (Q, req(path="/b"))])
    assert [e.request.path for e in r.done] == ["/a", "/b"]
    for ex in r.done:
        assert not ex.complete and ex.response is None
        assert "no response (connection closed)" in ex.notes


def test_close_with_partial_response() -> None:
    r = run([(Q, req()), (R, resp(body=b"0123456789")[:-3])])
    (ex,) = r.done
    assert not ex.complete
    assert "response incomplete (connection closed)" in ex.notes
    assert ex.response.body.data == b"0123456"


def test_close_with_partial_request_body() -> None:
    r = run([(Q, req("POST", "/", "Content-Length: 10\r\n", b"abc"))])
    (ex,) = r.done
    assert "request incomplete (connection closed)" in ex.notes
    assert "no response (connection closed)" in ex.notes


def test_nothing_after_close() -> None:
    p = Http1Parser(Connection())
    p.feed(Q, req(), 1)
    assert len(p.close(2)) == 1
    assert p.close(3) == []
    assert p.feed(R, resp(), 4) == []
    assert p.gap(R, 10, 5) == []


# ---------------------------------------------------------------------- upgrades


def test_websocket_upgrade_with_leftover() -> None:
    script: Script = [
        (
            Q,
            req(headers="Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n")
            + b"\x81\x85mask",
        ),
        (R, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi"),
        (Q, b"more client frames"),
        (R, b"HTTP/1.1 200 OK\r\n\r\n"),  # not HTTP any more: ignored by this parser
    ]
    r = check_splits(script)
    (ex,) = r.done
    assert ex.complete and ex.response.status == 101
    (up,) = r.upgrades
    assert up.protocol == "websocket"
    assert up.leftover == {Q: b"\x81\x85mask", R: b"\x81\x02hi"}
    assert r.events.index(up) > r.events.index(
        next(e for e in r.events if e.__class__ is ExchangeDone)
    )
    assert not r.failures


def test_h2c_upgrade() -> None:
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    settings_frame = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    script: Script = [
        (
            Q,
            req(
                headers="Connection: Upgrade, HTTP2-Settings\r\n"
                "Upgrade: h2c\r\nHTTP2-Settings: AAM\r\n"
            ),
        ),
        (
            R,
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
            + settings_frame,
        ),
        (Q, preface),
    ]
    r = check_splits(script)
    (up,) = r.upgrades
    assert up.protocol == "h2c"
    assert up.leftover == {R: settings_frame}
    assert r.after_upgrade[Q] == preface


def test_refused_upgrade_releases_held_requests() -> None:
    script: Script = [
        (Q, req(path="/a", headers="Connection: Upgrade\r\nUpgrade: h2c\r\n") + req(path="/b")),
        (R, resp(body=b"no h2c") + resp(body=b"b")),
    ]
    r = check_splits(script)
    assert [(e.request.path, e.response.body.data) for e in r.done] == [
        ("/a", b"no h2c"),
        ("/b", b"b"),
    ]
    assert not r.upgrades


def test_connect_tunnel() -> None:
    hello = b"\x16\x03\x01\x00\x05hello"
    script: Script = [
        (Q, b"CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n" + hello),
        (R, b"HTTP/1.1 200 Connection Established\r\n\r\n"),
        (R, b"\x16\x03\x03server"),
    ]
    r = check_splits(script)
    (ex,) = r.done
    assert ex.request.method == "CONNECT" and ex.request.path == "api.test:443"
    assert ex.response.status == 200 and ex.complete
    (up,) = r.upgrades
    assert up.protocol == "tunnel"
    assert up.leftover.get(Q, b"") + r.after_upgrade[Q] == hello
    assert up.leftover.get(R, b"") + r.after_upgrade[R] == b"\x16\x03\x03server"


def test_connect_refused_continues_http() -> None:
    script: Script = [
        (Q, b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
        (R, resp("407 Proxy Authentication Required", body=b"auth")),
        (Q, req(path="/plain")),
        (R, resp(body=b"ok")),
    ]
    r = check_splits(script)
    assert [e.response.status for e in r.done] == [407, 200]
    assert not r.upgrades


def test_unknown_upgrade_protocol_name() -> None:
    r = run(
        [
            (Q, req(headers="Upgrade: IRC/6.9\r\n")),
            (R, b"HTTP/1.1 101 OK\r\nUpgrade: IRC/6.9\r\n\r\n"),
        ]
    )
    assert r.upgrades[0].protocol == "irc/6.9"


# ---------------------------------------------------------------------- body limit


def test_body_limit_truncation_exact_size() -> None:
    body = bytes(range(256)) * 4
    script: Script = [
        (Q, req("POST", "/", f"Content-Length: {len(body)}\r\n", body)),
        (
            R,
            resp(
                "200 OK",
                "Transfer-Encoding: chunked\r\n",
                chunked(body[:300], body[300:]),
                cl=False,
            ),
        ),
        (Q, req(path="/next")),
        (R, resp(body=b"fine")),
    ]
    r = check_splits(script, body_limit=100)
    q, s = r.done[0].request.body, r.done[0].response.body
    assert (q.data, q.size, q.truncated) == (body[:100], 1024, True)
    assert (s.data, s.size, s.truncated) == (body[:100], 1024, True)
    assert r.done[1].response.body.data == b"fine" and not r.done[1].response.body.truncated


# ---------------------------------------------------------------------- gaps


def _feed_all(p: Http1Parser, steps: list[tuple[str, Direction, Any]]) -> Run:
    out = Run()
    for ts, (kind, d, arg) in enumerate(steps, 1):
        if kind == "feed":
            out.events.extend(p.feed(d, arg, ts))
        else:
            out.events.extend(p.gap(d, arg, ts))
    out.events.extend(p.close(len(steps) + 1))
    return out


def test_gap_inside_content_length_body_stays_in_sync() -> None:
    size = 1 << 20
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
    first = b"a" * 16384
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req(path="/big")),
            ("feed", R, head + first),
            ("gap", R, size - len(first)),
            ("feed", Q, req(path="/after")),
            ("feed", R, resp(body=b"small")),
            ("feed", Q, req("POST", "/up", "Content-Length: 100000\r\n", b"u" * 1000)),
            ("gap", Q, 99000),
            ("feed", R, resp(body=b"uploaded")),
        ],
    )
    big, after, up = r.done
    assert big.complete and big.response.body.size == size and big.response.body.truncated
    assert big.response.body.data == first
    assert big.timings.response_end == 3
    assert after.complete and after.response.body.data == b"small"
    assert up.complete and up.request.body.size == 100000 and up.request.body.truncated
    assert up.request.body.data == b"u" * 1000 and up.response.body.data == b"uploaded"
    assert not r.failures


def test_gap_inside_chunk_data_stays_in_sync() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req(path="/chunks")),
            ("feed", R, head + b"1000\r\n" + b"x" * 100),
            ("gap", R, 0x1000 - 100 - 50),
            ("feed", R, b"y" * 50 + b"\r\n5\r\nhello\r\n0\r\n\r\n"),
            ("feed", Q, req(path="/next")),
            ("feed", R, resp(body=b"n")),
        ],
    )
    ex, nxt = r.done
    assert ex.complete and ex.response.body.size == 0x1000 + 5
    assert ex.response.body.truncated
    assert ex.response.body.data == b"x" * 100  # the stored bytes stay a true prefix
    assert nxt.complete and nxt.response.body.data == b"n"


def test_gap_covering_chunk_end_is_guessed() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req()),
            ("feed", R, head + b"100\r\n" + b"x" * 10),
            ("gap", R, 0x100 - 10 + 7),  # the rest, CRLF and "0\r\n\r\n"
            ("feed", Q, req(path="/n")),
            ("feed", R, resp(body=b"n")),
        ],
    )
    assert [e.complete for e in r.done] == [True, True]
    assert r.done[0].response.body.size == 0x100


def test_gap_past_content_length_end_resyncs() -> None:
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req(path="/a")),
            ("feed", R, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"a" * 10),
            ("gap", R, 90 + 500),  # the body's end and 500 bytes of whatever came next
            ("feed", R, b"tail of something"),
            ("feed", Q, req(path="/b")),
            ("feed", R, resp(body=b"b")),
        ],
    )
    a, b = r.done
    assert a.complete and a.response.body.size == 100
    assert b.complete and b.request.path == "/b" and b.response.body.data == b"b"
    assert not r.failures


def test_gap_inside_head_desyncs_with_note() -> None:
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req(path="/a")),
            ("feed", R, b"HTTP/1.1 200 OK\r\nContent-"),
            ("gap", R, 40),
            ("feed", R, b"ength: 5\r\n\r\nhello"),  # not a message start: dropped
            ("feed", Q, req(path="/b")),
            ("feed", R, resp(body=b"b")),
        ],
    )
    a, b = r.done
    assert not a.complete and "40 bytes lost in capture" in a.notes
    assert b.complete and b.response.body.data == b"b"
    assert not r.failures


def test_responses_lost_whole_are_settled_by_time_not_queue() -> None:
    # The kernel lost the end of /b1's response and all of /b2's and /b3's (a ring overrun):
    # the next response answers /c, sent after them; /b2 and /b3 must not take its body.
    b1 = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"1" * 100
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req(path="/b1")),
            ("feed", R, b1),
            ("feed", Q, req(path="/b2")),
            ("feed", Q, req(path="/b3")),
            ("gap", R, 900 + 1040 + 300),  # rest of b1, all of b2, part of b3
            ("feed", R, b"3" * 740),  # the tail of b3: not a message start
            ("feed", Q, req(path="/c")),
            ("feed", R, resp(body=b"c-body")),
        ],
    )
    by_path = {e.request.path: e for e in r.done}
    assert by_path["/b1"].complete and by_path["/b1"].response.body.size == 1000
    for lost in ("/b2", "/b3"):
        assert not by_path[lost].complete and by_path[lost].response is None
        assert "response not captured" in by_path[lost].notes
        assert any("lost in capture" in n for n in by_path[lost].notes)
    assert by_path["/c"].complete and by_path["/c"].response.body.data == b"c-body"
    assert not r.failures


def test_gap_across_chunk_boundary_desyncs() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req()),
            ("feed", R, head + b"10\r\n0123"),
            ("gap", R, 100),
            ("feed", R, b"garbage\r\n0\r\n\r\n"),
            ("feed", Q, req(path="/n")),
            ("feed", R, resp(body=b"n")),
        ],
    )
    lost, nxt = r.done
    assert not lost.complete and "100 bytes lost in capture" in lost.notes
    assert nxt.complete and nxt.response.body.data == b"n"


def test_request_lost_in_gap_keeps_pairing() -> None:
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("gap", Q, 80),  # a whole request, never copied
            ("feed", Q, req(path="/seen")),
            ("feed", R, resp(body=b"for the lost one")),
            ("feed", R, resp(body=b"for /seen")),
        ],
    )
    lost, seen = r.done
    assert lost.request.method == "" and not lost.complete
    assert "80 bytes lost in capture" in lost.notes
    assert lost.response.body.data == b"for the lost one"
    assert seen.complete and seen.response.body.data == b"for /seen"


def test_gap_in_close_delimited_body_is_counted() -> None:
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, b"GET / HTTP/1.0\r\n\r\n"),
            ("feed", R, b"HTTP/1.0 200 OK\r\n\r\nabc"),
            ("gap", R, 1000),
            ("feed", R, b"xyz"),
        ],
    )
    (ex,) = r.done
    assert ex.complete and ex.response.body.size == 1006 and ex.response.body.data == b"abc"


def test_gap_in_request_head_then_resync() -> None:
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, b"GET /partial HTTP/1.1\r\nHo"),
            ("gap", Q, 30),
            ("feed", Q, b"st: x\r\n\r\n"),  # mid-head: dropped
            ("feed", R, resp(body=b"for partial")),
            ("feed", Q, req(path="/ok")),
            ("feed", R, resp(body=b"ok")),
        ],
    )
    lost, ok = r.done
    assert "30 bytes lost in capture" in lost.notes and not lost.complete
    assert ok.complete and ok.request.path == "/ok" and ok.response.body.data == b"ok"


# ---------------------------------------------------------------------- mid-stream


def test_midstream_join() -> None:
    script: Script = [
        (Q, b"ue&more=1 HTTP/1.1\r\nHost: x\r\n\r\n"),  # tail of a request before capture
        (R, b"t of an old body"),
        (R, resp(body=b"old response")),  # answers the request we never saw
        (Q, req(path="/first-seen")),
        (R, resp(body=b"first")),
        (Q, req(path="/second")),
        (R, resp(body=b"second")),
    ]
    r = check_splits(script[:1] + script[2:], midstream=True)  # feeds begin at boundaries
    orphan, first, second = r.done
    assert orphan.request.method == "" and not orphan.complete
    assert orphan.notes == ["joined mid-connection", "response without a captured request"]
    assert orphan.response.body.data == b"old response"
    assert first.complete and first.request.path == "/first-seen" and first.notes == []
    assert second.complete and second.response.body.data == b"second"
    r = run(script, midstream=True)
    assert [e.request.path for e in r.done] == ["", "/first-seen", "/second"]


def test_midstream_first_request_noted() -> None:
    r = run(
        [(Q, b"junk from before"), (Q, req(path="/x")), (R, resp(body=b"x"))],
        midstream=True,
    )
    (ex,) = r.done
    assert ex.notes == ["joined mid-connection"] and ex.complete


def test_midstream_false_start_goes_back_to_hunting() -> None:
    # A body chunk that happens to begin like a request line must not fail the connection.
    r = run(
        [
            (Q, b"GET is a word \x00\x01\x02 in this body\r\n\r\n"),
            (Q, req(path="/real")),
            (R, resp(body=b"real")),
        ],
        midstream=True,
    )
    assert not r.failures
    assert [e.request.path for e in r.done] == ["/real"]


# ---------------------------------------------------------------------- lenient heads


def test_h11_fallback_for_heads_llhttp_refuses() -> None:
    script: Script = [
        (Q, b"GET /lf HTTP/1.1\nHost: a\nX-Folded: one\n  two\n\n"),
        (R, b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
        (Q, b"FROB /custom HTTP/1.1\r\nHost: a\r\n\r\n"),
        (R, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
    ]
    r = check_splits(script)
    lf, frob = r.done
    assert lf.request.headers == [("Host", "a"), ("X-Folded", "one two")]
    assert lf.response.body.data == b"ok"
    assert frob.request.method == "FROB" and frob.response.body.data == b"abc"
    assert not r.failures


def test_response_without_request() -> None:
    r = run(
        [(R, b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")]
    )
    (ex,) = r.done
    assert ex.response.status == 408 and not ex.complete
    assert ex.notes == ["response without a captured request"]


# ---------------------------------------------------------------------- malformed


MALFORMED: dict[str, Script] = {
    "garbage-request": [(Q, b"\x00\x01\x02 not http at all\r\n\r\n")],
    "garbage-response": [(Q, req()), (R, b"SSH-2.0-OpenSSH_9.6\r\n\r\n")],
    "endless-header": [(Q, b"GET / HTTP/1.1\r\nX-Long: " + b"a" * (MAX_HEAD + 10))],
    "invalid-chunk-size": [
        (Q, req()),
        (R, resp("200 OK", "Transfer-Encoding: chunked\r\n", b"zz\r\n", cl=False)),
    ],
    "chunk-size-2^64": [
        (Q, req()),
        (R, resp("200 OK", "Transfer-Encoding: chunked\r\n", b"10000000000000000\r\n", cl=False)),
    ],
    "negative-content-length": [(Q, req("POST", "/", "Content-Length: -5\r\n"))],
    "conflicting-content-length": [
        (Q, req("POST", "/", "Content-Length: 5\r\nContent-Length: 6\r\n"))
    ],
    "request-transfer-coding": [(Q, req("POST", "/", "Transfer-Encoding: gzip\r\n"))],
    "missing-chunk-crlf": [
        (Q, req()),
        (R, resp("200 OK", "Transfer-Encoding: chunked\r\n", b"3\r\nabcXX0\r\n\r\n", cl=False)),
    ],
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_fails_once(name: str) -> None:
    script = MALFORMED[name]
    for variant in (script, byte_by_byte(script)):
        p = Http1Parser(Connection())
        events: list[ParserEvent] = []
        for i, (d, data) in enumerate(variant):
            events += p.feed(d, data, i)
        events += p.feed(Q, req(), 10**6)  # ignored after the failure
        events += p.gap(R, 5, 10**6)
        events += p.close(10**6 + 1)
        fails = [e for e in events if isinstance(e, ParseFailed)]
        assert len(fails) == 1, events
        # the unanswered exchange is settled with the reason, not left pending
        for e in events:
            if isinstance(e, ExchangeDone):
                assert not e.exchange.complete
                assert any(n.startswith("parse error") for n in e.exchange.notes)


def test_endless_header_memory_bounded() -> None:
    p = Http1Parser(Connection())
    events: list[ParserEvent] = []
    events += p.feed(Q, b"GET / HTTP/1.1\r\nX: ", 0)
    for i in range(100):
        events += p.feed(Q, b"a" * 4096, i)
    assert len([e for e in events if isinstance(e, ParseFailed)]) == 1
    assert len(p._rq.buf) == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Q, R, None]), st.binary(max_size=64)), max_size=12))
def test_random_bytes_never_raise(steps: list[tuple[Direction | None, bytes]]) -> None:
    for midstream in (False, True):
        p = Http1Parser(Connection(), midstream=midstream)
        for i, (d, data) in enumerate(steps):
            if d is None:
                p.gap(Q if len(data) % 2 else R, len(data) + 1, i)
            else:
                p.feed(d, data, i)
        p.close(len(steps))


_PIECES = [
    req(),
    req("HEAD", "/h"),
    req("POST", "/p", "Content-Length: 3\r\n", b"abc"),
    req("POST", "/c", "Transfer-Encoding: chunked\r\n", chunked(b"hi", trailers="T: 1\r\n")),
    req(headers="Upgrade: websocket\r\nConnection: Upgrade\r\n"),
    b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n",
    resp(body=b"body"),
    resp("204 No Content", cl=False),
    resp("200 OK", "Transfer-Encoding: chunked\r\n", chunked(b"x" * 20), cl=False),
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nclose-delimited",
    b"\r\n",
    b"\x00garbage",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([Q, R]),
            st.sampled_from(_PIECES),
            st.integers(0, 200),
            st.booleans(),
        ),
        max_size=10,
    ),
    st.booleans(),
)
def test_random_http_shaped_streams_never_raise(
    steps: list[tuple[Direction, bytes, int, bool]], midstream: bool
) -> None:
    p = Http1Parser(Connection(), body_limit=8, midstream=midstream)
    seen_fail = 0
    for i, (d, piece, cut, gap) in enumerate(steps):
        evs = p.gap(d, cut + 1, i) if gap else p.feed(d, piece[cut % (len(piece) + 1) :], i)
        seen_fail += sum(isinstance(e, ParseFailed) for e in evs)
        for e in evs:
            if isinstance(e, ExchangeDone):
                body = e.exchange.request.body
                assert len(body.data) <= 8 and body.size >= len(body.data)
    seen_fail += sum(isinstance(e, ParseFailed) for e in p.close(len(steps)))
    assert seen_fail <= 1


# ---------------------------------------------------------------------- more corners


def test_wrong_chunk_end_guess_loses_sync_without_failing() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req()),
            ("feed", R, head + b"100\r\n" + b"x" * 10),
            ("gap", R, 0x100 - 10 + 2),  # guessed: the CRLF after the chunk
            ("feed", R, b"not a chunk size\r\n"),  # the guess was wrong
            ("feed", Q, req(path="/n")),
            ("feed", R, resp(body=b"n")),
        ],
    )
    lost, nxt = r.done
    assert not lost.complete and any(n.startswith("lost sync") for n in lost.notes)
    assert nxt.complete and nxt.response.body.data == b"n"
    assert not r.failures


def test_gap_heuristic_crlf_continues_chunks() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    r = _feed_all(
        Http1Parser(Connection()),
        [
            ("feed", Q, req()),
            ("feed", R, head + b"100\r\n" + b"x" * 10),
            ("gap", R, 0x100 - 10 + 2),
            ("feed", R, b"3\r\nabc\r\n0\r\n\r\n"),
        ],
    )
    (ex,) = r.done
    assert ex.complete and ex.response.body.size == 0x100 + 3


def test_continue_then_switching_protocols() -> None:
    r = check_splits(
        [
            (Q, req(headers="Upgrade: websocket\r\nConnection: Upgrade\r\n")),
            (R, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\nws"),
        ]
    )
    (ex,) = r.done
    assert ex.response.status == 101 and "100 Continue" in ex.notes
    # no Upgrade header on the 101: the request's proposal names the protocol
    assert r.upgrades[0].protocol == "websocket"


def test_early_response_before_request_body_ends() -> None:
    script: Script = [
        (Q, req("POST", "/big", "Content-Length: 10\r\n", b"01234")),
        (R, resp("413 Content Too Large", "Connection: close\r\n", b"too big")),
        (Q, b"56789"),
    ]
    r = run(script)
    (ex,) = r.done
    assert ex.complete and ex.response.status == 413
    assert ex.request.body.data == b"0123456789"  # the tail still lands on the exchange


def test_head_response_with_chunked_header_has_no_body() -> None:
    r = check_splits(
        [
            (Q, req("HEAD", "/")),
            (R, resp(headers="Transfer-Encoding: chunked\r\n", cl=False)),
            (Q, req(path="/2")),
            (R, resp(body=b"2")),
        ]
    )
    assert [e.response.body.data for e in r.done] == [b"", b"2"]


def test_bare_lf_head_with_crlfcrlf_in_body() -> None:
    body = b"a\r\n\r\nb"
    r = check_splits(
        [
            (Q, req()),
            (R, b"HTTP/1.1 200 OK\nContent-Length: %d\n\n" % len(body) + body),
        ]
    )
    assert r.done[0].response.body.data == body and not r.failures


def test_midstream_candidate_across_feeds() -> None:
    # The start line of the first whole response arrives in two tiny feeds.
    r = run(
        [(Q, req(path="/a")), (R, b"HT"), (R, b"TP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")],
        midstream=True,
    )
    (ex,) = r.done
    assert ex.complete and ex.request.path == "/a" and ex.notes == ["joined mid-connection"]


def test_memoryview_input() -> None:
    p = Http1Parser(Connection())
    p.feed(Q, memoryview(req()), 1)  # type: ignore[arg-type]
    evs = p.feed(R, memoryview(resp(body=b"mv")), 2)  # type: ignore[arg-type]
    assert evs[0].exchange.response.body.data == b"mv"


# ---------------------------------------------------------------------- recorded streams

RECORDINGS = Path(__file__).parent.parent / "data" / "http1"


def _recording(name: str) -> tuple[dict[str, Any], Script]:
    lines = (RECORDINGS / f"{name}.jsonl").read_text().splitlines()
    meta = json.loads(lines[0])["meta"]
    script: Script = []
    for line in lines[1:]:
        rec = json.loads(line)
        script.append((Q if rec["dir"] == "request" else R, base64.b64decode(rec["data"])))
    return meta, script


@pytest.mark.parametrize("name", sorted(p.stem for p in RECORDINGS.glob("*.jsonl")))
def test_recorded_stream(name: str) -> None:
    meta, script = _recording(name)
    whole = run(script)
    assert not whole.failures
    assert len(whole.done) == meta["exchanges"]
    assert all(ex.complete for ex in whole.done), [ex.notes for ex in whole.done]
    assert outcome(run(byte_by_byte(script))) == outcome(whole)
    limited = run(script, body_limit=4).done
    for full, cut in zip(whole.done, limited, strict=True):
        for a, b in (
            (full.request.body, cut.request.body),
            (full.response.body, cut.response.body),
        ):
            assert (b.data, b.size, b.truncated) == (a.data[:4], a.size, a.size > 4)


def test_recorded_details() -> None:
    _, script = _recording("curl_keepalive")
    small, chunk, head, etag, empty = run(script).done
    assert small.response.body.data.startswith(b'{"ok"')
    assert chunk.response.body.data == b"hello chunked world"
    assert chunk.response.trailers == [("X-Checksum", "42")]
    assert head.request.method == "HEAD" and head.response.body.size == 0
    assert (etag.response.status, empty.response.status) == (304, 204)
    _, script = _recording("curl_expect_100")
    (ex,) = run(script).done
    assert "100 Continue" in ex.notes and ex.request.body.size == 3000
    assert ex.response.body.data == b"x" * 3000
    _, script = _recording("curl_close_delimited")
    (ex,) = run(script).done
    assert ex.request.http_version == "1.0" and ex.response.body.size == 3 * 28


def test_unanswered_requests_are_bounded() -> None:
    p = Http1Parser(Connection())
    events: list[ParserEvent] = []
    for i in range(300):
        events += p.feed(Q, req(path=f"/{i}"), i)
    evicted = [e.exchange for e in events if isinstance(e, ExchangeDone)]
    assert [e.request.path for e in evicted] == [f"/{i}" for i in range(300 - 256)]
    assert all("no response seen (too many requests outstanding)" in e.notes for e in evicted)
    assert len(p._waiting) == 256
