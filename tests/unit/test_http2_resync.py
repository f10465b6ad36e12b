"""Http2Parser when things go wrong: joined mid-connection, capture gaps, garbage, fuzz."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httptap.protocols.base import ParseFailed
from httptap.protocols.http2 import PREFACE
from httptap.protocols.http2 import _reader as http2_reader
from tests.unit.test_http2_helpers import (
    REQ,
    RESP,
    H2Pair,
    Wire,
    done,
    failed,
    new_parser,
    raw_frame,
    request_head,
    run,
)

RECORDED = Path(__file__).parents[1] / "data" / "h2" / "grpcio_calls.jsonl"


def _recorded() -> list[tuple]:
    lines = RECORDED.read_text().splitlines()
    return [
        (REQ if j["dir"] == "req" else RESP, base64.b64decode(j["data"]))
        for j in map(json.loads, lines)
    ]


def _session_with_history() -> tuple[H2Pair, int]:
    """Two requests fill the dynamic tables; returns the chunk index after them."""
    p = H2Pair()
    for _ in range(2):
        sid = p.request("/api/v1/items", headers=[("x-token", "secret-123"), ("x-env", "prod")])
        p.respond(sid, 200, b"old", headers=[("x-served-by", "node-7")])
    join = len(p.chunks)
    # After the join: the same (indexed) fields, plus new literals that are learned ...
    sid = p.request("/api/v1/items", headers=[("x-token", "secret-123"), ("x-new", "fresh")])
    p.respond(sid, 200, b"three", headers=[("x-served-by", "node-7"), ("x-r", "new")])
    # ... and used again from the table (with a new authority, so every field is known).
    sid = p.request("/api/v2/other", headers=[("x-new", "fresh")], authority="b.test")
    p.respond(sid, 200, b"four", headers=[("x-r", "new")])
    sid = p.request("/api/v2/other", headers=[("x-new", "fresh")], authority="b.test")
    p.respond(sid, 200, b"five", headers=[("x-r", "new")])
    return p, join


def test_midstream_join_shows_placeholders_then_recovers() -> None:
    p, join = _session_with_history()
    events, parser = run(p.chunks[join:], new_parser(midstream=True))
    assert not failed(events) and parser._internal_errors == 0
    third, fourth, fifth = done(events)
    names = [name for name, _ in third.request.headers]
    assert any(n.startswith("<unknown-header-") for n in names)
    assert ("x-new", "fresh") in third.request.headers
    assert third.request.method == "GET"  # static table entries are always known
    assert any(n.startswith("joined mid-connection:") for n in third.notes)
    assert third.response.body.data == b"three" and ("x-r", "new") in third.response.headers
    # Literals learned after the join decode when they are referenced from the table.
    assert fourth.request.path == "/api/v2/other" and fourth.request.authority == "b.test"
    assert fourth.request.headers == [("x-new", "fresh")]
    assert fourth.response.headers == [("x-r", "new")]
    assert not fourth.notes and fourth.complete
    assert fifth.request.authority == "b.test" and not fifth.notes


def test_midstream_join_at_every_byte_offset_never_raises() -> None:
    p, join = _session_with_history()
    chunks = p.chunks[join:]
    first_resp = next(i for i, (d, _) in enumerate(chunks) if d is RESP)
    for cut in range(0, 60):
        # The capture starts `cut` bytes into the first chunk of each direction.
        cut_chunks = [
            (d, data[cut:] if i in (0, first_resp) else data) for i, (d, data) in enumerate(chunks)
        ]
        events, parser = run(cut_chunks, new_parser(midstream=True))
        assert parser._internal_errors == 0
        assert not failed(events)
        last = done(events)[-1]
        assert last.request.path == "/api/v2/other", cut
        assert last.request.authority == "b.test" and last.response.body.data == b"five", cut
        if cut:  # stream 5's block, which indexed "x-new", was cut off: a placeholder
            assert "joined mid-connection: 2 header(s) not decodable" in last.notes


def test_midstream_parser_accepts_a_connection_start_too() -> None:
    p, _ = _session_with_history()
    events, _ = run(p.chunks, new_parser(midstream=True))
    exs = done(events)
    assert len(exs) == 5 and all(not ex.notes for ex in exs)
    assert exs[0].request.headers == [("x-token", "secret-123"), ("x-env", "prod")]


def test_midstream_join_of_a_real_grpcio_connection() -> None:
    chunks = _recorded()
    for k in range(0, len(chunks), 5):
        events, parser = run(chunks[k:], new_parser(midstream=True))
        assert parser._internal_errors == 0 and not failed(events)
        for ex in done(events):
            assert ex.complete, (k, ex.notes)
    # Joined before the server-streaming call: its 50 messages and its path are all there.
    events, _ = run(chunks[7:], new_parser(midstream=True))
    stream = next(ex for ex in done(events) if ex.request.path == "/demo.Echo/ServerStream")
    assert len(stream.grpc.responses) == 50


def test_gap_inside_data_keeps_sync() -> None:
    w = Wire()
    parser = new_parser()
    parser.feed(REQ, PREFACE + Wire.settings(), 1)
    parser.feed(RESP, Wire.settings(), 2)
    parser.feed(REQ, w.headers(REQ, 1, request_head("/up", "POST")), 3)
    frame = Wire.data(1, b"A" * 1000, end_stream=True)
    parser.feed(REQ, frame[:109], 4)  # header + 100 bytes
    assert not done(parser.gap(REQ, 800, 5))
    parser.feed(REQ, frame[909:], 6)
    events = parser.feed(RESP, w.headers(RESP, 1, [(":status", "200")], end_stream=True), 7)
    (ex,) = done(events)
    body = ex.request.body
    assert body.size == 1000 and body.truncated and body.data == b"A" * 200
    assert ex.notes == ["800 bytes lost in capture"] and ex.complete
    # Still in sync: the next stream is clean.
    parser.feed(REQ, w.headers(REQ, 3, request_head("/next"), end_stream=True), 8)
    events = parser.feed(RESP, w.headers(RESP, 3, [(":status", "204")], end_stream=True), 9)
    (nxt,) = done(events)
    assert nxt.request.path == "/next" and not nxt.notes


def test_gap_inside_data_padding_keeps_sync() -> None:
    w = Wire()
    parser = new_parser()
    parser.feed(REQ, PREFACE + Wire.settings(), 1)
    parser.feed(RESP, Wire.settings(), 2)
    parser.feed(REQ, w.headers(REQ, 1, request_head("/p", "POST")), 3)
    frame = Wire.data(1, b"B" * 50, pad=100, end_stream=True)
    parser.feed(REQ, frame[:20], 4)
    parser.gap(REQ, 130, 5)  # 40 body bytes + 90 padding
    parser.feed(REQ, frame[150:], 6)
    events = parser.feed(RESP, w.headers(RESP, 1, [(":status", "200")], end_stream=True), 7)
    (ex,) = done(events)
    assert ex.request.body.size == 50 and ex.request.body.data == b"B" * 10


def test_gap_across_frames_resynchronises() -> None:
    w = Wire()
    parser = new_parser()
    parser.feed(REQ, PREFACE + Wire.settings(), 1)
    parser.feed(RESP, Wire.settings(), 2)
    parser.feed(REQ, w.headers(REQ, 1, request_head("/a", "GET", ("x-k", "v1"))), 3)
    lost = w.headers(REQ, 3, request_head("/lost", "GET", ("x-lost", "zzz")), end_stream=True)
    lost += Wire.data(1, b"abc")
    events = parser.gap(REQ, len(lost) + 5, 4)  # and 5 bytes into the next frame
    tail = w.headers(REQ, 5, request_head("/after", "GET", ("x-lost", "zzz")), end_stream=True)
    tail2 = w.headers(REQ, 7, request_head("/later", "GET", ("x-fresh", "1")), end_stream=True)
    nxt = Wire.data(1, b"end", end_stream=True) + tail + tail2
    events += parser.feed(REQ, nxt[5:], 5)
    resp = b"".join(
        w.headers(RESP, sid, [(":status", "200")], end_stream=True) for sid in (1, 3, 5, 7)
    )
    events += parser.feed(RESP, resp, 6)
    events += parser.close(7)
    assert parser._internal_errors == 0 and not failed(events)
    exs = {ex.stream_id: ex for ex in done(events)}
    assert f"{len(lost) + 5} bytes lost in capture" in exs[1].notes
    assert "request headers not captured" in exs[3].notes and exs[3].status == 200
    # Stream 5's block refers to the lost block's entry: a placeholder, never a wrong value.
    after = exs[5]
    assert ("x-lost", "zzz") not in after.request.headers
    assert any("HPACK state lost" in n for n in after.notes)
    # Literals after the gap decode; `:authority` was indexed by a block we kept, but the
    # table was forgotten with the gap (positions may have shifted), so it is unknown now.
    assert exs[7].request.path == "/later" and ("x-fresh", "1") in exs[7].request.headers


def test_garbage_from_the_client_fails_cleanly() -> None:
    parser = new_parser()
    events = parser.feed(REQ, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64), 1)
    assert [type(e) for e in events] == [ParseFailed]
    assert "preface" in events[0].reason
    assert parser.feed(REQ, b"more", 2) == [] and parser.close(3) == []


def test_http1_is_not_http2() -> None:
    parser = new_parser()
    assert failed(parser.feed(REQ, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1))
    parser = new_parser()
    assert failed(parser.feed(RESP, b"HTTP/1.1 400 Bad Request\r\n\r\n", 1))


def test_server_whose_first_frame_is_not_settings_fails() -> None:
    parser = new_parser()
    events = parser.feed(RESP, raw_frame(0x6, 0, 0, b"12345678"), 1)
    assert failed(events) and "SETTINGS" in failed(events)[0].reason


def test_garbage_in_the_middle_resynchronises() -> None:
    w = Wire()
    parser = new_parser()
    parser.feed(REQ, PREFACE + Wire.settings(), 1)
    parser.feed(RESP, Wire.settings(), 2)
    parser.feed(REQ, w.headers(REQ, 1, request_head("/a"), end_stream=True), 3)
    junk = bytes(random.Random(4).randrange(256) for _ in range(3000))
    events = parser.feed(RESP, b"\xff\xff\xff" + junk, 4)
    assert not failed(events)
    events = parser.feed(RESP, w.headers(RESP, 1, [(":status", "200")], end_stream=True), 5)
    events += parser.close(6)
    (ex,) = done(events)
    assert any("framing lost" in n for n in ex.notes)
    assert parser._internal_errors == 0


def test_midstream_garbage_gives_up_eventually(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http2_reader, "_RESYNC_GIVE_UP", 20_000)
    parser = new_parser(midstream=True)
    rng = random.Random(1)
    events = []
    for i in range(20):
        events += parser.feed(REQ, bytes(rng.randrange(256) for _ in range(2000)), i)
    assert failed(events) and parser._internal_errors == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chunks=st.lists(st.tuples(st.sampled_from([REQ, RESP]), st.binary(max_size=200)), max_size=12),
    midstream=st.booleans(),
    with_preface=st.booleans(),
)
def test_fuzz_never_raises(chunks, midstream: bool, with_preface: bool) -> None:
    parser = new_parser(midstream=midstream)
    if with_preface:
        parser.feed(REQ, PREFACE + Wire.settings(), 0)
        parser.feed(RESP, Wire.settings(), 0)
    for i, (direction, data) in enumerate(chunks):
        parser.feed(direction, data, i)
        if i % 3 == 2:
            parser.gap(direction, len(data) + 1, i)
    parser.close(99)
    assert parser._internal_errors == 0


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), flips=st.integers(1, 6), midstream=st.booleans())
def test_fuzz_mutated_real_conversation(seed: int, flips: int, midstream: bool) -> None:
    rng = random.Random(seed)
    chunks = [(d, bytearray(b)) for d, b in _recorded()]
    for _ in range(flips):
        _, data = chunks[rng.randrange(len(chunks))]
        data[rng.randrange(len(data))] = rng.randrange(256)
    parser = new_parser(midstream=midstream)
    events, parser = run([(d, bytes(b)) for d, b in chunks], parser)
    assert parser._internal_errors == 0
    assert all(isinstance(e.exchange.notes, list) for e in events if hasattr(e, "exchange"))


def test_frames_split_across_a_gap_free_boundary_do_not_confuse_resync() -> None:
    # A resync candidate whose length runs past the chunk must wait, not be believed.
    w = Wire()
    parser = new_parser(midstream=True)
    stream = raw_frame(0x0, 0, 1, b"x" * 50) + w.headers(RESP, 1, [(":status", "200")])
    stream += Wire.data(1, b"tail", end_stream=True)
    events = []
    for i in range(0, len(stream), 7):
        events += parser.feed(RESP, stream[i : i + 7], i)
    events += parser.close(1000)
    (ex,) = done(events)
    assert ex.status == 200 and ex.response.body.data.endswith(b"tail")
