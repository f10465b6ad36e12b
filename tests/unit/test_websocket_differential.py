"""Differential: random message sequences written by a wsproto peer, read back by wsproto's
own receiving peer and by httptap's passive reader, must give the same messages."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto.frame_protocol import Frame, FrameProtocol, Opcode

from httptap.protocols.websocket import Deflate
from tests.unit.test_websocket_frames import deflate_ext, peer, read, summary

_PARAMS = st.one_of(
    st.none(),
    st.builds(
        lambda cnt, snt, cb, sb: "; ".join(
            [p for p, on in (("client_no_context_takeover", cnt),
                             ("server_no_context_takeover", snt)) if on]
            + [f"client_max_window_bits={cb}", f"server_max_window_bits={sb}"]),
        st.booleans(), st.booleans(), st.integers(9, 15), st.integers(9, 15)),
)
_TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.just("repeat " * 200)
_MESSAGE = st.one_of(
    st.tuples(st.just("text"), _TEXT, st.integers(1, 4)),
    st.tuples(st.just("binary"), st.binary(max_size=300) | st.just(bytes(5000)),
              st.integers(1, 4)),
    st.tuples(st.sampled_from(["ping", "pong"]), st.binary(max_size=125), st.just(1)),
)
_CLOSE = st.none() | st.tuples(st.sampled_from([1000, 1001, 1011, 3000, 4999]),
                               st.text(max_size=20).filter(lambda s: len(s.encode()) <= 123))


def _write(p: FrameProtocol, messages: list, close: tuple | None, between: bool) -> bytes:
    out = bytearray()
    for kind, payload, parts in messages:
        if kind == "ping":
            out += p.ping(payload)
        elif kind == "pong":
            out += p.pong(payload)
        else:
            step = max(1, -(-len(payload) // parts))
            pieces = [payload[i:i + step] for i in range(0, len(payload), step)] or [payload]
            for i, piece in enumerate(pieces):
                out += p.send_data(piece, fin=i == len(pieces) - 1)
                if between and i == 0 and len(pieces) > 1:
                    out += p.ping(b"between")  # control frames may sit between fragments
    if close is not None:
        out += p.close(*close)
    return bytes(out)


def _wsproto_reads(stream: bytes, client_sent: bool, params: str | None) -> list[tuple]:
    """What wsproto, as the receiving peer, makes of ``stream``, in the reader's terms."""
    rx = FrameProtocol(not client_sent, [deflate_ext(params)] if params is not None else [])
    rx.receive_bytes(stream)
    out: list[tuple] = []
    data = bytearray()
    kind = ""
    for f in rx.received_frames():
        assert isinstance(f, Frame)
        if f.opcode == Opcode.CLOSE:
            code, reason = f.payload
            code = None if code == 1005 else int(code)
            raw = reason.encode()
            out.append(("close", raw, len(raw), False, False, code, reason))
            continue
        if f.opcode in (Opcode.PING, Opcode.PONG):
            name = "ping" if f.opcode == Opcode.PING else "pong"
            out.append((name, bytes(f.payload), len(f.payload), False, False, None, ""))
            continue
        if f.opcode != Opcode.CONTINUATION:
            kind = "text" if f.opcode == Opcode.TEXT else "binary"
        data += f.payload.encode() if isinstance(f.payload, str) else f.payload
        if f.message_finished:
            out.append((kind, bytes(data), len(data), False, params is not None, None, ""))
            data = bytearray()
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), _PARAMS, st.lists(_MESSAGE, max_size=8), _CLOSE,
       st.lists(st.integers(0, 20000), max_size=10))
def test_reader_agrees_with_wsproto(client_sent: bool, params: str | None, messages: list,
                                    close: tuple | None, cuts: list[int]) -> None:
    # wsproto 1.3 cannot read a compressed message with a control frame between its
    # fragments (the control frame's end resets its "message is compressed" flag), so only
    # uncompressed streams get them here; test_websocket_reader covers the compressed case.
    stream = _write(peer(client_sent, params), messages, close, between=params is None)
    expected = _wsproto_reads(stream, client_sent, params)
    deflate = None
    if params is not None:
        ext = deflate_ext(params)
        deflate = Deflate(ext.client_no_context_takeover, ext.server_no_context_takeover,
                          ext.client_max_window_bits, ext.server_max_window_bits)
    cuts = sorted({c for c in cuts if 0 < c < len(stream)})
    assert summary(read(stream, cuts, from_client=client_sent, deflate=deflate)) == expected
