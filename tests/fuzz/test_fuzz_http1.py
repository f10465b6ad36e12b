"""Fuzz the HTTP/1.1 parser (and the sniffer): nothing escapes, exchanges always serialise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from httptap.model import Connection, Proto
from httptap.protocols.base import Direction
from httptap.protocols.http1 import Http1Parser
from httptap.protocols.sniff import looks_like_message_start, message_start, sniff
from tests.fuzz._harness import check_events, fuzz_settings, guarded
from tests.fuzz._strategies import TOKENS, direction, h1_ops


def run_h1(ops: list[tuple[int, str, object]], *, midstream: bool = False,
           body_limit: int = 64) -> None:
    """Feed ``ops`` to a fresh parser, then close it; check every event."""
    p = Http1Parser(Connection(protocol=Proto.HTTP1), body_limit=body_limit, midstream=midstream)
    ts = 0
    for d, kind, value in ops:
        ts += 1000
        if kind == "data":
            check_events(p.feed(direction(d), value, ts))  # type: ignore[arg-type]
        else:
            check_events(p.gap(direction(d), value, ts))  # type: ignore[arg-type]
    check_events(p.close(ts + 1))


@fuzz_settings(300)
@given(ops=h1_ops(), midstream=st.booleans(), body_limit=st.sampled_from([0, 5, 65536]))
def test_http1_parser_survives(ops, midstream, body_limit) -> None:
    guarded("http1", {"ops": ops, "midstream": midstream, "body_limit": body_limit},
            lambda: run_h1(ops, midstream=midstream, body_limit=body_limit))


@fuzz_settings(200)
@given(data=st.binary(max_size=512))
def test_http1_random_bytes(data: bytes) -> None:
    def check() -> None:
        run_h1([(0, "data", data), (1, "data", data[::-1])])
        run_h1([(1, "data", data)], midstream=True)

    guarded("http1-bytes", data, check)


@fuzz_settings(300)
@given(data=st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8)),
                     max_size=6).map(b"".join))
def test_sniffer_survives(data: bytes) -> None:
    def check() -> None:
        sniff(data)
        for d in Direction:
            message_start(d, data)
            looks_like_message_start(d, data)

    guarded("sniff", data, check)
