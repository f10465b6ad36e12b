"""The connection table from synthetic kernel events (no root, no bcc)."""

from __future__ import annotations

from httptap.capture.events import SSL_GEN_BIT, Dir, Event, Kind, SockFlag, decode, encode
from httptap.model import Proto, Role
from httptap.records import Completed, Pending
from httptap.streams import StreamTable

PID = 100
REQ = b"GET /a HTTP/1.1\r\nHost: example\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def ev(kind=Kind.DATA, direction=Dir.EGRESS, data=b"", *, gen=1, fd=5, ts=1000,
       flags=SockFlag.CLIENT, size=None, lost=0):
    return Event(kind=kind, ts_ns=ts, gen=gen, pid=PID, tid=PID + 1, fd=fd,
                 size=len(data) if size is None else size, lost=lost, direction=direction,
                 flags=flags, aux=0, data=data)


def run(table, events):
    out = []
    for e in events:
        out.extend(table.handle(e))
    return out


def test_event_encoding_round_trip():
    e = ev(data=b"abc", lost=7)
    assert decode(encode(e)) == e


def test_client_exchange_pending_then_completed():
    t = StreamTable(clock_offset_ns=10**18)
    out = run(t, [ev(data=REQ, ts=1_000_000), ev(direction=Dir.INGRESS, data=RESP, ts=3_000_000)])
    assert [type(r) for r in out] == [Pending, Completed]
    ex = out[1].exchange
    assert ex.id == out[0].exchange.id == "1"
    assert ex.request.path == "/a" and ex.status == 200
    assert ex.response.body.data == b"hello"
    assert ex.connection.role is Role.CLIENT and ex.connection.protocol is Proto.HTTP1
    assert ex.duration_ms == 2.0
    assert ex.wall_start == (1_000_000 + 10**18) / 1e9
    # the Pending record is a snapshot: later parsing did not change it
    assert out[0].exchange.response is None


def test_role_inferred_from_who_sends_the_request():
    t = StreamTable()
    out = run(t, [ev(direction=Dir.INGRESS, data=REQ, flags=SockFlag(0)),
                  ev(direction=Dir.EGRESS, data=RESP, flags=SockFlag(0))])
    assert out[-1].exchange.connection.role is Role.SERVER
    assert out[-1].exchange.status == 200


def test_response_first_seen_still_decides_role():
    t = StreamTable()
    # a server pushing its response before we saw the request cannot happen for h1, but a
    # client whose request we missed (lost) reads a response first: role client
    run(t, [ev(direction=Dir.INGRESS, data=RESP, flags=SockFlag(0))])
    out = run(t, [ev(data=REQ, flags=SockFlag(0)), ev(direction=Dir.INGRESS, data=RESP)])
    assert out[-1].exchange.connection.role is Role.CLIENT


def test_non_http_is_switched_off_after_both_directions():
    t = StreamTable()
    out = run(t, [ev(data=b"*1\r\n$4\r\nPING\r\n"), ev(direction=Dir.INGRESS, data=b"+PONG\r\n")])
    assert out == []
    assert t.take_disabled() == [(PID, 5, 1)]
    assert t.stats.not_http == 1
    # later bytes of that connection are ignored, even if they look like HTTP
    assert run(t, [ev(data=REQ), ev(direction=Dir.INGRESS, data=RESP)]) == []


def test_server_speaking_first_is_not_judged_on_one_chunk():
    t = StreamTable()
    # an unknown greeting from the peer, then our HTTP request: one chunk is not a verdict
    out = run(t, [ev(direction=Dir.INGRESS, data=b"\x00\x01garbage")])
    assert out == [] and t.take_disabled() == []


def test_tls_ciphertext_is_not_counted_as_not_http():
    t = StreamTable()
    run(t, [ev(data=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40)])
    assert t.stats.not_http == 0
    assert t.take_disabled() == [(PID, 5, 1)]


def test_reused_fd_gets_a_fresh_connection():
    t = StreamTable()
    run(t, [ev(data=b"*1\r\n$4\r\nPING\r\n", gen=1),
            ev(direction=Dir.INGRESS, data=b"+PONG\r\n", gen=1), ev(Kind.CLOSE, None, gen=1)])
    out = run(t, [ev(data=REQ, gen=2), ev(direction=Dir.INGRESS, data=RESP, gen=2)])
    assert isinstance(out[-1], Completed) and out[-1].exchange.status == 200


def test_gap_inside_body_keeps_sizes_and_sync():
    t = StreamTable()
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"z" * 1000
    out = run(t, [ev(data=REQ), ev(direction=Dir.INGRESS, data=big),
                  ev(Kind.GAP, Dir.INGRESS, size=99000),
                  ev(data=REQ), ev(direction=Dir.INGRESS, data=RESP)])
    done = [r.exchange for r in out if isinstance(r, Completed)]
    assert [e.response.body.size for e in done] == [100000, 5]
    assert done[0].response.body.truncated and done[1].response.body.data == b"hello"


def test_kernel_loss_becomes_a_gap_before_the_data():
    t = StreamTable()
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + b"a" * 1000
    out = run(t, [ev(data=REQ), ev(direction=Dir.INGRESS, data=head),
                  ev(direction=Dir.INGRESS, data=b"c" * 1000, lost=1000)])
    done = [r.exchange for r in out if isinstance(r, Completed)]
    assert len(done) == 1 and done[0].response.body.size == 3000
    assert t.stats.lost_bytes == 1000


