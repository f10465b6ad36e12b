"""The text/event-stream parser: fields, line ends, BOM, times, bounds; fed whole, byte by
byte and split at every position."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from httptap.protocols.sse import SseEvent, SseParser


def events(body: bytes, cuts: list[int] | None = None, limit: int = 1000) -> list[tuple]:
    p = SseParser(limit)
    out: list[SseEvent] = []
    prev = 0
    for i, cut in enumerate([*(cuts or []), len(body)]):
        out += p.feed(body[prev:cut], i)
        prev = cut
    return [(e.event, e.data, e.size, e.truncated, e.id, e.retry) for e in out]


def every_split(body: bytes, expected: list[tuple], limit: int = 1000) -> None:
    assert events(body, limit=limit) == expected
    assert events(body, list(range(1, len(body))), limit) == expected
    for cut in range(1, len(body)):
        assert events(body, [cut], limit) == expected, cut


def test_fields_and_defaults() -> None:
    body = (b": a comment\n"
            b"data: first\n\n"
            b"event: update\nid: 7\nretry: 1500\ndata: {\"a\": 1}\ndata:second line\n"
            b"data\n\n"
            b"data: after\n\n")
    every_split(body, [
        ("message", b"first", 5, False, None, None),
        ("update", b'{"a": 1}\nsecond line\n', 21, False, "7", 1500),
        ("message", b"after", 5, False, "7", None),  # the last event ID persists
    ])


def test_line_ends_crlf_cr_lf_and_bom() -> None:
    body = b"\xef\xbb\xbfdata: a\r\ndata: b\rdata: c\n\r\nevent: e\rdata:  two spaces\r\r"
    every_split(body, [("message", b"a\nb\nc", 5, False, None, None),
                       ("e", b" two spaces", 11, False, None, None)])


def test_a_bom_only_at_the_start_and_one_only() -> None:
    every_split(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n", [])  # the 2nd BOM spoils the name
    every_split(b"data: \xef\xbb\xbfx\n\n", [("message", b"\xef\xbb\xbfx", 4, False, None, None)])


def test_ignored_lines() -> None:
    body = (b"event: lonely\n\n"  # no data: nothing is dispatched
            b"retry: 12x\nid: a\x00b\nunknown: field\n: comment\ndata: kept\n\n"
            b"data: unfinished at the end")
    every_split(body, [("message", b"kept", 4, False, None, None)])


def test_empty_data_dispatches_an_empty_event() -> None:
    every_split(b"data\n\ndata:\ndata:\n\n", [("message", b"", 0, False, None, None),
                                              ("message", b"\n", 1, False, None, None)])


def test_events_take_the_time_of_the_chunk_that_completed_them() -> None:
    p = SseParser()
    assert p.feed(b"data: slow", 100) == []
    assert p.feed(b"\n", 200) == []
    (e,) = p.feed(b"\ndata: next", 300)
    assert e.ts_ns == 300 and e.data == b"slow"
    assert p.feed(b"\r", 400) == []
    (e,) = p.feed(b"\r", 500)
    assert e.data == b"next" and e.ts_ns == 500
    assert p.feed(b"\n", 600) == []  # the LF of that CRLF, not a blank line
    assert p.feed(b"data: 3\n\n", 700)[0].data == b"3"


def test_big_events_are_truncated_with_their_size() -> None:
    body = b"data: " + b"x" * 5000 + b"\ndata: " + b"y" * 10 + b"\n\ndata: small\n\n"
    expected = [("message", b"x" * 100, 5011, True, None, None),
                ("message", b"small", 5, False, None, None)]
    assert events(body, limit=100) == expected
    assert events(body, list(range(0, len(body), 7)), limit=100) == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=6))
def test_anything_parses_without_raising_and_bounded(body: bytes, cuts: list[int]) -> None:
    whole = events(body, limit=32)
    assert events(body, sorted(cuts), limit=32) == whole
    for _, data, size, truncated, _, _ in whole:
        assert len(data) <= 32 and size >= len(data) and truncated == (size > len(data))
