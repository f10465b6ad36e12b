"""Sample exchanges shared by the filter, secrets, HAR and JSON-lines tests.

One of each kind the engine produces: HTTP/1.1 (plain and TLS), h2, gRPC, pending, server
role, binary, gzip'd and truncated bodies. Built with the model only, no capture.
"""

from __future__ import annotations

import gzip
import json

from httptap import contract
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

T0 = 1_000_000_000_000  # monotonic ns
WALL = 1_764_504_000.123456  # 2025-11-30T12:00:00.123456Z


def _timings(send_ms: float, ttfb_ms: float | None, total_ms: float | None) -> Timings:
    def at(ms: float | None) -> int | None:
        return None if ms is None else T0 + round(ms * 1e6)

    return Timings(T0, at(send_ms), at(ttfb_ms), at(total_ms))


def _body(data: bytes, size: int | None = None) -> Body:
    size = len(data) if size is None else size
    return Body(data, size, size > len(data))


def samples() -> dict[str, Exchange]:
    """Fresh sample exchanges by name (each call builds new objects)."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    gz = gzip.compress(json.dumps({"items": [0] * 100, "hint": "needle in a haystack"}).encode())
    out = {
        "h1_get": Exchange(
            id="1",
            connection=Connection(100, 101, 7, "127.0.0.1:51544", "10.0.0.5:8080", Role.CLIENT),
            request=Request(
                "GET", "http", "api.example.com", "/v1/users?id=7&access_token=tok-123", "1.1",
                [("Host", "api.example.com"), ("Authorization", "Bearer sekrit-bearer"),
                 ("Accept", "application/json"), ("X-Trace", "a"), ("X-Trace", "b")],
            ),
            response=Response(
                200, "OK", "1.1",
                [("Content-Type", "application/json"),
                 ("Set-Cookie", "session=cookie-sekrit; Path=/; HttpOnly; "
                                "Expires=Wed, 21 Oct 2026 07:28:00 GMT")],
                _body(b'{"users": [{"id": 7, "name": "Ann"}]}'),
            ),
            timings=_timings(0.2, 10.0, 12.0),
            complete=True,
            wall_start=WALL,
        ),
        "h1_post_tls": Exchange(
            id="2",
            connection=Connection(100, 102, 8, "10.0.0.2:40000", "[2001:db8::1]:443",
                                  Role.CLIENT, tls=True),
            request=Request(
                "POST", "https", "api.stripe.com", "/v1/charges", "1.1",
                [("Host", "api.stripe.com"), ("Content-Type", "application/x-www-form-urlencoded"),
                 ("Cookie", "sid=cookie-sid-sekrit; theme=dark"), ("X-Api-Key", "key-sekrit")],
                _body(b"amount=100&currency=eur"),
            ),
            response=Response(
                402, "Payment Required", "1.1",
                [("Content-Type", "application/json; charset=utf-8")],
                _body('{"error": {"message": "card declined ✗"}}'.encode()),
            ),
            timings=_timings(1.0, 240.0, 250.0),
            complete=True,
            wall_start=WALL + 1,
        ),
        "h2_big": Exchange(
            id="3",
            connection=Connection(200, 201, 9, "10.0.0.2:40001", "151.101.1.1:443", Role.CLIENT,
                                  tls=True, protocol=Proto.H2),
            request=Request("GET", "https", "cdn.example.org", "/static/app.js", "2",
                            [(":method", "GET"), (":path", "/static/app.js"),
                             ("user-agent", "curl/8.5")]),
            response=Response(200, "", "2", [("content-type", "application/javascript")],
                              _body(b"console.log(1);" * 10, 20_000)),
            stream_id=3,
            timings=_timings(0.1, 900.0, 1500.0),
            notes=["response body truncated at the body limit"],
            complete=True,
            wall_start=WALL + 2,
        ),
        "grpc": Exchange(
            id="4",
            connection=Connection(200, 202, 10, "127.0.0.1:40002", "127.0.0.1:50051",
                                  Role.CLIENT, protocol=Proto.H2),
            request=Request(
                "POST", "http", "127.0.0.1:50051", "/payments.Billing/Charge", "2",
                [("content-type", "application/grpc"), ("te", "trailers"),
                 ("authorization", "Bearer grpc-sekrit")],
                _body(b"\x00\x00\x00\x00\x03\x08\x96\x01"),
            ),
            response=Response(
                200, "", "2", [("content-type", "application/grpc")],
                _body(b"\x00\x00\x00\x00\x00"),
                trailers=[("grpc-status", "5"), ("grpc-message", "not found")],
            ),
            stream_id=1,
            grpc=GrpcCall("payments.Billing", "Charge", 5, "not found",
                          [GrpcMessage(3, False, b"\x08\x96\x01")],
                          [GrpcMessage(0, False, b"")]),
            timings=_timings(0.3, 3.0, 3.5),
            complete=True,
            wall_start=WALL + 3,
        ),
        "pending": Exchange(
            id="5",
            connection=Connection(300, 301, 11, "127.0.0.1:40003", "127.0.0.1:9000", Role.CLIENT),
            request=Request("POST", "http", "127.0.0.1:9000", "/slow?password=pw-sekrit", "1.1",
                            [("Host", "127.0.0.1:9000"), ("Content-Type", "application/json"),
                             ("X-Upstream-Token", "upstream-sekrit")],
                            _body(b'{"q": "error budget"}')),
            response=None,
            timings=_timings(0.5, None, None),
            notes=["no response: target exited"],
            complete=False,
            wall_start=WALL + 4,
        ),
        "server": Exchange(
            id="6",
            connection=Connection(400, 400, 5, "0.0.0.0:8000", "127.0.0.1:55555", Role.SERVER),
            request=Request("GET", "http", "", "/health", "1.1",
                            [("Host", "localhost:8000"),
                             ("Proxy-Authorization", "Basic cHJveHk=")]),
            response=Response(204, "No Content", "1.1", [("Server", "demo")]),
            timings=_timings(0.05, 0.4, 0.5),
            complete=True,
            wall_start=WALL + 5,
        ),
        "binary": Exchange(
            id="7",
            connection=Connection(100, 101, 7, "127.0.0.1:51544", "10.0.0.5:8080", Role.CLIENT),
            request=Request("PUT", "http", "api.example.com", "/img/logo.png", "1.1",
                            [("Host", "api.example.com"), ("Content-Type", "image/png")],
                            _body(png)),
            response=Response(200, "OK", "1.1", [("Content-Type", "image/png")], _body(png)),
            timings=_timings(2.0, 30.0, 31.0),
            complete=True,
            wall_start=WALL + 6,
        ),
        "gzip": Exchange(
            id="8",
            connection=Connection(100, 103, 12, "127.0.0.1:51545", "10.0.0.5:8080", Role.CLIENT),
            request=Request("GET", "http", "api.example.com", "/search?q=hay", "1.1",
                            [("Host", "api.example.com"), ("Accept-Encoding", "gzip")]),
            response=Response(200, "OK", "1.1", [("Content-Type", "application/json"),
                                                 ("Content-Encoding", "gzip")], _body(gz)),
            timings=_timings(0.1, 5.0, 6.0),
            complete=True,
            wall_start=WALL + 7,
        ),
    }  # fmt: skip
    return out


#: Secret values planted in the samples; none may survive masking.
SECRETS = (
    "sekrit-bearer",
    "tok-123",
    "cookie-sekrit",
    "cookie-sid-sekrit",
    "key-sekrit",
    "grpc-sekrit",
    "pw-sekrit",
    "upstream-sekrit",
    "cHJveHk=",
)


def test_samples_are_distinct_and_serialisable() -> None:
    s = samples()
    assert len({ex.id for ex in s.values()}) == len(s)
    for ex in s.values():
        assert contract.from_dict(contract.to_dict(ex)).id == ex.id
    assert s["grpc"].proto is Proto.GRPC
    assert s["pending"].status is None
    assert s["h2_big"].response is not None and s["h2_big"].response.body.truncated
