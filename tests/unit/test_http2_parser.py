"""Http2Parser on well-formed conversations: streams, bodies, trailers, frame types, timings."""

from __future__ import annotations

from h2.errors import ErrorCodes
from h2.settings import SettingCodes

from httptap.contract import to_dict
from httptap.model import Connection, Proto, Request
from httptap.protocols.base import Direction, ExchangeDone, ExchangePending
from httptap.protocols.http2 import PREFACE, Http2Parser
from tests.unit.test_http2_helpers import (
    REQ,
    RESP,
    H2Pair,
    Wire,
    done,
    failed,
    frame_types,
    new_parser,
    pending,
    raw_frame,
    request_head,
    run,
    split_every_byte,
)


def _conversation() -> H2Pair:
    p = H2Pair()
    a = p.request("/items?id=1", headers=[("accept", "application/json"), ("x-a", "1")])
    p.respond(a, 200, b'{"id": 1}', headers=[("content-type", "application/json")])
    b = p.request("/upload", method="POST", body=b"x" * 1000)
    p.respond(b, 201, b"created", trailers=[("x-checksum", "abc"), ("server-timing", "db;dur=3")])
    c = p.request("/missing")
    p.respond(c, 404)
    return p


def _summary(events):
    return [
        (
            ex.stream_id,
            ex.request.method,
            ex.request.path,
            ex.request.headers,
            ex.request.body.data,
            ex.status,
            ex.response.headers,
            ex.response.body.data,
            ex.response.trailers,
            ex.complete,
            ex.notes,
        )
        for ex in done(events)
    ]


def test_conversation_becomes_one_exchange_per_stream() -> None:
    conn = Connection(protocol=Proto.H2, pid=7)
    events, _ = run(_conversation().chunks, Http2Parser(conn))
    exs = done(events)
    assert [ex.stream_id for ex in exs] == [1, 3, 5]
    first, upload, missing = exs
    assert first.connection is conn and first.id == ""
    assert (first.request.method, first.request.scheme) == ("GET", "http")
    assert (first.request.authority, first.request.path) == ("example.test", "/items?id=1")
    assert first.request.headers == [("accept", "application/json"), ("x-a", "1")]
    assert first.request.http_version == first.response.http_version == "2"
    assert first.status == 200 and first.response.body.data == b'{"id": 1}'
    assert first.response.headers == [("content-type", "application/json")]
    assert first.complete and not first.notes
    assert upload.request.body.size == 1000 and not upload.request.body.truncated
    assert upload.response.trailers == [("x-checksum", "abc"), ("server-timing", "db;dur=3")]
    assert upload.response.body.data == b"created"
    assert missing.status == 404 and missing.response.body.size == 0
    d = to_dict(first)
    assert (
        d["proto"] == "h2" and d["stream_id"] == 1 and d["url"] == "http://example.test/items?id=1"
    )


def test_pending_when_request_headers_complete() -> None:
    p = H2Pair()
    sid = p.request("/slow")
    parser = new_parser()
    events = []
    for i, (direction, data) in enumerate(p.chunks):
        events += parser.feed(direction, data, i)
    assert [type(e) for e in events] == [ExchangePending]
    ex = events[0].exchange
    assert ex.request.path == "/slow" and ex.response is None and not ex.complete
    p.respond(sid, 200, b"ok")
    more = [e for d, data in p.chunks[len(events) + 3 :] for e in parser.feed(d, data, 99)]
    assert done(more) == [ex] and ex.complete


def test_timings_follow_the_feeds() -> None:
    w = Wire()
    parser = new_parser()
    parser.feed(REQ, PREFACE + Wire.settings(), 1)
    parser.feed(RESP, Wire.settings(), 2)
    parser.feed(REQ, w.headers(REQ, 1, request_head("/t", "POST")), 10)
    parser.feed(REQ, Wire.data(1, b"body", end_stream=True), 20)
    parser.feed(RESP, w.headers(RESP, 1, [(":status", "200")]), 30)
    parser.feed(RESP, Wire.data(1, b"a"), 40)
    events = parser.feed(RESP, Wire.data(1, b"b", end_stream=True), 50)
    t = done(events)[0].timings
    assert (t.request_start, t.request_end, t.response_start, t.response_end) == (10, 20, 30, 50)


