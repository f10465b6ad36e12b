"""The in-process engine's parts, without bcc: dispatch of raw events, Pending merging,
masking, totals (Stats, Lost), and the layering rule that keeps capture inside the engine."""

from __future__ import annotations

from pathlib import Path

from httptap.capture.events import Dir, Event, Kind, SockFlag, encode
from httptap.engine.api import CaptureOptions
from httptap.engine.inprocess import InProcessCapture
from httptap.engine.masking import FastMasker
from httptap.engine.protocol import from_json, to_json
from httptap.engine.publish import NOTE_UNANSWERED, Publisher
from httptap.engine.totals import Totals
from httptap.model import Exchange, Request, Response
from httptap.records import Completed, Lost, Pending, Stats
from httptap.streams import StreamTable

ROOT = Path(__file__).resolve().parents[2]
REQ = b"GET /a HTTP/1.1\r\nHost: example\r\nAuthorization: Bearer sekrit\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
FLAGS = SockFlag.CLIENT | SockFlag.SEEN


class _Switch:
    def __init__(self) -> None:
        self.disabled: list[tuple[int, int, int]] = []

    def disable_socket(self, pid: int, fd: int, gen: int) -> bool:
        self.disabled.append((pid, fd, gen))
        return True


def _raw(data: bytes, direction: Dir, *, ts: int, gen: int = 1, fd: int = 5) -> bytes:
    return encode(Event(Kind.DATA, ts, gen, 100, 101, fd, len(data), 0, direction, FLAGS, 0,
                        data))


def test_a_batch_gives_one_masked_completed_and_no_pending() -> None:
    switch = _Switch()
    cap = InProcessCapture.offline(CaptureOptions(), switch)
    out = cap.drain([_raw(REQ, Dir.EGRESS, ts=1), _raw(RESP, Dir.INGRESS, ts=2)])
    assert [type(r) for r in out] == [Completed]
    ex = out[0].exchange
    assert dict(ex.request.headers)["Authorization"] == "Bearer ****"
    assert ex.response.body.data == b"hello"


def test_pending_across_batches_is_a_masked_copy() -> None:
    cap = InProcessCapture.offline(CaptureOptions(), _Switch())
    first = cap.drain([_raw(REQ, Dir.EGRESS, ts=1)])
    assert [type(r) for r in first] == [Pending]
    pending = first[0].exchange
    assert dict(pending.request.headers)["Authorization"] == "Bearer ****"
    done = cap.drain([_raw(RESP, Dir.INGRESS, ts=2)])
    assert [type(r) for r in done] == [Completed] and pending.response is None


def test_show_secrets_leaves_values() -> None:
    cap = InProcessCapture.offline(CaptureOptions(show_secrets=True), _Switch())
    out = cap.drain([_raw(REQ, Dir.EGRESS, ts=1), _raw(RESP, Dir.INGRESS, ts=2)])
    assert dict(out[0].exchange.request.headers)["Authorization"] == "Bearer sekrit"


def test_not_http_is_switched_off_in_the_kernel() -> None:
    switch = _Switch()
    cap = InProcessCapture.offline(CaptureOptions(), switch)
    junk = [_raw(bytes([i]) * 64, Dir.EGRESS, ts=i + 1, gen=7, fd=9) for i in range(1, 40)]
    cap.drain(junk)
    assert switch.disabled == [(100, 9, 7)]


def test_publisher_notes_unanswered_and_counts_open() -> None:
    pub = Publisher(None)
    ex = Exchange(id="1", request=Request(method="GET", path="/"))
    assert pub.publish([Pending(ex)]) and pub.pending == 1
    (rec,) = pub.finish([Completed(ex)])
    assert NOTE_UNANSWERED in rec.exchange.notes and pub.pending == 0


def test_fast_masker_masks_queries_and_secret_headers_only() -> None:
    mask = FastMasker()
    plain = Exchange(id="1", request=Request(path="/a", headers=[("Accept", "x")]))
    mask(plain)
    assert plain.request.headers == [("Accept", "x")]
    query = Exchange(id="2", request=Request(path="/a?token=abc"))
    mask(query)
    assert "abc" not in query.request.path
    cookie = Exchange(id="3", request=Request(path="/"),
                      response=Response(status=200, headers=[("Set-Cookie", "s=1")]))
    mask(cookie)
    assert cookie.response.headers[0][1] != "s=1"


class _Program:
    def __init__(self) -> None:
        self.counts = (0, 0)

    def lost(self) -> tuple[int, int]:
        return self.counts


def _event(fd: int, gen: int, lost: int = 0) -> Event:
    return Event(Kind.DATA, 1, gen, 100, 101, fd, len(REQ), lost, Dir.EGRESS, FLAGS, 0, REQ)


def test_totals_name_the_connection_that_lost_data() -> None:
    program, streams = _Program(), StreamTable()
    totals = Totals(program, streams)  # type: ignore[arg-type]
    assert [type(r) for r in totals.records(0)] == [Stats]
    streams.handle(_event(5, 1))
    streams.handle(_event(6, 2, lost=300))  # fd 6's earlier events were dropped
    streams.handle(_event(5, 1))
    program.counts = (2, 300)
    lost, stats = totals.records(pending=1)
    assert lost == Lost(2, 100, 6)
    assert stats.lost == 2 and stats.lost_bytes == 300 and stats.pending == 1
    assert stats.per_connection == {"pid 100 fd 6": 300}
    assert [type(r) for r in totals.records(0)] == [Stats]  # no new loss, no Lost
    program.counts = (3, 310)
    lost, _ = totals.records(0)
    assert lost == Lost(1, 100, 5)  # nobody reported bytes: the connection active last


def test_lost_bytes_and_per_connection_cross_the_helper_protocol() -> None:
    rec = Stats(events=3, lost=1, lost_bytes=300, per_connection={"pid 1 fd 6": 300})
    assert from_json(to_json(rec)) == rec
    assert from_json(to_json(Lost(2, 1, 6))) == Lost(2, 1, 6)
