"""gRPC calls through Http2Parser: h2-generated conversations and a recorded grpcio one."""

from __future__ import annotations

import base64
import gzip
import itertools
import json
from pathlib import Path

from httptap.content.protobuf import decode_raw
from httptap.contract import from_dict, to_dict
from httptap.model import Proto
from httptap.protocols.base import ExchangePending
from tests.unit.test_http2_helpers import (
    GRPC_REQUEST_HEADERS,
    PREFACE,
    REQ,
    RESP,
    H2Pair,
    Wire,
    done,
    grpc_frame,
    new_parser,
    request_head,
    run,
    split_every_byte,
)

RECORDED = Path(__file__).parents[1] / "data" / "h2" / "grpcio_calls.jsonl"
GRPC_RESPONSE_HEADERS = [("content-type", "application/grpc")]
OK = [("grpc-status", "0")]


def _call(p: H2Pair, method: str, *messages: bytes, end: bool = True, **kw) -> int:
    body = b"".join(grpc_frame(m, **kw) for m in messages)
    return p.request(
        f"/shop.v1.Orders/{method}", method="POST", headers=GRPC_REQUEST_HEADERS, body=body, end=end
    )


def test_unary_ok() -> None:
    p = H2Pair()
    sid = _call(p, "Get", b"\x08\x2a")
    p.respond(sid, 200, grpc_frame(b"\x0a\x03abc"), headers=GRPC_RESPONSE_HEADERS, trailers=OK)
    (ex,) = done(run(p.chunks)[0])
    g = ex.grpc
    assert ex.proto is Proto.GRPC and ex.complete
    assert (g.service, g.method, g.status, g.message) == ("shop.v1.Orders", "Get", 0, "")
    assert [(m.size, m.compressed, m.data) for m in g.requests] == [(2, False, b"\x08\x2a")]
    assert [m.data for m in g.responses] == [b"\x0a\x03abc"]
    assert ex.response.trailers == [("grpc-status", "0")]
    assert decode_raw(g.requests[0].data)[0].value == 42
    d = to_dict(ex)
    assert d["proto"] == "grpc" and d["grpc"]["method"] == "Get"
    assert base64.b64decode(d["grpc"]["responses"][0]["data"]) == b"\x0a\x03abc"
    assert from_dict(d).grpc == g


def test_error_status_with_percent_encoded_message() -> None:
    p = H2Pair()
    sid = _call(p, "Get", b"")
    trailers = [("grpc-status", "5"), ("grpc-message", "order%20%2342%20not%20found%20%E2%9C%97")]
    p.respond(sid, 200, b"", headers=GRPC_RESPONSE_HEADERS, trailers=trailers)
    (ex,) = done(run(p.chunks)[0])
    assert ex.grpc.status == 5 and ex.grpc.message == "order #42 not found ✗"
    assert ex.grpc.responses == [] and ex.status == 200


def test_trailers_only_response() -> None:
    p = H2Pair()
    sid = _call(p, "Get", b"\x08\x01")
    p.respond(
        sid,
        200,
        headers=[*GRPC_RESPONSE_HEADERS, ("grpc-status", "16"), ("grpc-message", "no token")],
    )
    (ex,) = done(run(p.chunks)[0])
    assert ex.grpc.status == 16 and ex.grpc.message == "no token"
    assert ("grpc-status", "16") in ex.response.headers and ex.complete


def test_server_streaming_50_messages_grows_live() -> None:
    p = H2Pair()
    sid = _call(p, "Watch", b"\x08\x01")
    p.server.send_headers(sid, [(":status", "200"), *GRPC_RESPONSE_HEADERS])
    p.flush()
    for i in range(50):
        p.server.send_data(sid, grpc_frame(b"\x08" + bytes([i])))
        p.flush()
    p.server.send_headers(sid, OK, end_stream=True)
    p.flush()
    events, _ = run(p.chunks)
    (ex,) = done(events)
    assert [m.data for m in ex.grpc.responses] == [b"\x08" + bytes([i]) for i in range(50)]
    assert ex.grpc.status == 0
    grew = [len(e.exchange.grpc.responses) for e in events if isinstance(e, ExchangePending)]
    assert len(grew) >= 50  # one Pending per chunk that brought a message (the engine throttles)


