"""Protocol sniffing and the message-start test used for resynchronisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httptap.protocols.base import Direction
from httptap.protocols.sniff import (
    H2_PREFACE,
    METHODS,
    Sniff,
    looks_like_message_start,
    message_start,
    sniff,
)

Q = Direction.REQUEST
R = Direction.RESPONSE

SETTINGS = b"\x00\x00\x12\x04\x00\x00\x00\x00\x00" + b"\x00\x03\x00\x00\x00\x64" * 3
SETTINGS_EMPTY = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
REDIS = b"*1\r\n$4\r\nPING\r\n"
POSTGRES_SSL = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"
POSTGRES_STARTUP = b"\x00\x00\x00\x29\x00\x03\x00\x00user\x00postgres\x00database\x00db\x00\x00"
MYSQL_GREETING = b"J\x00\x00\x00\x0a8.0.36\x00"
TLS_HELLO = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Sniff.HTTP1_REQUEST),
        (b"POST /x?y=1 HTTP/1.0\r\n", Sniff.HTTP1_REQUEST),
        (b"M-SEARCH * HTTP/1.1\r\n", Sniff.HTTP1_REQUEST),
        (b"PROPFIND /dav HTTP/1.1\r\n", Sniff.HTTP1_REQUEST),
        (b"GET / HTTP/1.1\n", Sniff.HTTP1_REQUEST),
        (b"HTTP/1.1 200 OK\r\n", Sniff.HTTP1_RESPONSE),
        (b"HTTP/1.0 404 Not Found\r\n", Sniff.HTTP1_RESPONSE),
        (b"HTTP/1.1 204\r\n\r\n", Sniff.HTTP1_RESPONSE),
        (H2_PREFACE, Sniff.H2_PREFACE),
        (H2_PREFACE + SETTINGS, Sniff.H2_PREFACE),
        (SETTINGS, Sniff.H2_FRAMES),
        (SETTINGS_EMPTY, Sniff.H2_FRAMES),
        (TLS_HELLO, Sniff.TLS),
        (b"\x17\x03\x03\x00\x20", Sniff.TLS),
        (b"\x15\x03\x03\x00\x02\x02\x28", Sniff.TLS),
        (b"\x14\x03\x00\x00\x01\x01", Sniff.TLS),
        (REDIS, Sniff.UNKNOWN),
        (b"GET mykey\r\n", Sniff.UNKNOWN),  # Redis inline command, not HTTP
        (POSTGRES_SSL, Sniff.UNKNOWN),
        (POSTGRES_STARTUP, Sniff.UNKNOWN),
        (MYSQL_GREETING, Sniff.UNKNOWN),
        (b"SSH-2.0-OpenSSH_9.6\r\n", Sniff.UNKNOWN),
        (b"get / HTTP/1.1\r\n", Sniff.UNKNOWN),  # methods are case-sensitive
        (b"FOO / HTTP/1.1\r\n", Sniff.UNKNOWN),
        (b"GET / HTTP/2.0\r\n", Sniff.UNKNOWN),
        (b"GET  / HTTP/1.1\r\n", Sniff.UNKNOWN),
        (b"HTTP/2 200\r\n", Sniff.UNKNOWN),
        (b"HTTP/1.1 20x OK\r\n", Sniff.UNKNOWN),
        (b"\x16\x02\x01", Sniff.UNKNOWN),
        (b"\x16\x03\x09", Sniff.UNKNOWN),
        (b"\x00\x00\x07\x04\x00\x00\x00\x00\x00", Sniff.UNKNOWN),  # length not a multiple of 6
        (b"\x00\x00\x06\x01\x04\x00\x00\x00\x01", Sniff.UNKNOWN),  # HEADERS first: no
        (b"\x00\x00\x06\x04\x00\x00\x00\x00\x01", Sniff.UNKNOWN),  # SETTINGS on stream 1
        (b"\x00\x00\x06\x04\x01\x00\x00\x00\x00", Sniff.UNKNOWN),  # ACK with a payload
        (b"\x00\x50\x00\x04\x00\x00\x00\x00\x00", Sniff.UNKNOWN),  # > 16384
        (b"\xff\xfe garbage", Sniff.UNKNOWN),
    ],
)
def test_classes(data: bytes, expected: Sniff) -> None:
    assert sniff(data) is expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", Sniff.NEED_MORE),
        (b"G", Sniff.NEED_MORE),
        (b"GE", Sniff.NEED_MORE),
        (b"GET", Sniff.NEED_MORE),
        (b"GET ", Sniff.NEED_MORE),
        (b"GET /index.html", Sniff.NEED_MORE),
        (b"GET /index.html HTTP/1.", Sniff.NEED_MORE),
        (b"GET /index.html HTTP/1.1\r", Sniff.NEED_MORE),
        (b"H", Sniff.NEED_MORE),
        (b"HTTP/1.1 2", Sniff.NEED_MORE),
        (b"HTTP/1.1 200", Sniff.NEED_MORE),
        (b"P", Sniff.NEED_MORE),  # POST, PUT, PATCH or the preface
        (b"PR", Sniff.NEED_MORE),  # PROPFIND or the preface
        (b"PRI", Sniff.H2_PREFACE),
        (b"PRI * HTTP/2.0\r\n", Sniff.H2_PREFACE),
        (b"\x16", Sniff.NEED_MORE),
        (b"\x16\x03", Sniff.NEED_MORE),
        (b"\x00", Sniff.NEED_MORE),
        (b"\x00\x00\x12\x04", Sniff.NEED_MORE),
        (b"\x00\x00\x12\x04\x00\x00\x00\x00", Sniff.NEED_MORE),
    ],
)
def test_short_prefixes(data: bytes, expected: Sniff) -> None:
    assert sniff(data) is expected


@pytest.mark.parametrize(
    "full",
    [
        b"GET /x HTTP/1.1\r\n",
        b"HTTP/1.1 200 OK\r\n",
        H2_PREFACE,
        SETTINGS,
        TLS_HELLO,
    ],
)
def test_every_prefix_is_need_more_or_the_answer(full: bytes) -> None:
    answer = sniff(full)
    for i in range(len(full)):
        assert sniff(full[:i]) in (Sniff.NEED_MORE, answer), full[:i]


def test_every_method_is_a_request() -> None:
    for m in METHODS:
        assert sniff(m + b" / HTTP/1.1\r\n") is Sniff.HTTP1_REQUEST, m


def test_long_request_line_is_decided() -> None:
    data = b"GET /" + b"a" * 20000
    assert sniff(data) is Sniff.HTTP1_REQUEST
    assert sniff(b"GET /" + b"a" * 2000) is Sniff.NEED_MORE


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_total_on_random_bytes(data: bytes) -> None:
    assert isinstance(sniff(data), Sniff)
    for d in (Q, R):
        assert message_start(d, data) in (True, False, None)


@pytest.mark.parametrize(
    ("direction", "data", "expected"),
    [
        (Q, b"GET / HTTP/1.1\r\n", True),
        (Q, b"GET /partial-line-split-by-the-kernel", True),
        (Q, b"DELETE ", True),
        (Q, b"DEL", None),
        (Q, b"", None),
        (Q, b"HTTP/1.1 200 OK\r\n", False),
        (Q, b"GET key\r\n", False),
        (Q, b"ello world", False),
        (Q, REDIS, False),
        (R, b"HTTP/1.1 200 OK\r\n", True),
        (R, b"HTTP/1.0 ", True),
        (R, b"HTTP/1.", None),
        (R, b"GET / HTTP/1.1\r\n", False),
        (R, b"HTTP/1.1 OK", False),
        (R, b"<html>", False),
    ],
)
def test_message_start(direction: Direction, data: bytes, expected: bool | None) -> None:
    assert message_start(direction, data) is expected
    assert looks_like_message_start(direction, data) is (expected is True)
