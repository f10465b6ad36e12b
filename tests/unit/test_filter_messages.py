"""The filter language over WebSocket messages and server-sent events: the exchange-level
fields (``ws.text``, ``ws.opcode``, ``sse.event``, ``messages``), the message-level filter of
a messages view, their errors (column-precise) and the generated help."""

from __future__ import annotations

import pytest

from httptap.filter import FilterError, compile_filter, compile_message_filter, help_text
from httptap.filter.help import MESSAGE_EXAMPLES
from httptap.filter.message_fields import EXCHANGE_FIELDS, MESSAGE_FIELDS
from httptap.model import Exchange, Message, Request, Response


def _ws(*messages: Message) -> Exchange:
    return Exchange(id="ws", request=Request(method="GET", path="/chat", authority="a"),
                    response=Response(status=101), complete=True, messages=list(messages))


MESSAGES = {
    "hello": Message(direction="sent", opcode="text", data=b"hello there", size=11),
    "reply": Message(direction="received", opcode="text", data=b'{"error": "nope"}', size=17,
                     compressed=True),
    "blob": Message(direction="received", opcode="binary", data=b"\x89PNG\x00\xff", size=4000,
                    truncated=True),
    "ping": Message(direction="sent", opcode="ping", data=b"", size=0),
    "close": Message(direction="received", opcode="close", data=b"\x03\xe9bye", size=5,
                     close_code=1001, close_reason="going away"),
    "tick": Message(proto="sse", direction="received", opcode="event", data=b"42", size=2,
                    sse_event="tick", sse_id="7"),
    "plain": Message(proto="sse", direction="received", opcode="event", data=b"hi", size=2),
}
ALL = frozenset(MESSAGES)

MESSAGE_VALID: list[tuple[str, set[str]]] = [
    ("", set(ALL)),
    ("opcode=text", {"hello", "reply"}),
    ("opcode=text and text~hello", {"hello"}),
    ("opcode=text and text~HELLO", {"hello"}),
    ("direction=sent", {"hello", "ping"}),
    ("direction=out", {"hello", "ping"}),
    ("direction=in and opcode!=event", {"reply", "blob", "close"}),
    ("size>1k", {"blob"}),
    ("size<=2", {"ping", "tick", "plain"}),
    ("proto=sse", {"tick", "plain"}),
    ("proto=ws and not opcode=ping", {"hello", "reply", "blob", "close"}),
    ("event=message", {"plain"}),
    ("event", {"tick", "plain"}),
    ("sse.id=7", {"tick"}),
    ("close.code=1001", {"close"}),
    ("close.code!=1000", {"close"}),
    ("close.reason contains away", {"close"}),
    ("compressed", {"reply"}),
    ("truncated=true", {"blob"}),
    ("text~^\\x89PNG", {"blob"}),  # not UTF-8: matched byte for byte
    ("error", {"reply"}),  # a word alone: the data contains it
    ('"hello there"', {"hello"}),
    ("not error", ALL - {"reply"}),
]


@pytest.mark.parametrize(("text", "expected"), MESSAGE_VALID, ids=[t for t, _ in MESSAGE_VALID])
def test_message_filter(text: str, expected: set[str]) -> None:
    flt = compile_message_filter(text)
    assert {name for name, m in MESSAGES.items() if flt.matches(m)} == expected
    tree = flt.tree
    if tree is not None:  # the tree's text reads back to the same meaning
        again = compile_message_filter(str(tree))
        assert {name for name, m in MESSAGES.items() if again(m)} == expected


CHAT = _ws(MESSAGES["hello"], MESSAGES["reply"], MESSAGES["close"])
BINARY = _ws(MESSAGES["blob"], MESSAGES["ping"])
EVENTS = _ws(MESSAGES["tick"], MESSAGES["plain"])
EVENTS.response = Response(status=200, headers=[("content-type", "text/event-stream")])
PLAIN = _ws()
PLAIN.response = Response(status=200)
EXCHANGES = {"chat": CHAT, "binary": BINARY, "events": EVENTS, "plain": PLAIN}

EXCHANGE_VALID: list[tuple[str, set[str]]] = [
    ("ws.text~hello", {"chat"}),
    ('ws.text~"error"', {"chat"}),
    ("ws.text~42", set()),  # SSE data is not a WebSocket text
    ("ws.text", {"chat"}),
    ("ws.opcode=binary", {"binary"}),
    ("ws.opcode=close", {"chat"}),
    ("ws.opcode!=close", {"binary"}),  # none of its messages is a close; no messages: false
    ("ws.opcode", {"chat", "binary"}),
    ("sse.event=tick", {"events"}),
    ("sse.event=message", {"events"}),
    ("sse.event~^ti", {"events"}),
    ("messages>2", {"chat"}),
    ("messages=0", {"plain"}),
    ("status=101 and ws.text contains there", {"chat"}),
    ("not ws.opcode", {"events", "plain"}),
]


@pytest.mark.parametrize(("text", "expected"), EXCHANGE_VALID, ids=[t for t, _ in EXCHANGE_VALID])
def test_exchange_fields_over_messages(text: str, expected: set[str]) -> None:
    flt = compile_filter(text)
    assert {name for name, ex in EXCHANGES.items() if flt.matches(ex)} == expected


INVALID: list[tuple[str, int, str]] = [
    ("opcode=txt", 7, "one of text, binary"),
    ("direction=up", 10, "one of sent, send"),
    ("size>1q", 5, "a size"),
    ("opcode=text and close.code>x", 27, "a number"),
    ("compressed=maybe", 11, "true or false"),
    ("text<foo", 4, "= != ~ !~ or contains (text is a text field)"),
    ("status=200", 0, "a field name"),  # exchange fields are not message fields
    ("opcdoe=text", 0, "a field name such as opcode"),
    ("text~(", 5, "a valid regular expression"),
]


@pytest.mark.parametrize(("text", "column", "expected"), INVALID, ids=[t for t, _, _ in INVALID])
def test_invalid_message_filter(text: str, column: int, expected: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_message_filter(text)
    assert (info.value.text, info.value.column) == (text, column)
    assert info.value.expected.startswith(expected)


@pytest.mark.parametrize(("text", "column", "expected"), [
    ("ws.opcode=txt", 10, "one of text, binary"),
    ("ws.opcdoe=text", 0, "a field name such as ws.opcode"),
    ("messages>lots", 9, "a number"),
    ("opcode=text", 0, "a field name"),  # message fields are not exchange fields
])  # fmt: skip
def test_invalid_exchange_message_fields(text: str, column: int, expected: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    assert info.value.column == column and info.value.expected.startswith(expected)


def test_help_lists_the_message_fields_and_examples() -> None:
    text = help_text()
    for f in (*EXCHANGE_FIELDS, *MESSAGE_FIELDS):
        assert f.title in text and f.doc in text and f.example in text
    assert "Message fields" in text
    for example in MESSAGE_EXAMPLES:
        assert example in text


@pytest.mark.parametrize("example", [f.example for f in MESSAGE_FIELDS] + list(MESSAGE_EXAMPLES))
def test_every_message_example_compiles(example: str) -> None:
    compile_message_filter(example)


@pytest.mark.parametrize("example", [f.example for f in EXCHANGE_FIELDS])
def test_every_exchange_message_field_example_compiles(example: str) -> None:
    compile_filter(example)


def test_message_filter_basics() -> None:
    empty = compile_message_filter("  ")
    assert empty.empty and empty.matches(MESSAGES["ping"]) and "MessageFilter" in repr(empty)
    assert not compile_message_filter("ping").empty
