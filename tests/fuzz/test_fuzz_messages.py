"""Fuzz harnesses of the message parsers: WebSocket frames (real conversations written by a
wsproto peer, mutated, cut anywhere, with gaps; deflate on and off) and event streams.

The readers must never raise, keep at most ``limit`` bytes of a message (``size`` the true
one), and emit only the opcodes of the contract.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol

from httptap.protocols.sse import SseParser
from httptap.protocols.websocket.events import WsMessage
from httptap.protocols.websocket.negotiation import Deflate
from httptap.protocols.websocket.reader import WebSocketReader
from tests.fuzz._harness import fuzz_settings, guarded
from tests.fuzz._strategies import GAP_SIZES, chunked, mutate

_OPCODES = {"text", "binary", "ping", "pong", "close"}
_PAYLOADS = st.one_of(st.binary(max_size=300), st.text(max_size=80).map(str.encode),
                      st.just(b"x" * 5000))


@st.composite
def _conversation(draw: st.DrawFn) -> tuple[bytes, bool, bool]:
    """Frames one side of a real connection sends: (bytes, from_client, deflate)."""
    from_client = draw(st.booleans())
    deflate = draw(st.booleans())
    ext = [PerMessageDeflate()] if deflate else []
    if ext:
        ext[0]._enabled = True  # as after a negotiation that accepted it
    peer = FrameProtocol(client=from_client, extensions=ext)
    out = bytearray()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["text", "binary", "ping", "fragments", "close"]))
        data = draw(_PAYLOADS)
        if kind == "text":
            out += peer.send_data(data.decode("utf-8", "replace"), fin=True)
        elif kind == "binary":
            out += peer.send_data(data, fin=True)
        elif kind == "ping":
            out += peer.ping(data[:100])
        elif kind == "fragments":
            out += peer.send_data(data[:10], fin=False)
            out += peer.send_data(data[10:], fin=True)
        else:
            out += peer.close(1000, "bye")
            break
    return bytes(out), from_client, deflate


@fuzz_settings(300)
@given(
    conv=_conversation(),
    data=st.data(),
    gaps=st.lists(GAP_SIZES, max_size=2),
    limit=st.sampled_from([0, 7, 65536]),
    synced=st.booleans(),
)
def test_websocket_reader_survives(conv, data, gaps, limit, synced) -> None:
    raw, from_client, deflate = conv
    raw = data.draw(st.one_of(st.just(raw), mutate(raw)))
    pieces = data.draw(chunked(raw))

    def check() -> None:
        reader = WebSocketReader(from_client=from_client, limit=limit, synced=synced,
                                 deflate=Deflate() if deflate else None)
        events = []
        for i, piece in enumerate(pieces):
            events += reader.feed(piece, i)
            if gaps and i == 0:
                events += reader.gap(gaps[0], i)
        events += reader.close(len(pieces))
        for ev in events:
            if isinstance(ev, WsMessage):
                assert ev.opcode in _OPCODES
                assert len(ev.data) <= max(limit, 125)  # control frames are kept whole
                assert ev.size >= len(ev.data)

    guarded("websocket", {"raw": raw.hex(), "pieces": len(pieces), "gaps": gaps,
                          "limit": limit, "synced": synced, "deflate": deflate}, check)


_SSE_TOKENS = [b"data: ", b"event: ", b"id: ", b"retry: ", b": c", b"\n", b"\r\n", b"\r",
               b"\xef\xbb\xbf", b"hello", b"1000", b"\n\n"]


@fuzz_settings(300)
@given(
    body=st.lists(st.one_of(st.sampled_from(_SSE_TOKENS), st.binary(max_size=12)),
                  max_size=24).map(b"".join),
    data=st.data(),
    limit=st.sampled_from([0, 5, 65536]),
)
def test_sse_parser_survives(body, data, limit) -> None:
    pieces = data.draw(chunked(body))

    def check() -> None:
        parser = SseParser(limit=limit)
        for i, piece in enumerate(pieces):
            for ev in parser.feed(piece, i):
                assert len(ev.data) <= limit and ev.size >= len(ev.data)

    guarded("sse", {"body": body.hex(), "pieces": len(pieces), "limit": limit}, check)

