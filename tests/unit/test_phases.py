"""Phases from kernel events (engine/phases.py through the dispatcher and stream table),
and their outputs: the JSON-lines object, HAR timings, filter fields, the waterfall."""

from __future__ import annotations

import json
import socket
import struct

import pytest

from httptap import contract
from httptap.capture.events import TLS_GEN_BIT, Dir, Event, Kind, SockFlag, encode
from httptap.engine.api import CaptureOptions
from httptap.engine.inprocess import InProcessCapture
from httptap.export.har import exchange_to_har_entry, load_har
from httptap.filter import compile_filter
from httptap.model import Exchange, Phases, Timings
from httptap.present.waterfall import phase_columns, waterfall, waterfall_lines
from httptap.records import Completed
from tests.unit.test_contract_json import check
from tests.unit.test_har import assert_valid_har

PID, TID, FD, GEN = 4242, 4243, 7, 1000
MS = 1_000_000
CLIENT = SockFlag.CLIENT | SockFlag.SEEN
REQ = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CLIENT_HELLO = b"\x16\x03\x01\x00\x05hello"


class _Switch:
    def disable_socket(self, pid: int, fd: int, gen: int) -> bool:
        return True


def _ev(kind: Kind, ts: float, *, data: bytes = b"", gen: int = GEN, fd: int = FD,
        direction: Dir | None = None, flags: SockFlag = CLIENT, aux: int = 0,
        size: int | None = None) -> bytes:
    n = len(data) if size is None else size
    return encode(Event(kind, int(ts * MS), gen, PID, TID, fd, n, 0, direction, flags, aux,
                        data))


def _lookup(name: str, start: float, end: float, *addrs: str) -> bytes:
    slots = b""
    for addr in addrs:
        if ":" in addr:
            slots += struct.pack("<HH", socket.AF_INET6, 0) + socket.inet_pton(socket.AF_INET6,
                                                                                addr)
        else:
            slots += struct.pack("<HH", socket.AF_INET, 0) + socket.inet_aton(addr) + bytes(12)
    data = name.encode().ljust(96, b"\0") + slots.ljust(160, b"\0")
    return _ev(Kind.DNS, start, data=data, fd=-1, aux=len(addrs), size=int(end * MS),
               flags=SockFlag(0))


def _sockaddr(ip: str, port: int) -> bytes:
    return (struct.pack("<H", socket.AF_INET) + struct.pack(">H", port)
            + socket.inet_aton(ip)).ljust(28, b"\0")


def _errno(n: int) -> int:
    return (-n) & 0xFFFFFFFF


def _exchange(ts: float, *, gen: int = GEN | TLS_GEN_BIT, flags: SockFlag = CLIENT) -> list[bytes]:
    return [_ev(Kind.DATA, ts, data=REQ, gen=gen, direction=Dir.EGRESS, flags=flags),
            _ev(Kind.DATA, ts + 120, data=RESP, gen=gen, direction=Dir.INGRESS, flags=flags)]


def _run(events: list[bytes]) -> list[Exchange]:
    cap = InProcessCapture.offline(CaptureOptions(), _Switch())
    out = cap.drain(events)
    return [r.exchange for r in out if isinstance(r, Completed)]


def _tls_client(lookup_end: float = 151.0, address: str = "127.0.0.1") -> list[bytes]:
    """A lookup, a non-blocking connect confirmed by getsockopt, a TLS handshake, two
    exchanges on the connection."""
    tls = SockFlag.CLIENT | SockFlag.SEEN | SockFlag.TLS
    return [
        _lookup("api.example.test", 1.0, lookup_end, "10.9.9.9", address, "::1"),
        _ev(Kind.CONNECT, 152.0, data=_sockaddr("127.0.0.1", 8443)),
        _ev(Kind.CONNECT_DONE, 152.01, aux=_errno(115)),  # EINPROGRESS
        _ev(Kind.CONNECT_DONE, 152.2),  # getsockopt(SO_ERROR) once writable
        _ev(Kind.DATA, 153.0, data=CLIENT_HELLO, direction=Dir.EGRESS),
        *_exchange(256.0, flags=tls),
        *_exchange(500.0, flags=tls),
    ]


def test_new_tls_connection_then_reused() -> None:
    first, second = _run(_tls_client())
    assert first.phases == Phases(dns=150.0, connect=pytest.approx(0.2),
                                  tls=pytest.approx(103.8), send=0.0, wait=120.0, receive=0.0)
    assert second.setup is None
    assert (second.phases.dns, second.phases.connect, second.phases.tls) == (None,) * 3
    assert second.phases.wait == 120.0
    # the name looked up fills the host of a request that named only an address
    assert first.connection.hostname == "api.example.test"
    assert first.host == "api.example.test:8443"
    assert first.url == "https://api.example.test:8443/a"


def test_same_events_fed_one_at_a_time_give_the_same_phases() -> None:
    cap = InProcessCapture.offline(CaptureOptions(), _Switch())
    got = [r.exchange for raw in _tls_client() for r in cap.drain([raw])
           if isinstance(r, Completed)]
    assert [ex.phases for ex in got] == [ex.phases for ex in _run(_tls_client())]