def test_server_streaming_pending_snapshots_grow() -> None:
    p = H2Pair()
    sid = _call(p, "Watch", b"")
    p.server.send_headers(sid, [(":status", "200"), *GRPC_RESPONSE_HEADERS])
    p.flush()
    parser = new_parser()
    seen = []
    for i, (d, data) in enumerate(p.chunks):
        parser.feed(d, data, i)
    for n in range(3):
        p.server.send_data(sid, grpc_frame(b"m"))
        p.flush()
        for e in parser.feed(RESP, p.chunks[-1][1], 100 + n):
            seen.append(len(e.exchange.grpc.responses))
    assert seen == [1, 2, 3]


def test_client_streaming() -> None:
    p = H2Pair()
    sid = _call(p, "Upload", b"a", end=False)
    for chunk in (b"bb", b"ccc"):
        p.client.send_data(sid, grpc_frame(chunk))
        p.flush()
    p.client.end_stream(sid)
    p.flush()
    p.respond(sid, 200, grpc_frame(b"\x08\x03"), headers=GRPC_RESPONSE_HEADERS, trailers=OK)
    (ex,) = done(run(p.chunks)[0])
    assert [m.data for m in ex.grpc.requests] == [b"a", b"bb", b"ccc"]
    assert [m.data for m in ex.grpc.responses] == [b"\x08\x03"]


def test_bidi_interleaved() -> None:
    p = H2Pair()
    sid = _call(p, "Chat", end=False)
    p.server.send_headers(sid, [(":status", "200"), *GRPC_RESPONSE_HEADERS])
    p.flush()
    for word in (b"hi", b"how", b"bye"):
        p.client.send_data(sid, grpc_frame(word))
        p.flush()
        p.server.send_data(sid, grpc_frame(word.upper()))
        p.flush()
    p.client.end_stream(sid)
    p.server.send_headers(sid, OK, end_stream=True)
    p.flush()
    (ex,) = done(run(p.chunks)[0])
    assert [m.data for m in ex.grpc.requests] == [b"hi", b"how", b"bye"]
    assert [m.data for m in ex.grpc.responses] == [b"HI", b"HOW", b"BYE"]


def test_gzip_compressed_messages_are_decoded() -> None:
    p = H2Pair()
    payload = b"\x0a\x10" + b"compress me!!!!!"
    sid = p.request(
        "/shop.v1.Orders/Get",
        method="POST",
        headers=[*GRPC_REQUEST_HEADERS, ("grpc-encoding", "gzip")],
        body=grpc_frame(payload, compress=True),
    )
    p.respond(
        sid,
        200,
        grpc_frame(payload * 3, compress=True) + grpc_frame(b"plain"),
        headers=[*GRPC_RESPONSE_HEADERS, ("grpc-encoding", "gzip")],
        trailers=OK,
    )
    (ex,) = done(run(p.chunks)[0])
    (req,) = ex.grpc.requests
    assert req.compressed and req.data == payload
    assert req.size == len(gzip.compress(payload))
    first, second = ex.grpc.responses
    assert first.compressed and first.data == payload * 3
    assert not second.compressed and second.data == b"plain"


def test_messages_split_across_frames_and_several_per_frame() -> None:
    w = Wire()
    msgs = [bytes([i]) * (i * 7) for i in range(1, 9)]
    stream = b"".join(grpc_frame(m) for m in msgs)
    cuts = [0, 3, 4, 30, 31, 90, len(stream)]  # inside prefixes, inside bodies, many per frame
    req = PREFACE + Wire.settings()
    req += w.headers(REQ, 1, request_head("/a.B/C", "POST", *GRPC_REQUEST_HEADERS))
    for a, b in itertools.pairwise(cuts):
        req += Wire.data(1, stream[a:b], end_stream=b == len(stream))
    resp = Wire.settings() + w.headers(RESP, 1, [(":status", "200"), *GRPC_RESPONSE_HEADERS])
    resp += Wire.data(1, stream) + w.headers(RESP, 1, OK, end_stream=True)
    for chunks in ([(REQ, req), (RESP, resp)], split_every_byte([(REQ, req), (RESP, resp)])):
        (ex,) = done(run(chunks)[0])
        assert [m.data for m in ex.grpc.requests] == msgs
        assert [m.data for m in ex.grpc.responses] == msgs
        assert ex.request.body.size == len(stream)


