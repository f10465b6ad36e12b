"""``contract.to_json``, the fast twin of ``to_dict`` + the JSON encoder ``httptap --jsonl``
used: the same text, character for character, for every Exchange; and its helpers (``_iso``
with its cached second, ``_ms`` with its cache by microsecond) against their definitions."""

from __future__ import annotations

import datetime as dt
import io
import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from httptap import contract
from httptap.cli.main import Environment, main
from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    GrpcMessage,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)
from tests.unit.test_filter_samples import samples

_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def reference(ex: Exchange) -> str:
    return _JSON.encode(contract.to_dict(ex))


def check(ex: Exchange) -> None:
    text = contract.to_json(ex)
    assert text == reference(ex)
    assert json.loads(text) == contract.to_dict(ex)


# -- strategies ------------------------------------------------------------------------------

# what the encoder escapes or must pass through raw (ensure_ascii=False): quotes, backslashes,
# control characters, DEL, C1 controls, U+2028, lone surrogates, astral characters, escape
# look-alikes
ODD = ['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f", "\x80", "é",
       "\u2028", "\u2029", "\udcff", "\ud800", "\U0001f600", "\\u0000", "\\n", "/", " "]
# text that needs no escaping (to_json's fast path), though not always ASCII or valid UTF-16
RAW = ["\x7f", "\x80", "\x9f", "é", "\u2028", "\udcff", "\ud800", "\U0001f600", "/", " "]
COMMON = ["", "GET", "POST", "127.0.0.1:8080", "[::1]:443", "api.example.com", "/", "/v1/x?y=1",
          "Host", "Content-Type", "application/json", "keep-alive", "1.1", "2", "OK"]
raw_text = st.one_of(
    st.sampled_from(COMMON),
    st.lists(st.one_of(st.characters(exclude_categories=("Cc",), exclude_characters='"\\'),
                       st.sampled_from(RAW)), max_size=8).map("".join),
)
any_text = st.one_of(
    raw_text,
    st.lists(st.one_of(st.characters(exclude_categories=()), st.sampled_from(ODD)),
             max_size=8).map("".join),
)
sizes = st.one_of(st.integers(0, 100), st.sampled_from([2**31, 2**63, 2**64 - 1]))
bodies = st.builds(
    Body,
    data=st.one_of(st.just(b""), any_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
                   st.binary(max_size=24)),
    size=sizes,
    truncated=st.booleans(),
)
# nanosecond offsets from request_start: ties on the half microsecond and either side of one,
# negatives (response_end before request_start), the cache bound and beyond, huge values
offsets = st.one_of(
    st.integers(-10**7, 10**9),
    st.integers(-10**9, 10**9).map(lambda us: us * 1000 + 500),
    st.integers(-10**9, 10**9).flatmap(lambda us: st.sampled_from([us * 1000 + 499,
                                                                   us * 1000 + 501])),
    st.sampled_from([0, -1, -499, -500, -501, 10**15 - 1, 10**15, 10**15 + 500, 2**53 + 1,
                     10**19, 2**64, -(2**63)]),
)
walls = st.one_of(
    st.none(),
    st.floats(-2e9, 2.5e11),
    # 2**-7 s is 7812.5 µs exactly: a true tie, rounded half-even (as 3 * 2**-7 s is 23437.5)
    st.sampled_from([1764474374.9999996, 0.0000005, 0.0000015, 0.0000025, 1764474374.844886,
                     0.0, -0.0, 1.9999995, -1.5e-6, -0.4999995, 1e9 + 0.5e-6,
                     1764474374 + 2**-7, 1764474374 + 3 * 2**-7, -(2**-7), 2**-27]),
    st.integers(0, 4_000_000_000).flatmap(
        lambda s: st.integers(0, 999_999).map(lambda us: s + (us + 0.5) / 1e6)),
)


@st.composite
def timings(draw: st.DrawFn) -> Timings:
    start = draw(st.one_of(st.none(), st.integers(0, 2**63)))
    base = start or 0

    def at() -> int | None:
        return draw(st.one_of(st.none(), offsets.map(lambda o: base + o)))

    request_end = at()
    response_start = at()
    # often the same instant as response_start (a response in one write)
    response_end = response_start if draw(st.booleans()) else at()
    return Timings(start, request_end, response_start, response_end)