def test_lookup_of_another_address_or_too_old_is_not_tied() -> None:
    (ex, _) = _run(_tls_client(address="127.0.0.2"))
    assert ex.phases.dns is None and ex.connection.hostname == ""
    events = _tls_client()
    events[0] = _lookup("old.test", 1.0, 2.0, "127.0.0.1")
    events[1:] = [_ev(e.kind, e.ts_ns / MS + 20_000, data=e.data, gen=e.gen,
                      direction=e.direction, flags=e.flags, aux=e.aux)
                  for e in map(_decode, events[1:])]
    (ex, _) = _run(events)
    assert ex.phases.dns is None  # 20 s after the lookup
    assert ex.phases.connect == pytest.approx(0.2)


def _decode(raw: bytes) -> Event:
    from httptap.capture.events import decode

    return decode(raw)


def test_one_lookup_serves_one_connection() -> None:
    events = [
        _lookup("a.test", 0.0, 10.0, "127.0.0.1"),
        _ev(Kind.CONNECT, 11.0, data=_sockaddr("127.0.0.1", 80)),
        _ev(Kind.CONNECT_DONE, 11.5),
        *_exchange(12.0, gen=GEN),
        _ev(Kind.CLOSE, 200.0),
        _ev(Kind.CONNECT, 201.0, data=_sockaddr("127.0.0.1", 80), gen=GEN + 1),
        _ev(Kind.CONNECT_DONE, 201.25, gen=GEN + 1),
        *_exchange(202.0, gen=GEN + 1),
    ]
    first, second = _run(events)
    assert first.phases.dns == 10.0 and first.phases.connect == 0.5
    assert first.phases.tls is None  # plaintext: no handshake
    assert second.phases.dns is None and second.phases.connect == 0.25


def test_blocking_connect_ends_at_its_return_and_a_refused_one_never_ends() -> None:
    events = [_ev(Kind.CONNECT, 1.0, data=_sockaddr("127.0.0.1", 80)),
              _ev(Kind.CONNECT_DONE, 1.75), *_exchange(3.0, gen=GEN)]
    assert _run(events)[0].phases.connect == 0.75
    events[1] = _ev(Kind.CONNECT_DONE, 1.75, aux=_errno(111))  # ECONNREFUSED
    assert _run(events)[0].phases.connect is None


def test_in_progress_connect_without_getsockopt_ends_at_the_first_write() -> None:
    events = [_ev(Kind.CONNECT, 1.0, data=_sockaddr("127.0.0.1", 80)),
              _ev(Kind.CONNECT_DONE, 1.01, aux=_errno(115)), *_exchange(4.0, gen=GEN)]
    assert _run(events)[0].phases.connect == 3.0


def test_server_side_sees_its_handshake_not_the_client_lookup_or_connect() -> None:
    server = SockFlag.SERVER | SockFlag.SEEN
    tls = server | SockFlag.TLS
    events = [
        _ev(Kind.ACCEPT, 1.0, data=_sockaddr("127.0.0.1", 50000), flags=server),
        _ev(Kind.DATA, 2.0, data=CLIENT_HELLO, direction=Dir.INGRESS, flags=server),
        _ev(Kind.DATA, 9.0, data=REQ, gen=GEN | TLS_GEN_BIT, direction=Dir.INGRESS, flags=tls),
        _ev(Kind.DATA, 10.0, data=RESP, gen=GEN | TLS_GEN_BIT, direction=Dir.EGRESS, flags=tls),
    ]
    (ex,) = _run(events)
    assert (ex.phases.dns, ex.phases.connect, ex.phases.tls) == (None, None, 7.0)


def test_connection_open_before_attach_has_no_setup() -> None:
    (ex,) = _run(_exchange(1.0, gen=GEN, flags=CLIENT | SockFlag.PREEXISTING))
    assert ex.setup is None and ex.phases.wait == 120.0


# -- outputs --------------------------------------------------------------------------------

def _sample() -> Exchange:
    first, _ = _run(_tls_client())
    first.wall_start = 1_700_000_000.0
    return first


def test_jsonl_phases_object_and_round_trip() -> None:
    ex = _sample()
    d = json.loads(contract.to_json(ex))
    assert d["phases"] == {"dns": 150.0, "connect": 0.2, "tls": 103.8, "send": 0.0,
                           "wait": 120.0, "receive": 0.0}
    assert d["hostname"] == "api.example.test"
    check(ex)  # to_json is to_dict, encoded
    back = contract.from_dict(d)
    assert back.phases == ex.phases and back.connection.hostname == "api.example.test"
    reused = contract.from_dict(json.loads(contract.to_json(_run(_tls_client())[1])))
    # a reused connection: no set-up phases, still the connection's name
    assert reused.setup is None and reused.connection.hostname == "api.example.test"
    plain = contract.to_dict(_run(_exchange(1.0, gen=GEN))[0])
    assert "hostname" not in plain and plain["phases"]["dns"] is None


