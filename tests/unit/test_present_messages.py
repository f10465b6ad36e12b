"""A WebSocket message or SSE event as every front end shows it: the row (time, arrow,
opcode, size, one-line preview; text vs hex) and the whole data for a detail pane."""

from __future__ import annotations

import pytest

from httptap.model import Message
from httptap.present.clock import clock
from httptap.present.messages import (
    as_text,
    carries_messages,
    message_count,
    message_data,
    message_preview,
    message_row,
)


def test_text_row() -> None:
    msg = Message(direction="sent", opcode="text", data=b"hello\nworld", size=11, wall=1.5e9)
    row = message_row(msg)
    assert (row.time, row.arrow, row.opcode, row.size) == (clock(1.5e9), "↑", "text", "11B")
    assert (row.preview, row.binary, row.flags) == ("hello world", False, "")


def test_received_binary_row_is_hex() -> None:
    msg = Message(opcode="binary", data=bytes(range(40)), size=5000, truncated=True,
                  compressed=True)
    row = message_row(msg)
    assert row.arrow == "↓" and row.binary and row.size == "4.9K"
    assert row.preview.startswith("00 01 02 03") and row.preview.endswith("…")
    assert row.flags == "compressed, truncated"


@pytest.mark.parametrize(("msg", "preview", "binary"), [
    (Message(opcode="close", close_code=1000, close_reason="bye"), "1000 bye", False),
    (Message(opcode="close"), "close", False),
    (Message(opcode="ping"), "(empty)", False),
    (Message(opcode="binary"), "(empty)", True),
    (Message(opcode="text", data=b"\xff\xfe"), "ff fe", True),  # not UTF-8: hex
    (Message(opcode="text", data=b"x" * 200), "x" * 19 + "…", False),
    (Message(opcode="text", data=b"caf\xc3", truncated=True), "caf…", False),  # cut mid-char
])  # fmt: skip
def test_previews(msg: Message, preview: str, binary: bool) -> None:
    assert message_preview(msg, 20) == (preview, binary)


def test_sse_row_shows_the_event_type() -> None:
    named = Message(proto="sse", opcode="event", sse_event="tick", data=b"42", size=2)
    plain = Message(proto="sse", opcode="event", data=b"hi", size=2)
    assert message_row(named).opcode == "tick" and message_row(plain).opcode == "message"


def test_message_data_pretty_json_hex_and_notes() -> None:
    js = message_data(Message(opcode="text", data=b'{"a": 1}', size=8))
    assert js.kind == "json" and '"a": 1' in js.text and "\n" in js.text
    blob = message_data(Message(opcode="binary", data=b"\x89PNG", size=9000, truncated=True))
    assert blob.kind == "hex" and "89 50 4e 47" in blob.text
    assert any("4B kept of 8.8K" in n for n in blob.notes)
    close = message_data(Message(opcode="close", close_code=1011, close_reason="oops"))
    assert close.text == "1011 oops" and "close code 1011: oops" in close.notes
    assert message_data(Message(opcode="ping")).kind == "empty"
    comp = message_data(Message(opcode="text", data=b"hi", size=2, compressed=True))
    assert comp.text == "hi" and any("permessage-deflate" in n for n in comp.notes)


def test_as_text_and_count() -> None:
    assert as_text(Message(opcode="binary", data=b"abc")) is None
    assert as_text(Message(opcode="text", data=b"abc")) == "abc"
    assert as_text(Message(opcode="text", data=b"\xc3", truncated=False)) is None
    assert message_count(0) == "" and message_count(12) == "⇅ 12"


def test_carries_messages() -> None:
    from httptap.model import Exchange, Request, Response

    plain = Exchange(response=Response(status=200, headers=[("Content-Type", "text/html")]))
    upgrade = Exchange(request=Request(headers=[("Upgrade", "WebSocket")]))
    switched = Exchange(response=Response(status=101))
    events = Exchange(response=Response(status=200,
                                        headers=[("content-type", "text/event-stream; x=1")]))
    some = Exchange(messages=[Message()])
    assert not carries_messages(plain) and not carries_messages(Exchange())
    assert all(carries_messages(ex) for ex in (upgrade, switched, events, some))
