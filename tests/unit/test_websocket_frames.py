"""WebSocket frame headers and the handshake's negotiation; and the helpers the other
WebSocket tests build byte streams with (by hand, and with a wsproto peer)."""

from __future__ import annotations

import struct

import pytest
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

from httptap.protocols.websocket import WebSocketReader, WsMessage, WsNote
from httptap.protocols.websocket.frames import broken, parse_header, plausible
from httptap.protocols.websocket.negotiation import (
    Deflate,
    is_websocket_upgrade,
    negotiated_deflate,
)

MASK = b"\x11\x22\x33\x44"


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False,
          mask: bytes | None = None, wide: int = 0, rsv2: bool = False) -> bytes:
    """One frame by hand; ``wide`` forces a 2- or 8-byte length field."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | opcode
    n = len(payload)
    mbit = 0x80 if mask is not None else 0
    if wide == 8 or n > 0xFFFF:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    elif wide == 2 or n > 125:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, mbit | n])
    if mask is None:
        return head + payload
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def deflate_ext(params: str = "") -> PerMessageDeflate:
    """A wsproto permessage-deflate extension as a handshake with ``params`` left it."""
    ext = PerMessageDeflate()
    ext.finalize("permessage-deflate" + (f"; {params}" if params else ""))
    return ext


def peer(client: bool, params: str | None = None) -> FrameProtocol:
    """A wsproto peer writing frames (masked when ``client``), compressing when ``params``."""
    return FrameProtocol(client, [deflate_ext(params)] if params is not None else [])


def summary(events: list) -> list[tuple]:
    """Messages as comparable tuples (notes dropped)."""
    return [(m.opcode, m.data, m.size, m.truncated, m.compressed, m.close_code, m.close_reason)
            for m in events if isinstance(m, WsMessage)]


def notes(events: list) -> list[str]:
    return [n.text for n in events if isinstance(n, WsNote)]


def read(stream: bytes, cuts: list[int] | None = None, **kwargs) -> list:
    """Every event of a reader fed ``stream`` cut at ``cuts`` (positions), then closed."""
    r = WebSocketReader(**kwargs)
    out: list = []
    prev = 0
    for i, cut in enumerate([*(cuts or []), len(stream)]):
        out += r.feed(stream[prev:cut], i)
        prev = cut
    return out + r.close(10**9)


def bytewise(stream: bytes, **kwargs) -> list:
    return read(stream, list(range(1, len(stream))), **kwargs)


# --- frame headers ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 0xFFFF, 0x10000, 70000])
@pytest.mark.parametrize("masked", [False, True])
def test_header_lengths_and_mask(n: int, masked: bool) -> None:
    raw = frame(Opcode.BINARY, b"x" * n, mask=MASK if masked else None)
    h = parse_header(raw)
    assert h is not None
    assert (h.length, h.masked, h.fin, h.opcode, h.minimal) == (n, masked, True, 2, True)
    assert h.size == len(raw) - n
    assert h.mask == (MASK if masked else b"")
    for cut in range(h.size):  # any prefix of the header is incomplete, never an error
        assert parse_header(raw[:cut]) is None


def test_header_at_offset_and_non_minimal_length() -> None:
    raw = b"junk" + frame(Opcode.TEXT, b"hi", wide=8)
    h = parse_header(raw, 4)
    assert h is not None and h.length == 2 and not h.minimal and h.size == 10


def test_every_two_byte_header_parses_without_raising() -> None:
    for b0 in range(256):
        for b1 in range(256):
            raw = bytes([b0, b1]) + bytes(12)
            h = parse_header(raw)
            assert h is not None
            broken(h)
            plausible(h, from_client=bool(b1 & 0x80), deflate=True)


@pytest.mark.parametrize(("raw", "why"), [
    (frame(3, b""), "reserved opcode 0x3"),
    (frame(0xB, b""), "reserved opcode 0xb"),
    (frame(Opcode.PING, b"", fin=False), "fragmented control frame"),
    (bytes([0x89, 126, 0, 126]) + b"x" * 126, "control frame of 126 bytes"),
    (frame(Opcode.TEXT, b"", rsv2=True), "RSV2/RSV3 set"),
    (bytes([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]), "64-bit length with its top bit set"),
])
def test_broken_headers_say_why(raw: bytes, why: str) -> None:
    h = parse_header(raw)
    assert h is not None and broken(h) == why


def test_plausible_is_strict_about_side_rsv1_and_length_encoding() -> None:
    def ok(raw: bytes, from_client: bool = False, deflate: bool = False) -> bool:
        h = parse_header(raw)
        assert h is not None and broken(h) is None
        return plausible(h, from_client=from_client, deflate=deflate)

    assert ok(frame(Opcode.TEXT, b"a"))
    assert not ok(frame(Opcode.TEXT, b"a"), from_client=True)  # clients mask
    assert ok(frame(Opcode.TEXT, b"a", mask=MASK), from_client=True)
    assert not ok(frame(Opcode.TEXT, b"a", wide=2))
    assert not ok(frame(Opcode.TEXT, b"a", rsv1=True))
    assert ok(frame(Opcode.TEXT, b"a", rsv1=True), deflate=True)
    assert not ok(frame(Opcode.PING, b"a", rsv1=True), deflate=True)


# --- the handshake's negotiation --------------------------------------------------------------

_OFFER = [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]


def test_negotiation_reads_the_response() -> None:
    resp = [("sec-websocket-extensions",
             'permessage-deflate; server_no_context_takeover; client_max_window_bits="10"; '
             "server_max_window_bits=12")]
    d = negotiated_deflate(_OFFER, resp)
    assert d == Deflate(server_no_context_takeover=True, client_max_window_bits=10,
                        server_max_window_bits=12)
    assert (d.window_bits(True), d.window_bits(False)) == (10, 12)
    assert (d.no_context_takeover(True), d.no_context_takeover(False)) == (False, True)


def test_negotiation_absent_refused_or_bad() -> None:
    pmd = [("Sec-WebSocket-Extensions", "permessage-deflate")]
    assert negotiated_deflate(_OFFER, []) is None
    assert negotiated_deflate([], pmd) is None  # never offered
    assert negotiated_deflate(_OFFER, [("Sec-WebSocket-Extensions", "x-other")]) is None
    assert negotiated_deflate(_OFFER, pmd) == Deflate()
    bad = [("Sec-WebSocket-Extensions",
            "x-other, permessage-deflate; server_max_window_bits=99; client_max_window_bits; "
            "client_no_context_takeover; server_max_window_bits=zz")]
    assert negotiated_deflate(_OFFER, bad) == Deflate(client_no_context_takeover=True)


def test_is_websocket_upgrade() -> None:
    req = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
    assert is_websocket_upgrade(req, 101, [("Upgrade", "WebSocket")])
    assert not is_websocket_upgrade(req, 200, [])
    assert not is_websocket_upgrade([("Upgrade", "h2c")], 101, [("Upgrade", "h2c")])