def test_close_flushes_unanswered_request():
    t = StreamTable()
    out = run(t, [ev(data=REQ), ev(Kind.CLOSE, None)])
    done = [r.exchange for r in out if isinstance(r, Completed)]
    assert len(done) == 1 and done[0].status is None and not done[0].complete
    assert done[0].notes


def test_midstream_join_waits_for_a_message_start():
    t = StreamTable()
    pre = SockFlag.PREEXISTING
    out = run(t, [ev(direction=Dir.INGRESS, data=b"tail of an old body", flags=pre),
                  ev(data=REQ, flags=pre), ev(direction=Dir.INGRESS, data=RESP, flags=pre)])
    done = [r.exchange for r in out if isinstance(r, Completed)]
    assert len(done) == 1 and done[0].request.path == "/a"
    assert "joined mid-connection" in done[0].notes


def test_connect_event_gives_remote_address():
    t = StreamTable()
    sockaddr = b"\x02\x00\x1f\x90\x7f\x00\x00\x01" + b"\x00" * 20
    out = run(t, [ev(Kind.CONNECT, None, sockaddr), ev(data=REQ),
                  ev(direction=Dir.INGRESS, data=RESP)])
    assert out[-1].exchange.connection.remote == "127.0.0.1:8080"


def test_a_tls_stream_keyed_by_its_library_takes_the_address_of_its_socket_by_fd():
    # the kernel could not tie a TLS library's stream to its socket's generation (keyed by
    # the library's object instead); the socket's own stream, by fd, knows connect's address
    t = StreamTable(resolve=lambda pid, fd: ("", ""))  # gone from /proc by the time it is read
    sockaddr = b"\x02\x00\x1f\x90\x7f\x00\x00\x01" + b"\x00" * 20
    plain = dict(gen=SSL_GEN_BIT | 0x1234, flags=SockFlag.CLIENT | SockFlag.TLS)
    out = run(t, [ev(Kind.CONNECT, None, sockaddr, fd=9), ev(data=REQ, fd=9, **plain),
                  ev(direction=Dir.INGRESS, data=RESP, fd=9, **plain)])
    assert out[-1].exchange.connection.remote == "127.0.0.1:8080"


def test_resolver_supplies_addresses():
    t = StreamTable(resolve=lambda pid, fd: ("10.0.0.1:5555", "10.0.0.2:80"))
    out = run(t, [ev(data=REQ), ev(direction=Dir.INGRESS, data=RESP)])
    c = out[-1].exchange.connection
    assert (c.local, c.remote, c.fd, c.pid) == ("10.0.0.1:5555", "10.0.0.2:80", 5, PID)


def test_oldest_connection_makes_room_and_its_request_is_reported():
    t = StreamTable(max_connections=2)
    out = run(t, [ev(data=REQ, gen=1), ev(data=REQ, gen=2),
                  ev(direction=Dir.INGRESS, data=RESP, gen=2),  # gen 2 active, gen 1 idle
                  ev(data=REQ, gen=3)])
    assert t.open_connections == 2 and t.stats.evicted == 1
    evicted = [r.exchange for r in out if isinstance(r, Completed) and not r.exchange.complete]
    assert len(evicted) == 1 and evicted[0].connection.pid == PID
    assert any("dropped from the table" in n for n in evicted[0].notes)
    # the survivors still parse
    out = run(t, [ev(direction=Dir.INGRESS, data=RESP, gen=3)])
    assert [r.exchange.status for r in out if isinstance(r, Completed)] == [200]


def test_body_limit_zero_keeps_headers_and_true_sizes():
    t = StreamTable(body_limit=0)
    post = b"POST /a HTTP/1.1\r\nHost: example\r\nContent-Length: 3\r\n\r\nabc"
    empty = b"HTTP/1.1 204 No Content\r\n\r\n"
    out = run(t, [ev(data=post), ev(direction=Dir.INGRESS, data=RESP, ts=2000),
                  ev(data=REQ, ts=3000), ev(direction=Dir.INGRESS, data=empty, ts=4000)])
    first, second = [r.exchange for r in out if isinstance(r, Completed)]
    assert (first.request.body.data, first.request.body.size) == (b"", 3)
    assert (first.response.body.data, first.response.body.size) == (b"", 5)
    assert first.request.body.truncated and first.response.body.truncated
    # nothing was cut from an empty body
    assert second.response.body.size == 0 and not second.response.body.truncated
    assert not second.request.body.truncated


def test_process_name_is_on_the_connection():
    t = StreamTable(comm=lambda pid: f"proc{pid}")
    out = run(t, [ev(data=REQ), ev(direction=Dir.INGRESS, data=RESP)])
    assert out[-1].exchange.connection.comm == f"proc{PID}"


def test_lost_bytes_are_counted_per_connection():
    t = StreamTable()
    assert t.last_active() is None and t.take_last_lossy() is None
    run(t, [ev(data=REQ, fd=5, gen=1), ev(data=REQ, fd=6, gen=2, lost=100),
            ev(data=REQ, fd=6, gen=2, lost=20), ev(data=REQ, fd=5, gen=1)])
    assert t.stats.lost_bytes == 120
    assert t.lost_by_connection == {f"pid {PID} fd 6": 120}
    assert t.take_last_lossy() == (PID, 6)
    assert t.take_last_lossy() is None  # taken
    assert t.last_active() == (PID, 5)
