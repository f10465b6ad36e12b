"""The passive WebSocket reader on recorded frames: whole, byte by byte, split at every
position; compressed and not; fragmented; masked; close codes; malformed; joined mid-stream."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto.frame_protocol import Opcode

from httptap.protocols.websocket import Deflate, WebSocketReader, WsMessage
from tests.unit.test_websocket_frames import (
    MASK,
    bytewise,
    frame,
    notes,
    peer,
    read,
    summary,
)


def every_split(stream: bytes, expected: list[tuple], **kwargs) -> None:
    """Fed whole, byte by byte and cut once at every position, the messages are the same."""
    assert summary(read(stream, **kwargs)) == expected
    assert summary(bytewise(stream, **kwargs)) == expected
    for cut in range(1, len(stream)):
        assert summary(read(stream, [cut], **kwargs)) == expected, cut


def t(data: bytes, compressed: bool = False) -> tuple:
    return ("text", data, len(data), False, compressed, None, "")


def b(data: bytes, compressed: bool = False) -> tuple:
    return ("binary", data, len(data), False, compressed, None, "")


def test_server_frames_by_hand() -> None:
    stream = (frame(Opcode.TEXT, b"hello") + frame(Opcode.BINARY, b"\x00\xff")
              + frame(Opcode.PING, b"p") + frame(Opcode.PONG, b"") + frame(Opcode.TEXT, b"")
              + frame(Opcode.CLOSE, b"\x03\xe8bye"))
    every_split(stream, [
        t(b"hello"), b(b"\x00\xff"), ("ping", b"p", 1, False, False, None, ""),
        ("pong", b"", 0, False, False, None, ""), t(b""),
        ("close", b"bye", 3, False, False, 1000, "bye"),
    ], from_client=False)


def test_client_frames_are_unmasked() -> None:
    stream = (frame(Opcode.TEXT, "héllo wörld".encode(), mask=MASK)
              + frame(Opcode.BINARY, bytes(range(256)) * 3, mask=MASK)
              + frame(Opcode.CLOSE, b"\x0f\xa1gone", mask=MASK))
    every_split(stream, [t("héllo wörld".encode()), b(bytes(range(256)) * 3),
                         ("close", b"gone", 4, False, False, 4001, "gone")], from_client=True)


def test_wsproto_client_frames() -> None:
    c = peer(client=True)
    stream = (c.send_data("one") + c.send_data(b"two") + c.ping(b"x") + c.pong(b"y")
              + c.close(1001, "away"))
    every_split(bytes(stream), [t(b"one"), b(b"two"), ("ping", b"x", 1, False, False, None, ""),
                                ("pong", b"y", 1, False, False, None, ""),
                                ("close", b"away", 4, False, False, 1001, "away")],
                from_client=True)


def test_fragments_are_joined_around_control_frames() -> None:
    stream = (frame(Opcode.TEXT, b"hel", fin=False, mask=MASK)
              + frame(Opcode.PING, b"1", mask=MASK)
              + frame(Opcode.CONTINUATION, b"lo ", fin=False, mask=MASK)
              + frame(Opcode.CONTINUATION, b"", fin=False, mask=MASK)
              + frame(Opcode.PONG, b"2", mask=MASK)
              + frame(Opcode.CONTINUATION, b"world", mask=MASK))
    every_split(stream, [("ping", b"1", 1, False, False, None, ""),
                         ("pong", b"2", 1, False, False, None, ""), t(b"hello world")],
                from_client=True)


@pytest.mark.parametrize("params", [
    "",  # context takeover both ways
    "client_no_context_takeover; server_no_context_takeover",
    "client_max_window_bits=9; server_max_window_bits=10",
    "server_no_context_takeover; server_max_window_bits=11",
])
@pytest.mark.parametrize("client", [False, True])
def test_permessage_deflate(params: str, client: bool) -> None:
    p = peer(client, params)
    texts = ["the same words " * 20, "the same words " * 21, "short", "the same words"]
    stream = bytearray()
    for text in texts:
        stream += p.send_data(text)
    stream += p.send_data(b"\x00" * 3000, fin=False) + p.ping(b"!") + p.send_data(b"\x01" * 9)
    stream += p.send_data(b"plain")
    deflate = Deflate()
    if params:
        from tests.unit.test_websocket_frames import deflate_ext
        ext = deflate_ext(params)
        deflate = Deflate(ext.client_no_context_takeover, ext.server_no_context_takeover,
                          ext.client_max_window_bits, ext.server_max_window_bits)
    expected = [t(x.encode(), True) for x in texts]
    expected += [("ping", b"!", 1, False, False, None, ""),
                 b(b"\x00" * 3000 + b"\x01" * 9, True), b(b"plain", True)]
    every_split(bytes(stream), expected, from_client=client, deflate=deflate)


def test_context_takeover_matters() -> None:
    """Read as if each message had a fresh context, a message that refers back fails: the
    takeover setting is really applied."""
    p = peer(False, "")
    stream = p.send_data("the same words " * 20) + p.send_data("the same words " * 20)
    wrong = Deflate(server_no_context_takeover=True)
    events = read(bytes(stream), from_client=False, deflate=wrong)
    got = summary(events)
    assert got[0] == t(("the same words " * 20).encode(), True)
    assert got[1][3] is True  # truncated: could not inflate
    assert any("cannot inflate" in n for n in notes(events))


def test_compressed_without_negotiation_is_inflated_with_defaults() -> None:
    p = peer(False, "")
    events = read(bytes(p.send_data("zipped zipped zipped")), from_client=False)
    assert summary(events) == [t(b"zipped zipped zipped", True)]
    assert any("without a negotiated permessage-deflate" in n for n in notes(events))


def test_big_message_truncated_with_true_size() -> None:
    payload = bytes(range(256)) * 400  # 102400 bytes, 8-byte length
    stream = frame(Opcode.BINARY, payload, mask=MASK) + frame(Opcode.TEXT, b"after", mask=MASK)
    for events in (read(stream, from_client=True, limit=1000),
                   read(stream, list(range(0, len(stream), 777)), from_client=True,
                        limit=1000)):
        assert summary(events) == [("binary", payload[:1000], len(payload), True, False, None,
                                    ""), t(b"after")]


def test_big_compressed_message_truncated_with_true_size() -> None:
    p = peer(True, "")
    text = "".join(f"line {i} of many\n" for i in range(20000))
    stream = bytes(p.send_data(text))
    events = read(stream, list(range(0, len(stream), 1000)), from_client=True,
                  deflate=Deflate(), limit=500)
    assert summary(events) == [("text", text.encode()[:500], len(text), True, True, None, "")]


def test_decompression_bomb_is_bounded() -> None:
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = z.compress(bytes(50_000_000)) + z.flush(zlib.Z_SYNC_FLUSH)[:-4]
    assert len(bomb) < 100_000
    stream = frame(Opcode.BINARY, bomb, rsv1=True) + frame(Opcode.TEXT, b"next")
    r = WebSocketReader(from_client=False, deflate=Deflate(), limit=100,
                        max_inflate=1_000_000)
    events = r.feed(stream, 1) + r.close(2)
    msgs = summary(events)
    assert msgs[0] == ("binary", bytes(100), 1_000_000, True, True, None, "")
    assert msgs[1] == t(b"next")
    assert any("decompression bomb" in n for n in notes(events))


def test_close_codes() -> None:
    stream = (frame(Opcode.CLOSE, b"") + frame(Opcode.CLOSE, b"\x03\xe9")
              + frame(Opcode.CLOSE, b"\x0f\xa0" + "ça va".encode())
              + frame(Opcode.CLOSE, b"\x03\xe8\xff\xfe") + frame(Opcode.CLOSE, b"\x03"))
    events = read(stream, from_client=False)
    assert summary(events) == [
        ("close", b"", 0, False, False, None, ""),
        ("close", b"", 0, False, False, 1001, ""),
        ("close", "ça va".encode(), 6, False, False, 4000, "ça va"),
        ("close", b"\xff\xfe", 2, False, False, 1000, "\ufffd\ufffd"),
        ("close", b"\x03", 1, False, False, None, ""),
    ]
    assert notes(events) == ["close frame with a 1-byte payload (no valid code)"]


def test_message_time_is_that_of_the_bytes_that_completed_it() -> None:
    stream = frame(Opcode.TEXT, b"abc", fin=False) + frame(Opcode.CONTINUATION, b"def")
    r = WebSocketReader(from_client=False)
    assert r.feed(stream[:7], 100) == []
    (m,) = r.feed(stream[7:], 200)
    assert isinstance(m, WsMessage) and m.ts_ns == 200 and m.data == b"abcdef"


def test_reserved_opcode_resynchronises_on_the_next_frame() -> None:
    stream = (frame(Opcode.TEXT, b"before") + frame(5, b"??") + b"\x99garbage"
              + frame(Opcode.TEXT, b"after") + frame(Opcode.TEXT, b"again"))
    for events in (read(stream, from_client=False), bytewise(stream, from_client=False)):
        assert summary(events) == [t(b"before"), t(b"after"), t(b"again")]
        text = notes(events)
        assert text[0] == "not a WebSocket frame (reserved opcode 0x5); resynchronising"
        assert text[1].startswith("joined mid-stream: resynchronised")


def test_message_cut_by_a_new_one_and_orphan_continuations() -> None:
    stream = (frame(Opcode.CONTINUATION, b"tail of something", fin=False)
              + frame(Opcode.CONTINUATION, b"end")
              + frame(Opcode.TEXT, b"first", fin=False) + frame(Opcode.BINARY, b"second"))
    events = read(stream, from_client=False)
    assert summary(events) == [("text", b"first", 5, True, False, None, ""), b(b"second")]
    assert notes(events) == [
        "continuation frames without their first frame (joined mid-message): skipped",
        "text message cut by the next message",
    ]


def test_connection_closed_mid_message() -> None:
    stream = frame(Opcode.TEXT, b"0123456789")[:8]
    events = read(stream, from_client=False)
    assert summary(events) == [("text", b"012345", 6, True, False, None, "")]
    assert notes(events) == ["text message cut by the end of the connection"]


def test_gap_inside_a_payload_is_counted() -> None:
    head = frame(Opcode.BINARY, bytes(1000), mask=MASK)
    r = WebSocketReader(from_client=True)
    assert r.feed(head[:106], 1) == []  # 8 header bytes, 98 of payload
    assert r.gap(800, 2) == []
    events = r.feed(head[906:] + frame(Opcode.TEXT, b"ok", mask=MASK), 3)
    assert summary(events) == [("binary", bytes(200), 1000, True, False, None, ""), t(b"ok")]


def test_gap_across_frames_resynchronises() -> None:
    stream = frame(Opcode.TEXT, b"x" * 50) + frame(Opcode.TEXT, b"lost")
    tail = frame(Opcode.TEXT, b"found") + frame(Opcode.PING, b"")
    r = WebSocketReader(from_client=False)
    events = r.feed(stream[:20], 1) + r.gap(len(stream) - 20 + 3, 2)
    events += r.feed(b"abc" + tail, 3) + r.close(4)
    assert summary(events) == [("text", b"x" * 18, 50, True, False, None, ""), t(b"found"),
                               ("ping", b"", 0, False, False, None, "")]
    assert notes(events)[0] == "9 bytes were missed; resynchronising on the next frame"


def test_gap_in_a_compressed_message() -> None:
    p = peer(False, "server_no_context_takeover")
    first = bytes(p.send_data("a" * 5000 + "".join(map(str, range(3000)))))
    second = bytes(p.send_data("second"))
    deflate = Deflate(server_no_context_takeover=True)
    r = WebSocketReader(from_client=False, deflate=deflate)
    events = r.feed(first[:50], 1) + r.gap(20, 2) + r.feed(first[70:] + second, 3)
    msgs = summary(events)
    assert msgs[0][0] == "text" and msgs[0][3] is True  # truncated
    assert msgs[1] == t(b"second", True)
    assert "text message: 20 bytes of a compressed message were missed" in notes(events)


def _stream_of_messages() -> tuple[bytes, list[int], list[tuple]]:
    """Client messages of ASCII text and binary, with where each frame starts."""
    starts: list[int] = []
    expected: list[tuple] = []
    stream = b""
    for i in range(6):
        data = f"message number {i}: {'abc' * i}".encode()
        raw = frame(Opcode.TEXT, data, mask=bytes([i + 1, 2, 3, 4]))
        starts.append(len(stream))
        stream += raw
        expected.append(t(data))
        starts.append(len(stream))
        stream += frame(Opcode.PING, bytes([i]), mask=MASK)
        expected.append(("ping", bytes([i]), 1, False, False, None, ""))
    return stream, starts, expected


def test_join_mid_stream_at_every_offset() -> None:
    stream, starts, expected = _stream_of_messages()
    for offset in range(len(stream)):
        events = read(stream[offset:], from_client=True, synced=False)
        later = [e for s, e in zip(starts, expected, strict=True) if s >= offset]
        got = summary(events)
        assert got[-len(later):] == later if later else True, offset
        if offset in starts:
            assert got == later, offset
        text = notes(events)
        if later:
            assert text and text[0].startswith("joined mid-stream: resynchronised on a frame "
                                               "header after"), offset


def test_join_mid_stream_byte_by_byte() -> None:
    stream, starts, expected = _stream_of_messages()
    offset = starts[3] - 5
    events = bytewise(stream[offset:], from_client=True, synced=False)
    assert summary(events) == expected[3:]
    assert notes(events) == ["joined mid-stream: resynchronised on a frame header after 5 bytes"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=8),
       st.booleans(), st.booleans(), st.booleans())
def test_garbage_never_raises_and_stays_bounded(data: bytes, cuts: list[int], from_client: bool,
                                                synced: bool, deflate: bool) -> None:
    r = WebSocketReader(from_client=from_client, synced=synced, limit=64,
                        deflate=Deflate() if deflate else None)
    prev = 0
    for i, cut in enumerate(sorted(cuts)):
        r.feed(data[prev:cut], i)
        if i % 3 == 2:
            r.gap(cut % 7, i)
        prev = max(prev, cut)
    events = r.feed(data[prev:], 99) + r.close(100)
    for m in events:
        if isinstance(m, WsMessage):
            assert len(m.data) <= 64 and m.size >= len(m.data)


def test_gap_while_resynchronising_rescans_from_the_new_bytes() -> None:
    r = WebSocketReader(from_client=False, synced=False)
    # a candidate header waiting for its confirmation, then a gap: the scan starts afresh
    waiting = frame(Opcode.BINARY, b"\xff" * 300)[:104]  # its payload is no frame header
    events = r.feed(b"\xff" * 40 + waiting, 1) + r.gap(100, 2)
    tail = b"\xff" + frame(Opcode.TEXT, b"after") + frame(Opcode.PING, b"")
    events += r.feed(tail, 3) + r.close(4)
    assert summary(events) == [t(b"after"), ("ping", b"", 0, False, False, None, "")]