def test_har_timings_follow_har_semantics_and_stay_valid(tmp_path) -> None:
    first, second = _run(_tls_client())
    for ex in (first, second):
        ex.wall_start = 1_700_000_000.0
    entries = [exchange_to_har_entry(ex) for ex in (first, second)]
    t = entries[0]["timings"]
    assert (t["dns"], t["connect"], t["ssl"]) == (150.0, 104.0, 103.8)  # connect includes ssl
    assert entries[1]["timings"]["dns"] == -1 and entries[1]["timings"]["ssl"] == -1
    assert entries[1]["timings"]["connect"] == -1
    # the entry starts at the lookup: before the request by dns + connect
    assert entries[0]["startedDateTime"] < entries[1]["startedDateTime"]
    doc = {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                   "entries": entries}}
    assert_valid_har(doc)
    path = tmp_path / "p.har"
    path.write_text(json.dumps(doc))
    loaded = load_har(path)
    assert loaded[0].phases == first.phases and loaded[1].setup is None


def test_foreign_har_timings_give_setup_phases(tmp_path) -> None:
    from httptap.export.har.timings import setup_from_har

    assert setup_from_har({"dns": 5, "connect": 30, "ssl": 20}) == Phases(5.0, 10.0, 20.0)
    assert setup_from_har({"dns": -1, "connect": -1, "ssl": -1}) is None


@pytest.mark.parametrize(("text", "first", "second"), [
    ("phase.dns>50ms", True, False),
    ("phase.dns<50ms", False, False),  # a reused connection has no dns to compare
    ("phase.tls>100ms", True, False),
    ("phase.connect<1ms", True, False),
    ("phase.wait>=120ms and phase.send<1ms", True, True),
    ("not phase.tls>0", False, True),
])
def test_filter_phase_fields(text: str, first: bool, second: bool) -> None:
    a, b = _run(_tls_client())
    f = compile_filter(text)
    assert (f.matches(a), f.matches(b)) == (first, second)


def test_waterfall_bars_follow_each_other_on_one_axis() -> None:
    ex = Exchange(timings=Timings(0, MS, 121 * MS, 272 * MS),
                  setup=Phases(dns=150.0, connect=None, tls=100.0))
    bars = waterfall(ex.phases)
    assert [b.name for b in bars] == ["dns", "connect", "tls", "send", "wait", "receive"]
    assert [b.start_ms for b in bars] == [0.0, 150.0, 150.0, 250.0, 251.0, 371.0]
    lines = waterfall_lines(ex, width=40, skip_missing=True)
    assert [ln.split()[0] for ln in lines] == ["DNS", "SSL/TLS", "Request", "Waiting",
                                               "Content"]
    leads = [len(ln) - len(ln.lstrip("█ ")) for ln in lines]  # the label and duration
    bar_starts = [ln.index("█") - lead for ln, lead in zip(lines, leads, strict=True)]
    assert bar_starts == sorted(bar_starts)  # each bar starts where the one before ended
    assert lines[-1].endswith("█") and len(lines[-1]) == len(lines[0].split("█")[0]) + 40
    assert phase_columns(ex)["dns_ms"] == 150.0 and phase_columns(ex)["connect_ms"] is None


def test_every_front_end_shows_the_waterfall() -> None:
    from httptap.ipython_ext.detail import ExchangeDetail
    from httptap.ipython_ext.frame import exchange_rows

    from httptap.ui.detail_text import connection_text, timing_text

    ex = _sample()
    tui = timing_text(ex).plain
    assert "DNS lookup" in tui and "SSL/TLS" in tui and "█" in tui
    assert "api.example.test" in connection_text(ex).plain
    reused = _run(_tls_client())[1]
    assert "DNS lookup" not in timing_text(reused).plain
    text = repr(ExchangeDetail(ex))
    assert "Initial connection" in text and "Content download" in text
    assert "SSL/TLS" in ExchangeDetail(ex)._repr_html_()
    row = exchange_rows([ex])[0]
    assert (row["dns_ms"], row["tls_ms"], row["hostname"]) == (150.0, 103.8, "api.example.test")


def test_editor_hover_shows_the_last_exchange_waterfall() -> None:
    import re

    from httptap.lsp.hovers import hover_markdown
    from httptap.lsp.routes import Target
    from httptap.lsp.traffic import TargetTraffic

    target = Target(kind="url", label="https://api.example.test/a", line=0, col=0, end_line=0,
                    end_col=10, path_re=re.compile("/a"))
    text = hover_markdown([TargetTraffic(target, [_sample()])], rows=5)
    assert "DNS lookup" in text and "SSL/TLS" in text and "```" in text


def test_a_numeric_lookup_is_no_name_resolution() -> None:
    events = _tls_client()
    events.insert(1, _lookup("127.0.0.1", 151.5, 151.6, "127.0.0.1"))  # getaddrinfo("127.0.0.1")
    first, _ = _run(events)
    assert first.phases.dns == 150.0 and first.connection.hostname == "api.example.test"