def test_start_times_come_from_the_headers_frame_not_its_continuation() -> None:
    w = Wire()
    block = w.block(REQ, request_head("/c"))
    parser = new_parser()
    parser.feed(REQ, PREFACE + Wire.settings(), 1)
    parser.feed(RESP, Wire.settings(), 2)
    parser.feed(REQ, raw_frame(0x1, 0x1, 1, block[:3]), 10)
    assert parser.feed(REQ, raw_frame(0x9, 0x4, 1, block[3:]), 20)
    rblock = w.block(RESP, [(":status", "200")])
    parser.feed(RESP, raw_frame(0x1, 0x1, 1, rblock[:1]), 30)
    (ex,) = done(parser.feed(RESP, raw_frame(0x9, 0x4, 1, rblock[1:]), 40))
    t = ex.timings
    assert (t.request_start, t.request_end, t.response_start, t.response_end) == (10, 20, 30, 40)


def test_split_at_every_byte_gives_the_same_exchanges() -> None:
    chunks = _conversation().chunks
    whole, _ = run(chunks)
    bytewise, _ = run(split_every_byte(chunks))
    assert _summary(bytewise) == _summary(whole)
    assert len(done(whole)) == 3


def test_server_speaks_first() -> None:
    p = H2Pair(server_first=True)
    assert p.chunks[0][0] is RESP
    sid = p.request("/first")
    p.respond(sid, 204)
    events, _ = run(p.chunks)
    assert [(ex.request.path, ex.status) for ex in done(events)] == [("/first", 204)]
    assert not failed(events)


def test_unknown_frames_priority_ping_window_update_are_ignored() -> None:
    w = Wire()
    req = (
        PREFACE
        + Wire.settings({SettingCodes.ENABLE_PUSH: 0})
        + raw_frame(0xFA, 0xFF, 0, b"unknown connection frame")
        + w.headers(REQ, 1, request_head("/x"), priority=True)
        + raw_frame(0x2, 0, 1, b"\x00\x00\x00\x00\x10")  # PRIORITY
        + raw_frame(0xBB, 0x3, 1, b"unknown stream frame")
        + raw_frame(0x6, 0, 0, b"12345678")  # PING
        + raw_frame(0x8, 0, 0, b"\x00\x01\x00\x00")  # WINDOW_UPDATE
        + Wire.data(1, b"", end_stream=True)
    )
    resp = (
        Wire.settings()
        + Wire.settings(ack=True)
        + raw_frame(0x6, 0x1, 0, b"12345678")  # PING ACK
        + w.headers(RESP, 1, [(":status", "200")])
        + raw_frame(0xF0, 0, 1, b"")
        + Wire.data(1, b"ok", end_stream=True)
    )
    events, _ = run([(REQ, req), (RESP, resp)])
    (ex,) = done(events)
    assert ex.request.path == "/x" and ex.response.body.data == b"ok" and ex.complete
    assert not ex.notes


def test_padding_is_removed_from_data_and_headers() -> None:
    w = Wire()
    req = (
        PREFACE
        + Wire.settings()
        + w.headers(REQ, 1, request_head("/pad", "POST"), pad=7, priority=True)
        + Wire.data(1, b"hello ", pad=20)
        + Wire.data(1, b"world", pad=0)
        + Wire.data(1, b"", end_stream=True, pad=3)
    )
    resp = (
        Wire.settings()
        + w.headers(RESP, 1, [(":status", "200"), ("x", "y")], pad=255)
        + Wire.data(1, b"padded", pad=1, end_stream=True)
    )
    for chunks in ([(REQ, req), (RESP, resp)], split_every_byte([(REQ, req), (RESP, resp)])):
        (ex,) = done(run(chunks)[0])
        assert ex.request.body.data == b"hello world" and ex.request.body.size == 11
        assert ex.response.headers == [("x", "y")] and ex.response.body.data == b"padded"