grpc_messages = st.lists(st.builds(GrpcMessage, size=sizes, compressed=st.booleans(),
                                   data=st.binary(max_size=12), truncated=st.booleans()),
                         max_size=3)


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    # about half the exchanges have no string to escape outside bodies, notes and gRPC
    text = draw(st.sampled_from([raw_text, any_text]))
    headers = st.lists(st.tuples(text, text), max_size=4)
    response = None
    if draw(st.booleans()):
        response = Response(
            status=draw(st.one_of(st.none(), st.sampled_from([100, 200, 204, 404, 500]),
                                  st.integers(0, 2**70))),
            reason=draw(text),
            http_version=draw(text),
            headers=draw(headers),
            body=draw(bodies),
            trailers=draw(headers),
        )
    grpc = None
    if draw(st.booleans()):
        grpc = GrpcCall(
            service=draw(text), method=draw(text),
            status=draw(st.one_of(st.none(), st.integers(0, 16))), message=draw(text),
            requests=draw(grpc_messages), responses=draw(grpc_messages),
        )
    return Exchange(
        id=draw(st.one_of(st.sampled_from(["1", "42"]), text)),
        connection=Connection(
            pid=draw(st.integers(0, 2**32)),
            tid=draw(st.integers(0, 2**32)),
            fd=draw(st.sampled_from([-1, 0, 17, 2**31 - 1])),
            local=draw(text),
            remote=draw(text),
            role=draw(st.sampled_from(list(Role))),
            tls=draw(st.booleans()),
            protocol=draw(st.sampled_from(list(Proto))),
        ),
        request=Request(
            method=draw(text),
            scheme=draw(st.one_of(st.sampled_from(["http", "https", ""]), text)),
            authority=draw(text),
            path=draw(st.one_of(st.sampled_from(["http://a/b", "https://c:1/"]), text)),
            http_version=draw(text),
            headers=draw(headers),
            body=draw(bodies),
            trailers=draw(st.one_of(st.just([]), headers)),
        ),
        response=response,
        timings=draw(timings()),
        stream_id=draw(st.one_of(st.none(), st.integers(0, 2**31))),
        grpc=grpc,
        notes=draw(st.lists(text, max_size=3)),
        complete=draw(st.booleans()),
        wall_start=draw(walls),
    )


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(exchanges())
def test_to_json_is_the_encoded_contract_object(ex: Exchange) -> None:
    check(ex)


def _iso_reference(epoch: float) -> str:
    stamp = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@settings(max_examples=2000, deadline=None)
@given(walls.filter(lambda w: w is not None), walls.filter(lambda w: w is not None))
@example(1764474374.9999996, 1764474374.0)
@example(0.0000005, 0.0)
@example(0.0000015, 0.0000025)
@example(-0.0000005, -1.0)
@example(1764474374.9999995, 1764474375.0000005)
@example(1764474374 + 2**-7, 1764474374 + 3 * 2**-7)
@example(1764474374 + 3 * 2**-7, 1764474374 + 2**-7)
def test_iso_matches_fromtimestamp(epoch: float, before: float) -> None:
    contract._iso(before)  # leaves its second in the cache
    assert contract._iso(epoch) == _iso_reference(epoch)


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, 10**12), st.integers(-499, 499), st.integers(-499, 499))
def test_ms_cache_holds_for_every_nanosecond_of_the_microsecond(us: int, a: int,
                                                                b: int) -> None:
    first, second = us * 1000 + a, us * 1000 + b
    for ns in (first, second):  # the second may be answered from the first's entry
        if ns >= 0:
            assert contract._ms(ns) == repr(round(ns / 1e6, 3))


@settings(max_examples=1000, deadline=None)
@given(offsets)
def test_ms_is_repr_of_rounded_milliseconds(ns: int) -> None:
    assert contract._ms(ns) == repr(round(ns / 1e6, 3))


# -- examples --------------------------------------------------------------------------------

# one nginx exchange as ``httptap --jsonl`` printed it (before to_json existed), with the
# round-2 "type"
NGINX = (
    '{"v": 1, "type": "exchange", "id": "1", "pid": 26342, "tid": 26342, "role": "server", '
    '"proto": "http/1.1", '
    '"tls": false, "local": "127.0.0.1:52215", "remote": "127.0.0.1:57788", "method": "GET", '
    '"url": "http://127.0.0.1:52215/", "host": "127.0.0.1:52215", "path": "/", '
    '"status": 200, "started": "2026-11-30T03:46:14.844886Z", "duration_ms": 0.06, '
    '"ttfb_ms": 0.06, "timings": {"request_start": 0.0, "request_end": 0.0, '
    '"response_start": 0.06, "response_end": 0.06}, "fd": 17, "stream_id": null, '
    '"complete": true, "request": {"http_version": "1.1", "headers": [["Host", '
    '"127.0.0.1:52215"], ["user-agent", "h2load nghttp2/1.52.0"]], "body": "", '
    '"body_encoding": "utf-8", "body_size": 0, "body_truncated": false}, "response": '
    '{"http_version": "1.1", "status": 200, "reason": "OK", "headers": [["Server", '
    '"nginx/1.22.1"], ["Date", "Mon, 30 Nov 2026 03:46:14 GMT"], ["Content-Type", '
    '"text/plain"], ["Content-Length", "17"], ["Connection", "keep-alive"]], "trailers": [], '
    '"body": "hello from nginx\\n", "body_encoding": "utf-8", "body_size": 17, '
    '"body_truncated": false}, "notes": []}'
)


