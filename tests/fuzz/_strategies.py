"""Hypothesis strategies shared by the harnesses: byte streams that look almost like HTTP."""

from __future__ import annotations

from hypothesis import strategies as st

from httptap.protocols.base import Direction

_H1_REQUEST = [
    b"GET / HTTP/1.1\r\n", b"POST /p?q=1 HTTP/1.1\r\n", b"HEAD / HTTP/1.1\r\n",
    b"CONNECT a:443 HTTP/1.1\r\n", b"OPTIONS * HTTP/1.0\r\n", b"GET http://a/ HTTP/1.1\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"G\x00T / HTTP/1.1\r\n",
]
_H1_RESPONSE = [
    b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 101 Switching\r\n",
    b"HTTP/1.0 204 No Content\r\n", b"HTTP/1.1 304 Not Modified\r\n", b"HTTP/1.1 999 ?\r\n",
    b"HTTP/1.1 200\n",
]
_H1_FIELDS = [
    b"Host: a\r\n", b"Content-Length: 3\r\n", b"Content-Length: 0\r\n",
    b"Content-Length: 18446744073709551616\r\n", b"Content-Length: -1\r\n",
    b"Content-Length: 3, 4\r\n", b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n", b"Connection: Upgrade\r\n", b"Upgrade: h2c\r\n",
    b"Upgrade: websocket\r\n", b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n",
    b"Expect: 100-continue\r\n", b"Content-Encoding: gzip\r\n", b"Connection: close\r\n",
    b"Authorization: Bearer abc\r\n", b"X-Folded: a\r\n b\r\n", b" leading-space: x\r\n",
    b"no-colon\r\n", b"Trailer: x-t\r\n", b"\xff\xfe: \x80\r\n",
]
_H1_BODY = [
    b"\r\n", b"\n", b"abc", b"3\r\nabc\r\n", b"0\r\n\r\n", b"0\r\nx-t: 1\r\n\r\n",
    b"10000000000000000\r\n", b"ffffffffffffffffffffffff\r\n", b"5;ext=1\r\nhello\r\n",
    b"-1\r\n", b"\x16\x03\x01\x00\x05hello", b"\r\n\r\n",
]
TOKENS = _H1_REQUEST + _H1_RESPONSE + _H1_FIELDS + _H1_BODY

#: a gap may be tiny, huge, or as large as the kernel's u64 size field allows
GAP_SIZES = st.one_of(st.integers(1, 70_000), st.sampled_from([2**31, 2**32, 2**63, 2**64 - 1]))


def _blob(tokens: list[bytes]) -> st.SearchStrategy[bytes]:
    token = st.one_of(st.sampled_from(tokens), st.binary(max_size=24))
    return st.lists(token, max_size=12).map(b"".join)


def h1_ops() -> st.SearchStrategy[list[tuple[int, str, object]]]:
    """(direction, "data" | "gap", bytes | size) steps on one HTTP/1 connection."""
    data = st.tuples(st.sampled_from([0, 1]), st.just("data"), _blob(TOKENS))
    gap = st.tuples(st.sampled_from([0, 1]), st.just("gap"), GAP_SIZES)
    return st.lists(st.one_of(data, data, data, gap), max_size=16)


def mutate(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` with a few bytes flipped, inserted, deleted or the tail cut."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        buf = bytearray(data)
        for _ in range(draw(st.integers(0, 6))):
            if not buf:
                break
            i = draw(st.integers(0, len(buf) - 1))
            op = draw(st.sampled_from(["flip", "insert", "delete", "set", "cut"]))
            if op == "flip":
                buf[i] ^= 1 << draw(st.integers(0, 7))
            elif op == "insert":
                buf[i:i] = draw(st.binary(min_size=1, max_size=9))
            elif op == "delete":
                del buf[i : i + draw(st.integers(1, 9))]
            elif op == "set":
                buf[i] = draw(st.sampled_from([0, 0x7F, 0x80, 0xFF, 0x3F, 0x20]))
            else:
                del buf[i:]
        return bytes(buf)

    return build()


def chunked(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """``data`` split at arbitrary points."""
    return st.lists(st.integers(0, max(len(data), 0)), max_size=8).map(
        lambda cuts: _split(data, sorted(set(cuts)))
    )


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    out, prev = [], 0
    for c in [*cuts, len(data)]:
        if c > prev:
            out.append(data[prev:c])
            prev = c
    return out


def direction(value: int) -> Direction:
    return Direction.REQUEST if value == 0 else Direction.RESPONSE