def test_continuation_frames() -> None:
    w = Wire()
    block = w.block(REQ, request_head("/cont", "GET", ("x-long", "v" * 300), ("x-b", "2")))
    parts = [block[:10], block[10:200], block[200:]]
    req = (
        PREFACE
        + Wire.settings()
        + raw_frame(0x1, 0x1, 1, parts[0])  # HEADERS, END_STREAM, no END_HEADERS
        + raw_frame(0x9, 0x0, 1, parts[1])
        + raw_frame(0x9, 0x4, 1, parts[2])
    )
    resp_block = w.block(RESP, [(":status", "200"), ("x-r", "r")])
    resp = (
        Wire.settings()
        + raw_frame(0x1, 0x0, 1, resp_block[:2])
        + raw_frame(0x9, 0x4, 1, resp_block[2:])
        + Wire.data(1, b"done", end_stream=True)
    )
    (ex,) = done(run([(REQ, req), (RESP, resp)])[0])
    assert ex.request.path == "/cont"
    assert ex.request.headers == [("x-long", "v" * 300), ("x-b", "2")]
    assert ex.timings.request_end is not None  # END_STREAM from the HEADERS frame
    assert ex.response.headers == [("x-r", "r")] and ex.complete


def test_header_table_size_setting_applies_to_the_right_decoder() -> None:
    p = H2Pair()
    for i in range(3):
        sid = p.request(f"/before/{i}", headers=[("x-session", "s" * 40)])
        p.respond(sid, 200, b"a", headers=[("x-server", "big-value-" * 5)])
    # The client shrinks the table the *server's* encoder may use (response direction) ...
    p.client.update_settings({SettingCodes.HEADER_TABLE_SIZE: 64})
    p.flush()
    # ... and the server the client's (request direction), to nothing at all.
    p.server.update_settings({SettingCodes.HEADER_TABLE_SIZE: 0})
    p.flush()
    for i in range(3):
        sid = p.request(f"/after/{i}", headers=[("x-session", "s" * 40)])
        p.respond(sid, 200, b"b", headers=[("x-server", "big-value-" * 5)])
    p.client.update_settings({SettingCodes.HEADER_TABLE_SIZE: 4096})
    p.flush()
    sid = p.request("/grown", headers=[("x-session", "s" * 40)])
    p.respond(sid, 200, b"c", headers=[("x-server", "big-value-" * 5)])
    events, parser = run(p.chunks)
    exs = done(events)
    assert [ex.request.path for ex in exs] == [
        *(f"/before/{i}" for i in range(3)),
        *(f"/after/{i}" for i in range(3)),
        "/grown",
    ]
    for ex in exs:
        assert ex.request.headers == [("x-session", "s" * 40)]
        assert ex.response.headers == [("x-server", "big-value-" * 5)]
        assert not ex.notes
    req_decoder = parser._sides[Direction.REQUEST].decoder
    resp_decoder = parser._sides[Direction.RESPONSE].decoder
    assert req_decoder.max_size == 0  # signalled in the client's header blocks
    assert resp_decoder.max_size == 4096


def test_table_size_update_inside_a_block_evicts() -> None:
    w = Wire()
    first = w.headers(REQ, 1, request_head("/a", "GET", ("x-one", "1" * 50)), end_stream=True)
    w.enc[REQ].header_table_size = 100  # the encoder signals the new size in the next block
    second = w.headers(REQ, 3, request_head("/b", "GET", ("x-one", "1" * 50)), end_stream=True)
    third = w.headers(REQ, 5, request_head("/c", "GET", ("x-one", "1" * 50)), end_stream=True)
    resp = Wire.settings() + b"".join(
        w.headers(RESP, sid, [(":status", "200")], end_stream=True) for sid in (1, 3, 5)
    )
    events, _ = run([(REQ, PREFACE + Wire.settings() + first + second + third), (RESP, resp)])
    assert [ex.request.headers for ex in done(events)] == [[("x-one", "1" * 50)]] * 3
    assert not any(ex.notes for ex in done(events))