def test_message_data_capped_at_body_limit_true_size_kept() -> None:
    p = H2Pair()
    big = b"\x01" * 5000
    sid = _call(p, "Put", big)
    p.respond(
        sid,
        200,
        grpc_frame(big * 2, compress=True),
        headers=[*GRPC_RESPONSE_HEADERS, ("grpc-encoding", "gzip")],
        trailers=OK,
    )
    (ex,) = done(run(p.chunks, new_parser(body_limit=1000))[0])
    (req,) = ex.grpc.requests
    assert req.size == 5000 and len(req.data) == 1000 and req.truncated
    (resp,) = ex.grpc.responses
    assert resp.compressed and resp.data == b"\x01" * 1000 and resp.truncated


def test_grpc_recognised_from_the_response_content_type() -> None:
    w = Wire()
    req = PREFACE + Wire.settings()
    req += w.headers(REQ, 1, request_head("/pkg.S/M", "POST"))  # no content-type
    req += Wire.data(1, grpc_frame(b"req"), end_stream=True)
    resp = Wire.settings() + w.headers(RESP, 1, [(":status", "200"), *GRPC_RESPONSE_HEADERS])
    resp += Wire.data(1, grpc_frame(b"resp")) + w.headers(RESP, 1, OK, end_stream=True)
    (ex,) = done(run([(REQ, req), (RESP, resp)])[0])
    assert ex.grpc.method == "M" and [m.data for m in ex.grpc.requests] == [b"req"]
    assert [m.data for m in ex.grpc.responses] == [b"resp"]


def test_non_grpc_is_not_grpc() -> None:
    p = H2Pair()
    sid = p.request("/api", method="POST", body=b"\x00\x00\x00\x00\x01x")
    p.respond(sid, 200, b"\x00\x00\x00\x00\x00", headers=[("content-type", "application/json")])
    (ex,) = done(run(p.chunks)[0])
    assert ex.grpc is None and ex.proto is Proto.H2


def _recorded():
    lines = RECORDED.read_text().splitlines()
    return [
        (REQ if j["dir"] == "req" else RESP, base64.b64decode(j["data"]))
        for j in map(json.loads, lines)
    ]


def test_recorded_grpcio_conversation() -> None:
    """Bytes a real grpcio (C core) client and server exchanged; see record_grpcio.py."""
    chunks = _recorded()
    for feed in (chunks, split_every_byte(chunks)):
        events, parser = run(feed)
        exs = done(events)
        assert parser._internal_errors == 0
        calls = [(ex.grpc.method, ex.grpc.status) for ex in exs]
        assert calls == [
            ("Unary", 0),
            ("Unary", 3),
            ("ServerStream", 0),
            ("ClientStream", 0),
            ("Bidi", 0),
            ("Unary", 0),
        ]
        unary, error, server_stream, client_stream, bidi, compressed = exs
        assert all(ex.complete and not ex.notes for ex in exs)
        assert unary.grpc.service == "demo.Echo"
        assert [m.data for m in unary.grpc.responses] == [b"\x0a\x05hello"]
        assert error.grpc.message == "bad request: ✗ 100%" and not error.grpc.responses
        assert [m.data for m in server_stream.grpc.responses] == [
            b"\x08" + bytes([i]) for i in range(50)
        ]
        assert [m.data for m in client_stream.grpc.requests] == [b"a"] * 5
        assert [m.data for m in bidi.grpc.responses] == [b"ba", b"dc", b"fe", b"hg"]
        (req,) = compressed.grpc.requests
        assert req.compressed and req.data == b"z" * 200 and req.size < 200
        assert compressed.request.header("grpc-encoding") == "gzip"
