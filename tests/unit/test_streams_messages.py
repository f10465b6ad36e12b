"""WebSocket messages and server-sent events through the connection table: each one comes
out as a Message record as it happens, on its exchange (no root, no bcc)."""

from __future__ import annotations

from h2.settings import SettingCodes
from wsproto.frame_protocol import FrameProtocol

from httptap.capture.events import Dir, SockFlag
from httptap.model import Connection, Proto, Role
from httptap.protocols.base import ExchangeDone, MessageSeen
from httptap.protocols.http2 import Http2Parser
from httptap.protocols.messages import sse_tap
from httptap.records import Completed, Message, Pending
from httptap.streams import StreamTable
from tests.unit.test_http2_helpers import H2Pair, split_every_byte
from tests.unit.test_http2_helpers import run as run_h2
from tests.unit.test_streams import ev, run
from tests.unit.test_websocket_frames import peer

UPGRADE = (b"GET /chat HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
SWITCH = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
          b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n")


def _messages(out: list) -> list[tuple]:
    return [(r.message.direction, r.message.opcode, r.message.data, r.message.compressed)
            for r in out if isinstance(r, Message)]


def test_websocket_after_101_client_side() -> None:
    client = peer(True, "")
    server = peer(False, "server_no_context_takeover")
    t = StreamTable(clock_offset_ns=10**18)
    out = run(t, [
        ev(data=UPGRADE, ts=1_000),
        # the server's first message arrives in the same read as its 101
        ev(direction=Dir.INGRESS, data=SWITCH + bytes(server.send_data("welcome")), ts=2_000),
        ev(data=bytes(client.send_data("hi " * 100)), ts=3_000),
        ev(direction=Dir.INGRESS, data=bytes(server.send_data(b"\x00\x01")), ts=4_000),
        ev(data=bytes(client.close(1000, "done")), ts=5_000),
    ])
    assert [type(r) for r in out] == [Pending, Completed, Message, Message, Message, Message]
    ex = out[1].exchange
    assert ex.status == 101 and ex.complete
    assert _messages(out) == [
        ("received", "text", b"welcome", True),
        ("sent", "text", b"hi " * 100, True),
        ("received", "binary", b"\x00\x01", True),
        ("sent", "close", b"done", False),
    ]
    msgs = [r.message for r in out if isinstance(r, Message)]
    assert [m.id for m in msgs] == ["1.1", "1.2", "1.3", "1.4"]
    assert {m.exchange_id for m in msgs} == {"1"}
    assert [m.wall for m in msgs] == [(ts + 10**18) / 1e9 for ts in (2_000, 3_000, 4_000, 5_000)]
    assert msgs[3].close_code == 1000 and msgs[0].pid == 100 and msgs[0].tid == 101
    assert all(r.exchange is ex for r in out if isinstance(r, Message))
    assert ex.messages == msgs


def test_websocket_server_side_directions() -> None:
    client = peer(True, None)
    server = peer(False, None)
    t = StreamTable()
    plain_up = UPGRADE.replace(b"Sec-WebSocket-Extensions: permessage-deflate; "
                               b"client_max_window_bits\r\n", b"")
    plain_sw = SWITCH.replace(b"Sec-WebSocket-Extensions: permessage-deflate; "
                              b"server_no_context_takeover\r\n", b"")
    out = run(t, [
        ev(direction=Dir.INGRESS, data=plain_up, flags=SockFlag.SERVER),
        ev(direction=Dir.EGRESS, data=plain_sw, flags=SockFlag.SERVER),
        ev(direction=Dir.INGRESS, data=bytes(client.send_data("ask")), flags=SockFlag.SERVER),
        ev(direction=Dir.EGRESS, data=bytes(server.send_data("answer")), flags=SockFlag.SERVER),
    ])
    assert _messages(out) == [("received", "text", b"ask", False),
                              ("sent", "text", b"answer", False)]


def test_sse_events_come_out_before_the_response_completes() -> None:
    t = StreamTable()
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    out = run(t, [
        ev(data=b"GET /events HTTP/1.1\r\nHost: example\r\nAccept: text/event-stream\r\n\r\n"),
        ev(direction=Dir.INGRESS, data=head + b"d\r\ndata: one\n\nda\r\n", ts=2_000),
        ev(direction=Dir.INGRESS, data=b"14\r\nta: two\nid: 2\n\nevent\r\n", ts=3_000),
    ])
    events = [r.message for r in out if isinstance(r, Message)]
    assert [(m.proto, m.opcode, m.data, m.sse_id, m.direction, m.time_ns) for m in events] == [
        ("sse", "event", b"one", None, "received", 2_000),
        ("sse", "event", b"two", "2", "received", 3_000),
    ]
    assert not any(isinstance(r, Completed) for r in out)
    out = run(t, [ev(direction=Dir.INGRESS, data=b"4\r\n: x\n\r\n1\r\n\n\r\n0\r\n\r\n", ts=4_000)])
    assert [type(r) for r in out] == [Completed]
    assert [m.data for m in out[0].exchange.messages] == [b"one", b"two"]


def test_plain_response_bodies_make_no_messages() -> None:
    t = StreamTable()
    out = run(t, [ev(data=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                  ev(direction=Dir.INGRESS, data=b"HTTP/1.1 200 OK\r\nContent-Type: text/plain"
                     b"\r\nContent-Length: 12\r\n\r\ndata: nope\n\n")])
    assert [type(r) for r in out] == [Pending, Completed] and out[1].exchange.messages == []


def test_message_records_cross_the_helper_protocol() -> None:
    from httptap.engine.protocol import from_json, to_json
    from httptap.model import Message as Msg

    m = Msg(id="3.1", exchange_id="3", pid=1, tid=2, direction="sent", opcode="binary",
            data=b"\xff\x00", size=2, time_ns=7_000_000_000, wall=7.0)
    back = from_json(to_json(Message(m)))
    assert isinstance(back, Message) and back.message == m and back.exchange is None


def test_cli_replays_message_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``--open`` of a saved session prints each exchange's messages after it: as message
    lines with ``--jsonl``, as arrow lines otherwise; ``--filter`` applies to their exchange."""
    import io
    import json

    from httptap import contract
    from httptap.cli.main import Environment, main
    from httptap.model import Connection, Exchange, Request, Response, Role
    from httptap.model import Message as Msg

    def ex(i: str, path: str) -> Exchange:
        return Exchange(id=i, connection=Connection(pid=7, role=Role.CLIENT),
                        request=Request(method="GET", authority="h", path=path),
                        response=Response(status=101), complete=True, wall_start=1.0)

    msgs = [Msg(id="1.1", exchange_id="1", pid=7, direction="sent", opcode="text",
                data=b"hi\nthere", size=8, wall=2.0),
            Msg(id="1.2", exchange_id="1", pid=7, opcode="close", data=b"bye", size=3,
                close_code=1000, close_reason="bye", wall=3.0),
            Msg(id="2.1", exchange_id="2", pid=7, opcode="binary", data=b"\x01", size=1)]
    path = tmp_path / "s.jsonl"
    rows = [contract.to_dict(ex("1", "/chat")), contract.to_dict(ex("2", "/other")),
            *map(contract.message_to_dict, msgs)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def run_cli(*args: str) -> list[str]:
        out = io.StringIO()
        env = Environment(stdout=out, stderr=io.StringIO(), stdout_isatty=False, columns=80,
                          install_signals=False)
        assert main(["--open", str(path), *args], env) == 0
        return out.getvalue().splitlines()

    lines = [json.loads(x) for x in run_cli("--jsonl", "--filter", "path=/chat")]
    assert [(d["type"], d["id"]) for d in lines] == [("exchange", "1"), ("message", "1.1"),
                                                     ("message", "1.2")]
    assert lines[1] == contract.message_to_dict(msgs[0])
    text = run_cli()
    assert len(text) == 5 and all(len(x) <= 80 for x in text)
    assert text[1].endswith("↑ ws text              8B hi\\nthere")
    assert text[2].endswith("↓ ws close 1000        3B bye")
    assert text[4].endswith("↓ ws binary            1B 01")


def _h2_event_stream() -> H2Pair:
    """A text/event-stream response over h2, its three events in DATA frames of their own
    (the first split over two frames), the stream ended after the last."""
    p = H2Pair()
    sid = p.request("/events", headers=[("accept", "text/event-stream")])
    p.server.send_headers(sid, [(":status", "200"), ("content-type", "text/event-stream")])
    p.flush()
    for chunk in (b"id: 1\nevent: tick\nda", b"ta: one\n\n", b"data: two\ndata: lines\n\n"):
        p.server.send_data(sid, chunk)
        p.flush()
    p.server.send_data(sid, b"data: three\n\n", end_stream=True)
    p.flush()
    return p


def test_sse_over_http2_is_parsed_as_it_arrives() -> None:
    conn = Connection(protocol=Proto.H2, pid=7, role=Role.CLIENT)
    parser = Http2Parser(conn, body_tap=sse_tap(conn, 65536))
    events, _ = run_h2(_h2_event_stream().chunks, parser)
    seen = [e for e in events if isinstance(e, MessageSeen)]
    assert [(m.message.data, m.message.sse_event, m.message.sse_id) for m in seen] == [
        (b"one", "tick", "1"), (b"two\nlines", "message", "1"), (b"three", "message", "1")]
    assert all(m.message.direction == "received" for m in seen)
    times = [m.message.time_ns for m in seen]
    assert times == sorted(times) and len(set(times)) == 3  # each its own DATA frame's time
    # live: every event comes before the exchange is done
    done_at = next(i for i, e in enumerate(events) if isinstance(e, ExchangeDone))
    assert all(events.index(m) < done_at for m in seen)
    (ex,) = [e.exchange for e in events if isinstance(e, ExchangeDone)]
    assert [m.data for m in ex.messages] == [b"one", b"two\nlines", b"three"]


def test_sse_over_http2_split_at_every_byte_gives_the_same_events() -> None:
    conn = Connection(protocol=Proto.H2, pid=7, role=Role.CLIENT)
    parser = Http2Parser(conn, body_tap=sse_tap(conn, 65536))
    events, _ = run_h2(split_every_byte(_h2_event_stream().chunks), parser)
    assert [e.message.data for e in events if isinstance(e, MessageSeen)] == [
        b"one", b"two\nlines", b"three"]


def test_an_http2_response_that_is_not_an_event_stream_has_no_tap() -> None:
    conn = Connection(protocol=Proto.H2, pid=7)
    p = H2Pair()
    sid = p.request("/")
    p.respond(sid, 200, b"data: not an event\n\n", headers=[("content-type", "text/plain")])
    events, _ = run_h2(p.chunks, Http2Parser(conn, body_tap=sse_tap(conn, 65536)))
    assert not [e for e in events if isinstance(e, MessageSeen)]


def _h2_websocket() -> tuple[H2Pair, int]:
    """A WebSocket over HTTP/2 (RFC 8441): an extended CONNECT, 200, then frames in DATA."""
    p = H2Pair()
    p.server.update_settings({SettingCodes.ENABLE_CONNECT_PROTOCOL: 1})
    p.flush()
    sid = p.client.get_next_available_stream_id()
    p.client.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"),
                                (":scheme", "http"), (":path", "/chat"),
                                (":authority", "example.test"), ("sec-websocket-version", "13")])
    p.flush()
    p.server.send_headers(sid, [(":status", "200")])
    p.flush()
    client, server = FrameProtocol(client=True, extensions=[]), FrameProtocol(client=False,
                                                                              extensions=[])
    for conn, frames in ((p.client, client.send_data("hello", fin=True)),
                         (p.server, server.send_data("hello back", fin=True)),
                         (p.client, client.send_data(b"\x00\x01", fin=True)),
                         (p.client, client.close(1000, "bye"))):
        conn.send_data(sid, frames)
        p.flush()
    p.server.send_data(sid, server.close(1000, "bye"), end_stream=True)
    p.client.end_stream(sid)
    p.flush()
    return p, sid


def test_websocket_over_http2_extended_connect() -> None:
    conn = Connection(protocol=Proto.H2, pid=7, role=Role.CLIENT)
    p, sid = _h2_websocket()
    for chunks in (p.chunks, split_every_byte(p.chunks)):
        events, _ = run_h2(chunks, Http2Parser(conn, body_tap=sse_tap(conn, 65536)))
        seen = [e.message for e in events if isinstance(e, MessageSeen)]
        assert [(m.direction, m.opcode, m.data) for m in seen] == [
            ("sent", "text", b"hello"), ("received", "text", b"hello back"),
            ("sent", "binary", b"\x00\x01"), ("sent", "close", b"bye"),
            ("received", "close", b"bye")]
        (ex,) = [e.exchange for e in events if isinstance(e, ExchangeDone)]
        assert (ex.request.method, ex.request.path, ex.status) == ("CONNECT", "/chat", 200)
        assert ex.request.body.size == 0 and ex.response.body.size == 0  # frames, not a body
        assert len(ex.messages) == 5 and ex.stream_id == sid