def test_huge_header_block_over_continuations() -> None:
    p = H2Pair()
    big = "v" * 60_000  # several CONTINUATION frames
    sid = p.request("/huge", headers=[("x-big", big)])
    p.respond(sid, 200, b"ok", headers=[("x-big-too", big)])
    sid = p.request("/after")
    p.respond(sid, 200, b"ok")
    for direction in (REQ, RESP):
        sent = b"".join(data for d, data in p.chunks if d is direction)
        assert frame_types(sent).count(0x9) >= 3  # CONTINUATION
    whole = done(run(p.chunks)[0])
    assert whole[0].request.headers == [("x-big", big)]
    assert whole[0].response.headers == [("x-big-too", big)]
    assert whole[1].request.path == "/after" and not whole[1].notes


def test_header_block_over_the_limit_is_skipped_and_noted() -> None:
    w = Wire()
    block = w.block(REQ, request_head("/giant", "GET", ("x", "y" * (1 << 20))), huffman=False)
    frames = raw_frame(0x1, 0x1, 1, block[:16384])
    rest = block[16384:]
    while rest:
        chunk, rest = rest[:16384], rest[16384:]
        frames += raw_frame(0x9, 0x0 if rest else 0x4, 1, chunk)
    after = w.headers(REQ, 3, request_head("/next"), end_stream=True)
    resp = Wire.settings() + b"".join(
        w.headers(RESP, s, [(":status", "200")], end_stream=True) for s in (1, 3)
    )
    events, _ = run([(REQ, PREFACE + Wire.settings() + frames + after), (RESP, resp)])
    giant, nxt = done(events)
    assert any("not decoded" in n for n in giant.notes)
    assert giant.complete and giant.status == 200
    # The skipped block indexed fields we never saw: later decoding is tolerant, not wrong.
    assert nxt.request.path == "/next"


def test_hundred_multiplexed_streams() -> None:
    p = H2Pair()
    sids = [p.request(f"/m/{i}", method="POST", body=f"req-{i}".encode()) for i in range(100)]
    for sid in reversed(sids):
        p.server.send_headers(sid, [(":status", "200")])
    p.flush()
    for i, sid in enumerate(sids):
        p.server.send_data(sid, f"resp-{i}".encode(), end_stream=True)
    p.flush()
    events, parser = run(p.chunks)
    exs = done(events)
    assert len(exs) == 100 and not failed(events)
    by_path = {ex.request.path: ex for ex in exs}
    for i in range(100):
        ex = by_path[f"/m/{i}"]
        assert ex.request.body.data == f"req-{i}".encode()
        assert ex.response.body.data == f"resp-{i}".encode() and ex.status == 200
    assert len(pending(events)) >= 100
    assert not parser._streams


def test_rst_stream_from_client_and_server() -> None:
    p = H2Pair()
    a = p.request("/cancelled", end=False)
    p.client.reset_stream(a, ErrorCodes.CANCEL)
    p.flush()
    b = p.request("/refused")
    p.server.reset_stream(b, ErrorCodes.REFUSED_STREAM)
    p.flush()
    c = p.request("/ok")
    p.respond(c, 200, b"fine")
    exs = done(run(p.chunks)[0])
    assert [ex.request.path for ex in exs] == ["/cancelled", "/refused", "/ok"]
    assert exs[0].notes == ["reset by client: CANCEL"] and not exs[0].complete
    assert exs[1].notes == ["reset by server: REFUSED_STREAM"] and exs[1].status is None
    assert exs[2].complete and exs[2].status == 200


