"""Fuzz the HTTP/2 frame parser and the tolerant HPACK decoder with mutated real conversations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from httptap.model import Connection, Proto
from httptap.protocols.http2 import MAX_TABLE_SIZE, Http2Parser, TolerantDecoder
from tests.fuzz._harness import check_events, fuzz_settings, guarded
from tests.fuzz._strategies import GAP_SIZES, direction, mutate
from tests.unit.test_http2_helpers import GRPC_REQUEST_HEADERS, H2Pair, grpc_frame, raw_frame


def _conversations() -> list[list[tuple[int, bytes]]]:
    """A few real h2 conversations (client and server from the h2 library) as wire chunks."""
    out = []
    p = H2Pair()
    a = p.request("/items?id=1", headers=[("accept", "application/json"),
                                          ("authorization", "Bearer x")])
    p.respond(a, 200, b'{"id": 1}', headers=[("content-type", "application/json")])
    b = p.request("/upload", method="POST", body=b"x" * 300)
    p.respond(b, 201, b"created", trailers=[("x-checksum", "abc")])
    out.append(p.chunks)
    p = H2Pair(server_first=True)
    c = p.request("/pkg.Svc/Get", method="POST", headers=GRPC_REQUEST_HEADERS,
                  body=grpc_frame(b"\x08\x01\x12\x03abc") + grpc_frame(b"\x08\x02", compress=True))
    p.respond(c, 200, grpc_frame(b"\x0a\x02hi"),
              headers=[("content-type", "application/grpc"), ("grpc-encoding", "gzip")],
              trailers=[("grpc-status", "0"), ("grpc-message", "")])
    out.append(p.chunks)
    return [[(int(d), bytes(data)) for d, data in chunks] for chunks in out]


CONVERSATIONS = _conversations()

_FRAME = st.builds(
    raw_frame,
    st.integers(0, 12),
    st.integers(0, 255),
    st.sampled_from([0, 1, 3, 5, 2**31 - 1]),
    st.binary(max_size=40),
)


@st.composite
def h2_ops(draw: st.DrawFn) -> list[tuple[int, str, object]]:
    chunks = draw(st.sampled_from(CONVERSATIONS))
    ops: list[tuple[int, str, object]] = []
    for d, data in chunks:
        step = draw(st.sampled_from(["keep", "keep", "mutate", "split", "frame", "gap", "drop"]))
        if step == "mutate":
            ops.append((d, "data", draw(mutate(data))))
        elif step == "split":
            cut = draw(st.integers(0, len(data)))
            ops += [(d, "data", data[:cut]), (d, "data", data[cut:])]
        elif step == "frame":
            ops += [(d, "data", draw(_FRAME)), (d, "data", data)]
        elif step == "gap":
            ops += [(d, "gap", draw(GAP_SIZES)), (d, "data", data)]
        elif step == "keep":
            ops.append((d, "data", data))
    return ops


def run_h2(ops: list[tuple[int, str, object]], *, midstream: bool = False) -> Http2Parser:
    """Feed ``ops`` to a fresh parser and close it; no event may be malformed."""
    p = Http2Parser(Connection(protocol=Proto.H2), body_limit=100, midstream=midstream)
    ts = 0
    for d, kind, value in ops:
        ts += 1
        if kind == "data":
            check_events(p.feed(direction(d), value, ts))  # type: ignore[arg-type]
        else:
            check_events(p.gap(direction(d), value, ts))  # type: ignore[arg-type]
    check_events(p.close(ts + 1))
    assert p._internal_errors == 0, "an exception reached the parser's safety net"
    return p


@fuzz_settings(250)
@given(ops=h2_ops(), midstream=st.booleans())
def test_http2_parser_survives(ops, midstream) -> None:
    guarded("http2", {"ops": ops, "midstream": midstream},
            lambda: run_h2(ops, midstream=midstream))


@fuzz_settings(150)
@given(frames=st.lists(_FRAME, max_size=12), midstream=st.booleans())
def test_http2_random_frames(frames, midstream) -> None:
    preface = [] if midstream else [(0, "data", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    ops = preface + [(i % 2, "data", f) for i, f in enumerate(frames)]
    guarded("http2-frames", {"ops": ops, "midstream": midstream},
            lambda: run_h2(ops, midstream=midstream))


_HPACK_PIECES = [
    b"\x82", b"\x86", b"\x84", b"\xbe", b"\xff\xff\xff\xff\x0f", b"\x3f\xe1\x1f",
    b"\x3f\xff\xff\xff\xff\xff\x0f", b"\x20", b"\x40\x03abc\x03def", b"\x00\x01a\x01b",
    b"\x10\x01a\x81\xff", b"\x7f\x00", b"\x40\x7f\xff\xff\xff\x0f",
]


@fuzz_settings(300)
@given(blocks=st.lists(st.lists(st.one_of(st.sampled_from(_HPACK_PIECES),
                                          st.binary(max_size=12)), max_size=8).map(b"".join),
                       max_size=8),
       in_sync=st.booleans(), limit=st.sampled_from([0, 4096, 2**32 - 1]))
def test_hpack_decoder_survives(blocks, in_sync, limit) -> None:
    def check() -> None:
        dec = TolerantDecoder(in_sync=in_sync)
        dec.set_table_size_limit(limit)
        for block in blocks:
            out = dec.decode(block)
            assert isinstance(out.headers, list)
            assert dec._size <= MAX_TABLE_SIZE

    guarded("hpack", blocks, check)
