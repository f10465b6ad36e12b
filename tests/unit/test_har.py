"""HAR export: validates against the vendored har-schema, is valid after every add and after
a SIGKILL, refuses to clobber, and loads back (ours faithfully, browsers' best effort)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from referencing import Registry, Resource

from httptap import contract
from httptap.export.har import HarWriter, exchange_to_har_entry, load_har
from httptap.export.session import SessionError, load_session
from httptap.model import Exchange
from tests.unit.test_filter_samples import samples

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "data" / "har-schema"
REPO = Path(__file__).resolve().parents[2]


def _validator() -> jsonschema.Draft6Validator:
    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")}
    # Each schema's $id is "name.json#" and refers to the others relatively: register
    # every file under the URI a relative "$ref": "x.json#" resolves to.
    registry = Registry().with_resources(
        (name, Resource.from_contents(schema)) for name, schema in schemas.items()
    )
    checker = jsonschema.FormatChecker()  # ipv4, ipv6, ... as installed

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc) and " " not in value

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return stamp.tzinfo is not None

    return jsonschema.Draft6Validator(
        schemas["har.json"], registry=registry, format_checker=checker
    )


VALIDATOR = _validator()


def assert_valid_har(doc: dict[str, Any]) -> None:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    for entry in doc["log"]["entries"]:
        # "min" in timings.json is not a JSON Schema keyword: check what it means here.
        assert all(v >= -1 for v in entry["timings"].values() if isinstance(v, (int, float)))
        parts = [
            entry["timings"].get(k, -1)
            for k in ("blocked", "dns", "connect", "send", "wait", "receive")
        ]
        assert entry["time"] == pytest.approx(sum(p for p in parts if p >= 0), abs=1e-3)


def test_validator_rejects_what_it_should() -> None:
    entry = exchange_to_har_entry(samples()["h1_get"])
    good = {"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [entry]}}
    assert_valid_har(good)
    for broken in (
        {**entry, "startedDateTime": "2025-11-30T12:00:00"},  # no timezone
        {**entry, "request": {**entry["request"], "url": "/no/scheme"}},
        {**entry, "serverIPAddress": "10.0.0.5:8080"},
        {**entry, "response": {**entry["response"], "status": "200"}},
    ):
        doc = {"log": {**good["log"], "entries": [broken]}}
        assert list(VALIDATOR.iter_errors(doc))


def test_export_of_every_kind_validates_and_is_valid_after_every_add(tmp_path: Path) -> None:
    path = tmp_path / "out.har"
    exchanges = list(samples().values())
    with HarWriter(path, creator_version="9.9") as writer:
        doc = json.loads(path.read_text())
        assert_valid_har(doc)
        assert doc["log"]["entries"] == []
        for n, ex in enumerate(exchanges, 1):
            writer.add(ex)
            doc = json.loads(path.read_text())  # read back between adds, before close
            assert_valid_har(doc)
            assert len(doc["log"]["entries"]) == n
        assert writer.count == len(exchanges)
    doc = json.loads(path.read_text())
    assert_valid_har(doc)
    assert doc["log"]["version"] == "1.2"
    assert doc["log"]["creator"] == {"name": "httptap", "version": "9.9"}
    assert [e["_httptap"]["id"] for e in doc["log"]["entries"]] == [ex.id for ex in exchanges]
    writer.close()  # idempotent
    with pytest.raises(ValueError):
        writer.add(exchanges[0])


def _entries() -> dict[str, dict[str, Any]]:
    return {name: exchange_to_har_entry(ex) for name, ex in samples().items()}


def test_entry_fields_http1() -> None:
    e = _entries()["h1_get"]
    assert e["startedDateTime"] == "2025-11-30T12:00:00.123456Z"
    assert e["timings"] == {
        "blocked": -1,
        "dns": -1,
        "connect": -1,
        "send": 0.2,
        "wait": 9.8,
        "receive": 2.0,
        "ssl": -1,
    }
    assert e["time"] == 12.0
    req, resp = e["request"], e["response"]
    assert req["httpVersion"] == resp["httpVersion"] == "HTTP/1.1"
    assert req["url"] == "http://api.example.com/v1/users?id=7&access_token=tok-123"
    assert req["queryString"] == [
        {"name": "id", "value": "7"},
        {"name": "access_token", "value": "tok-123"},
    ]
    assert req["bodySize"] == 0 and "postData" not in req
    assert {"name": "X-Trace", "value": "b"} in req["headers"]
    assert req["headersSize"] > 0
    assert resp["status"] == 200 and resp["statusText"] == "OK"
    assert resp["content"]["mimeType"] == "application/json"
    assert json.loads(resp["content"]["text"]) == {"users": [{"id": 7, "name": "Ann"}]}
    assert (
        resp["bodySize"] == resp["content"]["size"] == len(b'{"users": [{"id": 7, "name": "Ann"}]}')
    )
    assert resp["cookies"] == [
        {
            "name": "session",
            "value": "cookie-sekrit",
            "path": "/",
            "httpOnly": True,
            "expires": "2026-10-21T07:28:00.000000Z",
        }
    ]
    assert e["serverIPAddress"] == "10.0.0.5"
    c = e["_httptap"]
    assert (c["pid"], c["tid"], c["fd"], c["role"], c["proto"], c["tls"]) == (
        100,
        101,
        7,
        "client",
        "http/1.1",
        False,
    )
    assert (c["local"], c["remote"], c["stream_id"]) == ("127.0.0.1:51544", "10.0.0.5:8080", None)


def test_entry_fields_post_tls_ipv6_cookies_and_form() -> None:
    e = _entries()["h1_post_tls"]
    req = e["request"]
    assert req["url"].startswith("https://api.stripe.com/")
    assert req["cookies"] == [
        {"name": "sid", "value": "cookie-sid-sekrit"},
        {"name": "theme", "value": "dark"},
    ]
    assert req["postData"]["text"] == "amount=100&currency=eur"
    assert req["postData"]["params"] == [
        {"name": "amount", "value": "100"},
        {"name": "currency", "value": "eur"},
    ]
    assert e["serverIPAddress"] == "2001:db8::1"
    assert "card declined ✗" in e["response"]["content"]["text"]


def test_entry_fields_h2_truncated() -> None:
    e = _entries()["h2_big"]
    assert e["request"]["httpVersion"] == e["response"]["httpVersion"] == "h2"
    assert e["request"]["headersSize"] == -1
    content = e["response"]["content"]
    assert content["size"] == 20_000 and e["response"]["bodySize"] == 20_000
    assert len(content["text"]) == 150 and "truncated: 150 of 20000" in content["comment"]
    c = e["_httptap"]
    assert c["stream_id"] == 3 and c["response"]["body_truncated"] is True
    assert c["response"]["body_size"] == 20_000
    assert e["comment"] == "response body truncated at the body limit"


def test_entry_fields_grpc() -> None:
    e = _entries()["grpc"]
    assert e["request"]["httpVersion"] == "h2"
    assert e["request"]["postData"]["_encoding"] == "base64"
    trailers = [h for h in e["response"]["headers"] if h.get("comment") == "trailer"]
    assert trailers == [
        {"name": "grpc-status", "value": "5", "comment": "trailer"},
        {"name": "grpc-message", "value": "not found", "comment": "trailer"},
    ]
    g = e["_httptap"]["grpc"]
    assert (g["service"], g["method"], g["status"], g["message"]) == (
        "payments.Billing",
        "Charge",
        5,
        "not found",
    )
    assert base64.b64decode(g["requests"][0]["data"]) == b"\x08\x96\x01"
    assert e["_httptap"]["proto"] == "grpc"


def test_entry_fields_binary_and_gzip() -> None:
    entries = _entries()
    b = entries["binary"]
    assert b["response"]["content"]["encoding"] == "base64"
    assert base64.b64decode(b["response"]["content"]["text"]).startswith(b"\x89PNG")
    assert base64.b64decode(b["request"]["postData"]["text"]).startswith(b"\x89PNG")
    g = entries["gzip"]["response"]
    assert "needle" in g["content"]["text"] and "encoding" not in g["content"]
    assert g["content"]["size"] > g["bodySize"]
    assert g["content"]["compression"] == g["content"]["size"] - g["bodySize"]
    raw = entries["gzip"]["_httptap"]["response"]["body_raw"]
    assert base64.b64decode(raw)[:2] == b"\x1f\x8b"


@pytest.mark.parametrize("coding", ["zstd", "br", "gzip, zstd"])
def test_entry_of_a_zstd_or_br_response_has_readable_text(coding: str, tmp_path: Path) -> None:
    """The HAR export undoes every coding the detail view does (httptap.content): a zstd
    body used to be saved still encoded, readable in the UI but not in the file."""
    zstd = pytest.importorskip("zstandard").ZstdCompressor()
    brotli = pytest.importorskip("brotli")
    text = json.dumps({"items": [{"id": i, "name": f"widget {i}"} for i in range(50)]})
    data = text.encode()
    for c in [c.strip() for c in coding.split(",")]:  # applied in the order listed
        data = {"zstd": zstd.compress, "br": brotli.compress,
                "gzip": __import__("gzip").compress}[c](data)
    ex = _exchange_with_body(data, [("Content-Type", "application/json"),
                                    ("Content-Encoding", coding)])
    entry = exchange_to_har_entry(ex)
    content = entry["response"]["content"]
    assert content["text"] == text and "encoding" not in content
    assert content["size"] == len(text) and content["compression"] == len(text) - len(data)
    assert base64.b64decode(entry["_httptap"]["response"]["body_raw"]) == data
    with HarWriter(tmp_path / "z.har") as w:
        w.add(ex)
    doc = json.loads((tmp_path / "z.har").read_text())
    assert_valid_har(doc)
    [back] = load_har(tmp_path / "z.har")
    assert back.response is not None and back.response.body.data == data  # raw kept


def _exchange_with_body(data: bytes, headers: list[tuple[str, str]]) -> Exchange:
    from httptap.model import Body, Request, Response

    return Exchange(id="z1", request=Request(method="GET", authority="api", path="/items"),
                    response=Response(status=200, reason="OK", headers=headers,
                                      body=Body(data, len(data))),
                    complete=True, wall_start=1_768_470_067.0)


def test_entry_pending_and_server_role() -> None:
    entries = _entries()
    p = entries["pending"]
    assert p["response"]["status"] == 0 and "no response" in p["response"]["comment"]
    assert p["response"]["bodySize"] == -1
    assert (p["timings"]["send"], p["timings"]["wait"], p["timings"]["receive"]) == (0.5, -1, -1)
    assert p["time"] == 0.5
    assert p["_httptap"]["response"] is None and p["_httptap"]["complete"] is False
    s = entries["server"]
    assert s["_httptap"]["role"] == "server" and s["serverIPAddress"] == "0.0.0.0"
    assert s["request"]["url"] == "http://localhost:8000/health"


def test_unknown_wall_time_and_clamped_negative_timing() -> None:
    ex = samples()["h1_get"]
    ex.wall_start = None
    ex.timings.response_start = ex.timings.request_end - 1000  # answered before the end
    e = exchange_to_har_entry(ex)
    assert e["startedDateTime"] == "1970-01-01T00:00:00.000000Z"
    assert e["timings"]["wait"] == 0
    assert_valid_har(
        {"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [e]}}
    )


def test_existing_file_is_not_clobbered_without_force(tmp_path: Path) -> None:
    path = tmp_path / "keep.har"
    path.write_text("precious")
    with pytest.raises(FileExistsError, match="already exists; use --force"):
        HarWriter(path)
    assert path.read_text() == "precious"
    with HarWriter(path, force=True) as writer:
        writer.add(samples()["h1_get"])
    assert len(json.loads(path.read_text())["log"]["entries"]) == 1


def _to_dicts(exchanges: list[Exchange]) -> list[dict[str, Any]]:
    return [contract.to_dict(ex) for ex in exchanges]


def test_round_trip_is_faithful(tmp_path: Path) -> None:
    path = tmp_path / "rt.har"
    original = list(samples().values())
    with HarWriter(path) as writer:
        for ex in original:
            writer.add(ex)
    loaded = load_har(path)
    assert _to_dicts(loaded) == _to_dicts(original)
    by_id = {ex.id: ex for ex in loaded}
    assert by_id["8"].response is not None and by_id["8"].response.body.data[:2] == b"\x1f\x8b"
    assert by_id["4"].response is not None
    assert by_id["4"].response.trailers == [("grpc-status", "5"), ("grpc-message", "not found")]
    assert by_id["5"].response is None and not by_id["5"].complete
    assert load_session(path) == loaded


def test_file_is_valid_after_sigkill_between_adds(tmp_path: Path) -> None:
    path = tmp_path / "killed.har"
    child = (
        "import os, signal, sys\n"
        "from httptap.export.har import HarWriter\n"
        "from tests.unit.test_filter_samples import samples\n"
        "w = HarWriter(sys.argv[1])\n"
        "for i in range(40):\n"
        "    for ex in samples().values():\n"
        "        w.add(ex)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", child, str(path)], cwd=REPO, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    doc = json.loads(path.read_text())
    assert_valid_har(doc)
    assert len(doc["log"]["entries"]) == 40 * len(samples())


def test_file_cut_inside_an_entry_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "cut.har"
    with HarWriter(path) as writer:
        for ex in samples().values():
            writer.add(ex)
    data = path.read_bytes()
    last = data.rindex(b",\n{")
    path.write_bytes(data[: last + 40])  # a kill inside the last write, or a full disk
    loaded = load_har(path)
    assert len(loaded) == len(samples()) - 1
    assert all("cut short" in ex.notes[-1] for ex in loaded)


CHROME_HAR = {
    "log": {
        "version": "1.2",
        "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [],
        "entries": [
            {
                "_initiator": {"type": "script"},
                "_resourceType": "fetch",
                "cache": {},
                "connection": "120233",
                "request": {
                    "method": "POST",
                    "url": "https://api.example.com/v1/items?page=2",
                    "httpVersion": "h2",
                    "headers": [
                        {"name": ":method", "value": "POST"},
                        {"name": "content-type", "value": "application/json"},
                    ],
                    "queryString": [{"name": "page", "value": "2"}],
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": 9,
                    "postData": {"mimeType": "application/json", "text": '{"a": 1}\n'},
                },
                "response": {
                    "status": 201,
                    "statusText": "",
                    "httpVersion": "h2",
                    "headers": [{"name": "content-type", "value": "image/gif"}],
                    "cookies": [],
                    "content": {
                        "size": 6,
                        "mimeType": "image/gif",
                        "text": "R0lGODlh",
                        "encoding": "base64",
                    },
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": 6,
                    "_transferSize": 120,
                },
                "serverIPAddress": "2606:4700::6810:84e5",
                "startedDateTime": "2024-01-15T10:30:00.5+01:00",
                "time": 35.2,
                "timings": {
                    "blocked": 1.5,
                    "dns": -1,
                    "ssl": -1,
                    "connect": -1,
                    "send": 0.2,
                    "wait": 30.0,
                    "receive": 3.5,
                    "_blocked_queueing": 1.0,
                },
            },
            {
                "cache": {},
                "request": {
                    "method": "GET",
                    "url": "http://example.org/pending",
                    "httpVersion": "HTTP/1.1",
                    "headers": [],
                    "queryString": [],
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": 0,
                },
                "response": {
                    "status": 0,
                    "statusText": "",
                    "httpVersion": "",
                    "headers": [],
                    "cookies": [],
                    "content": {"size": 0, "mimeType": "x-unknown"},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": -1,
                    "_error": "net::ERR_ABORTED",
                },
                "startedDateTime": "2024-01-15T09:30:01.000Z",
                "time": 0,
                "timings": {
                    "blocked": -1,
                    "dns": -1,
                    "connect": -1,
                    "send": 0,
                    "wait": -1,
                    "receive": -1,
                },
            },
        ],
    }
}


def test_foreign_har_loads_best_effort(tmp_path: Path) -> None:
    path = tmp_path / "chrome.har"
    path.write_text(json.dumps(CHROME_HAR))
    assert_valid_har(CHROME_HAR)
    first, second = load_har(path)
    assert first.request.method == "POST" and first.url == "https://api.example.com/v1/items?page=2"
    assert first.request.path == "/v1/items?page=2" and first.host == "api.example.com"
    assert first.connection.tls and first.proto.value == "h2"
    assert first.connection.remote == "[2606:4700::6810:84e5]:443"
    assert first.request.body.data == b'{"a": 1}\n'
    assert first.status == 201 and first.response is not None
    assert first.response.body.data == b"GIF89a"
    assert first.wall_start == pytest.approx(1705311000.5 + 0.0015)
    assert first.duration_ms == pytest.approx(33.7) and first.ttfb_ms == pytest.approx(30.2)
    assert first.complete
    assert second.response is None and not second.complete
    assert second.notes == ["net::ERR_ABORTED"]
    assert second.wall_start == pytest.approx(1705311001.0)
    assert load_session(path)[0].id == first.id


def test_load_har_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.har"
    path.write_text('{"log": {"version": "1.2"}}')
    with pytest.raises(SessionError, match=r'no "log\.entries" list'):
        load_har(path)
    path.write_text('{"log": {"entries": [{"request": {}}]}}')
    with pytest.raises(SessionError, match="entry 0"):
        load_har(path)
    path.write_text('{"log": ')
    with pytest.raises(SessionError, match=r"x\.har:1:9: not valid JSON"):
        load_har(path)
    with pytest.raises(SessionError, match="cannot read"):
        load_har(tmp_path / "missing.har")


def test_writer_accepts_exchanges_with_odd_text(tmp_path: Path) -> None:
    ex = samples()["h1_get"]
    ex.request.headers.append(("X-Raw", "caf\udce9"))  # undecodable byte kept as surrogate
    ex.request.path = "/ünïcode?q=日本"
    path = tmp_path / "odd.har"
    with HarWriter(os.fspath(path)) as writer:
        writer.add(ex)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert_valid_har(doc)
    assert doc["log"]["entries"][0]["request"]["queryString"] == [{"name": "q", "value": "日本"}]