def test_goaway_closes_the_streams_it_concerns() -> None:
    p = H2Pair()
    sids = [p.request(f"/g/{i}") for i in range(3)]
    p.server.close_connection(ErrorCodes.ENHANCE_YOUR_CALM, b"too many", last_stream_id=sids[0])
    p.flush()
    parser = new_parser()
    events, _ = run(p.chunks, parser, close=False)
    closed = done(events)
    assert [ex.stream_id for ex in closed] == sids[1:]
    for ex in closed:
        assert "GOAWAY from server" in ex.notes[0] and "ENHANCE_YOUR_CALM" in ex.notes[0]
        assert "last stream 1" in ex.notes[0] and not ex.complete
    events = parser.close(100)
    (first,) = done(events)
    assert first.stream_id == 1
    assert "GOAWAY from server: ENHANCE_YOUR_CALM, debug: too many" in first.notes
    assert "connection closed before the response" in first.notes


def test_trailers_on_a_plain_response_and_request_trailers() -> None:
    w = Wire()
    req = (
        PREFACE
        + Wire.settings()
        + w.headers(REQ, 1, request_head("/t", "POST", ("te", "trailers")))
        + Wire.data(1, b"body")
        + w.headers(REQ, 1, [("x-req-trailer", "1")], end_stream=True)
    )
    resp = (
        Wire.settings()
        + w.headers(RESP, 1, [(":status", "200"), ("content-type", "text/plain")])
        + Wire.data(1, b"text")
        + w.headers(RESP, 1, [("x-digest", "sha-256=abc")], end_stream=True)
    )
    (ex,) = done(run([(REQ, req), (RESP, resp)])[0])
    assert ex.request.trailers == [("x-req-trailer", "1")]
    assert ex.response.trailers == [("x-digest", "sha-256=abc")]
    assert ex.response.headers == [("content-type", "text/plain")] and ex.grpc is None
    assert to_dict(ex)["response"]["trailers"] == [["x-digest", "sha-256=abc"]]


def test_informational_response_then_final() -> None:
    w = Wire()
    req = (
        PREFACE
        + Wire.settings()
        + w.headers(REQ, 1, request_head("/c", "PUT", ("expect", "100-continue")))
    )
    resp = Wire.settings() + w.headers(RESP, 1, [(":status", "100")])
    req2 = Wire.data(1, b"payload", end_stream=True)
    resp2 = w.headers(RESP, 1, [(":status", "201"), ("x", "final")], end_stream=True)
    (ex,) = done(run([(REQ, req), (RESP, resp), (REQ, req2), (RESP, resp2)])[0])
    assert ex.status == 201 and ex.response.headers == [("x", "final")]
    assert ex.response.trailers == [] and "informational response 100" in ex.notes
    assert ex.timings.response_start == 2  # the first response bytes count for TTFB


def test_server_push() -> None:
    p = H2Pair()
    sid = p.request("/index.html")
    pushed = p.server.get_next_available_stream_id()
    p.server.push_stream(
        sid,
        pushed,
        [
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "example.test"),
            (":path", "/app.css"),
        ],
    )
    p.respond(sid, 200, b"<html>")
    p.respond(pushed, 200, b"body{}", headers=[("content-type", "text/css")])
    exs = done(run(p.chunks)[0])
    by_sid = {ex.stream_id: ex for ex in exs}
    assert by_sid[1].response.body.data == b"<html>"
    push = by_sid[pushed]
    assert push.request.path == "/app.css" and push.response.body.data == b"body{}"
    assert "server push (promised on stream 1)" in push.notes and push.complete