#: the same line as printed since "phases" (additive: every key before it is unchanged)
NGINX_PHASES = NGINX.replace(
    '"fd": 17',
    '"phases": {"dns": null, "connect": null, "tls": null, "send": 0.0, "wait": 0.06, '
    '"receive": 0.0}, "fd": 17',
)


def test_real_nginx_exchange_prints_as_before() -> None:
    ex = contract.from_dict(json.loads(NGINX))
    assert contract.to_json(ex) == NGINX_PHASES
    assert json.loads(NGINX_PHASES) | json.loads(NGINX) == json.loads(NGINX_PHASES)
    check(ex)


def test_sample_exchanges() -> None:
    for ex in samples().values():
        check(ex)


def test_grpc_with_messages_and_request_trailers() -> None:
    ex = Exchange(
        id="7",
        connection=Connection(pid=1, tid=2, fd=9, local="10.0.0.1:50051", remote="10.0.0.2:4",
                              role=Role.CLIENT, tls=True, protocol=Proto.H2),
        request=Request(method="POST", scheme="https", authority="svc:50051",
                        path="/pkg.Svc/Get", http_version="2",
                        headers=[(":method", "POST"), ("content-type", "application/grpc")],
                        body=Body(b"\x00\x00\x00\x00\x02\x08\x81", 7),
                        trailers=[("x-req-trailer", "1")]),
        response=Response(status=200, http_version="2", headers=[(":status", "200")],
                          body=Body(b"\x00\x00\x00\x00\x00", 5),
                          trailers=[("grpc-status", "0"), ("grpc-message", "")]),
        timings=Timings(1_000_000, 1_000_500, 3_000_499, 4_000_501),
        stream_id=1,
        grpc=GrpcCall("pkg.Svc", "Get", 0, "", [GrpcMessage(2, False, b"\x08\x01")],
                      [GrpcMessage(0, False, b"", truncated=True)]),
        notes=["joined mid-connection"],
        complete=True,
        wall_start=1764474374.9999996,
    )
    check(ex)
    obj = json.loads(contract.to_json(ex))
    assert obj["proto"] == "grpc" and obj["request"]["trailers"] == [["x-req-trailer", "1"]]
    assert obj["request"]["body_encoding"] == "base64"
    assert obj["started"] == "2025-11-30T03:46:15.000000Z"


def test_escapes_and_raw_text() -> None:
    odd = "".join(ODD)
    ex = Exchange(
        id=odd,
        connection=Connection(local=odd, remote="\udcff"),
        request=Request(method="G\x00T", authority="h\u2028", path='/"q"\\',
                        headers=[(odd, "\t"), ("ok", "fine")], body=Body(odd.encode(
                            "utf-8", "surrogatepass"), 3, True)),
        response=Response(status=None, reason="\n", headers=[("a", "b")],
                          body=Body("é\n".encode(), 3)),
        notes=[odd, "\\u0000"],
        wall_start=None,
    )
    check(ex)
    assert "\udcff" in contract.to_json(ex)  # raw, as the encoder emits it


def test_cli_jsonl_lines_are_the_contract_text(tmp_path) -> None:
    nginx = NGINX.replace('"id": "1"', '"id": "n1"', 1)
    path = tmp_path / "s.jsonl"
    path.write_text("".join(reference(ex) + "\n" for ex in samples().values()) + nginx + "\n")
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdout_isatty=False, columns=80,
                      install_signals=False)
    assert main(["--open", str(path), "--jsonl"], env) == 0
    lines = out.getvalue().splitlines()
    assert NGINX_PHASES.replace('"id": "1"', '"id": "n1"', 1) in lines and len(lines) >= 5
    for line in lines:
        assert line == reference(contract.from_dict(json.loads(line)))