def test_long_lived_stream_sends_pending_as_it_grows() -> None:
    p = H2Pair()
    sid = p.request("/events", headers=[("accept", "text/event-stream")])
    p.server.send_headers(sid, [(":status", "200"), ("content-type", "text/event-stream")])
    p.flush()
    for i in range(5):
        p.server.send_data(sid, f"data: {i}\n\n".encode())
        p.flush()
    p.server.end_stream(sid)
    p.flush()
    events, _ = run(p.chunks)
    grows = [e for e in events if isinstance(e, ExchangePending)]
    assert len(grows) >= 6  # request head, response head, each event
    assert isinstance(events[-1], ExchangeDone)
    assert events[-1].exchange.response.body.data.count(b"data:") == 5


def test_upgraded_h2c_answers_stream_one() -> None:
    p = H2Pair(upgrade=True)
    assert p.chunks[0][0] is RESP  # the server's SETTINGS come before the client's preface
    p.respond(1, 200, b"upgraded body", headers=[("x-u", "1")])
    sid = p.request("/second")
    p.respond(sid, 200, b"two")
    upgrade_request = Request(method="GET", path="/start", authority="example.test")
    parser = Http2Parser(
        Connection(protocol=Proto.H2), upgraded=True, upgrade_request=upgrade_request
    )
    events, _ = run(p.chunks, parser)
    first, second = done(events)
    assert first.stream_id == 1 and first.request is upgrade_request
    assert first.response.body.data == b"upgraded body" and first.status == 200
    assert "request sent as HTTP/1.1 Upgrade" in first.notes and first.complete
    assert first.timings.request_start is not None
    assert second.request.path == "/second" and second.response.body.data == b"two"
    assert not failed(events)


def test_upgraded_without_request_still_answers_stream_one() -> None:
    p = H2Pair(upgrade=True)
    p.respond(1, 200, b"x")
    parser = Http2Parser(Connection(), upgraded=True)
    (ex,) = done(run(p.chunks, parser)[0])
    assert ex.stream_id == 1 and ex.status == 200 and ex.request.method == ""


def test_body_limit_truncates_but_counts() -> None:
    p = H2Pair()
    sid = p.request("/big", method="POST", body=b"q" * 50_000)
    p.respond(sid, 200, b"r" * 70_000)
    (ex,) = done(run(p.chunks, new_parser(body_limit=1000))[0])
    assert ex.request.body.size == 50_000 and len(ex.request.body.data) == 1000
    assert ex.request.body.truncated
    assert ex.response.body.size == 70_000 and ex.response.body.truncated


def test_close_flushes_open_streams_with_a_note() -> None:
    p = H2Pair()
    a = p.request("/never")
    b = p.request("/half")
    p.server.send_headers(b, [(":status", "200")])
    p.server.send_data(b, b"partial")
    p.flush()
    events, parser = run(p.chunks)
    exs = {ex.request.path: ex for ex in done(events)}
    assert exs["/never"].notes == ["connection closed before the response"]
    assert exs["/half"].notes == ["connection closed before the response ended"]
    assert not exs["/never"].complete and not exs["/half"].complete
    assert parser.feed(REQ, b"more", 1) == [] and parser.close(2) == []
    assert a == 1


def test_many_streams_stay_bounded() -> None:
    w = Wire()
    n = 20_000
    req = (
        PREFACE
        + Wire.settings()
        + b"".join(
            w.headers(REQ, 2 * i + 1, request_head(f"/s/{i % 50}"), end_stream=True)
            for i in range(n)
        )
    )
    parser = new_parser(max_streams=100)
    events = parser.feed(RESP, Wire.settings(), 1) + parser.feed(REQ, req, 2)
    assert len(parser._streams) == 100
    evicted = done(events)
    assert len(evicted) == n - 100
    assert "evicted: more than 100 open streams on this connection" in evicted[0].notes
    assert len(parser._closed) <= 8192
    # Answered streams leave nothing behind.
    resp = b"".join(
        w.headers(RESP, 2 * i + 1, [(":status", "200")], end_stream=True) for i in range(n - 100, n)
    )
    assert len(done(parser.feed(RESP, resp, 3))) == 100 and not parser._streams
