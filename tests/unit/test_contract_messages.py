"""Message lines of the JSON-lines contract (round 2): keys, encodings, round trip; and the
``"type"`` every line carries."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httptap import contract
from httptap.model import Exchange, Message

_KEYS = ["v", "type", "id", "exchange_id", "pid", "tid", "proto", "direction", "opcode", "data",
         "data_encoding", "size", "truncated", "compressed", "close_code", "close_reason", "sse",
         "time"]


def test_websocket_text_message_line() -> None:
    m = Message(id="m1", exchange_id="7", pid=10, tid=11, direction="sent", opcode="text",
                data="héllo".encode(), size=6, compressed=True, time_ns=5,
                wall=1_765_000_000.25)
    d = contract.message_to_dict(m)
    assert list(d) == _KEYS
    assert d == {
        "v": 1, "type": "message", "id": "m1", "exchange_id": "7", "pid": 10, "tid": 11,
        "proto": "websocket", "direction": "sent", "opcode": "text", "data": "héllo",
        "data_encoding": "utf-8", "size": 6, "truncated": False, "compressed": True,
        "close_code": None, "close_reason": "", "sse": None,
        "time": "2025-12-06T05:46:40.250000Z",
    }


def test_binary_data_is_base64_and_close_fields() -> None:
    m = Message(opcode="binary", data=b"\x00\xff", size=70000, truncated=True)
    d = contract.message_to_dict(m)
    assert (d["data"], d["data_encoding"], d["size"], d["truncated"]) == ("AP8=", "base64",
                                                                          70000, True)
    c = contract.message_to_dict(Message(opcode="close", data=b"bye", size=3, close_code=1000,
                                         close_reason="bye"))
    assert (c["close_code"], c["close_reason"], c["time"]) == (1000, "bye", None)


def test_sse_message_line() -> None:
    m = Message(proto="sse", opcode="event", data=b"{}", size=2, sse_id="4",
                sse_event="update", sse_retry=3000, wall=1_765_000_000.0)
    d = contract.message_to_dict(m)
    assert d["sse"] == {"id": "4", "event": "update", "retry": 3000}
    assert contract.message_from_dict(json.loads(json.dumps(d))) == Message(
        proto="sse", opcode="event", data=b"{}", size=2, sse_id="4", sse_event="update",
        sse_retry=3000, wall=1_765_000_000.0, time_ns=1_765_000_000_000_000_000)


_MESSAGES = st.builds(
    Message,
    id=st.text(max_size=5), exchange_id=st.text(max_size=5), pid=st.integers(0, 2**22),
    tid=st.integers(0, 2**22), proto=st.sampled_from(["websocket", "sse"]),
    direction=st.sampled_from(["sent", "received"]),
    opcode=st.sampled_from(["text", "binary", "ping", "pong", "close", "event"]),
    data=st.binary(max_size=50) | st.text(max_size=50).map(str.encode),
    size=st.integers(0, 2**40), truncated=st.booleans(), compressed=st.booleans(),
    close_code=st.none() | st.integers(1000, 4999), close_reason=st.text(max_size=10),
    wall=st.none() | st.integers(0, 4_000_000_000_000_000).map(lambda us: us / 1e6),
)


@settings(max_examples=200, deadline=None)
@given(_MESSAGES)
def test_round_trip(m: Message) -> None:
    if m.proto != "sse":
        m.sse_id = m.sse_event = m.sse_retry = None
    line = json.dumps(contract.message_to_dict(m), ensure_ascii=False)
    back = contract.message_from_dict(json.loads(line))
    assert back.wall == (None if m.wall is None else pytest.approx(m.wall, abs=1e-6))
    m.wall = back.wall
    m.time_ns = back.time_ns
    assert back == m


def test_message_from_dict_refuses_other_lines() -> None:
    ex_line = contract.to_dict(Exchange(id="1"))
    with pytest.raises(ValueError, match="not a message line"):
        contract.message_from_dict(ex_line)
    with pytest.raises(ValueError, match="version"):
        contract.message_from_dict({"v": 2, "type": "message"})
    with pytest.raises(ValueError, match="not an exchange line"):
        contract.from_dict(contract.message_to_dict(Message()))


def test_exchange_lines_carry_their_type_and_no_messages_key() -> None:
    d = contract.to_dict(Exchange(id="1"))
    assert list(d)[:3] == ["v", "type", "id"] and d["type"] == "exchange"
    assert json.loads(contract.to_json(Exchange(id="1"))) == d
    assert contract.from_dict(d).messages == []


def test_load_jsonl_puts_message_lines_on_their_exchange(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from httptap.export.jsonl import load_jsonl

    sse = Message(id="1.1", exchange_id="1", proto="sse", opcode="event", data=b"early",
                  size=5, sse_event="message", wall=2.0)
    ws = Message(id="1.2", exchange_id="1", opcode="binary", data=b"\xff", size=1, wall=3.0)
    stray = Message(id="9.1", exchange_id="9", data=b"?", size=1)
    lines = [
        contract.message_to_dict(sse),  # SSE events are printed before their exchange line
        contract.to_dict(Exchange(id="1")),
        {"v": 1, "type": "message", "message": contract.message_to_dict(ws)},  # the helper's
        contract.message_to_dict(stray),  # its exchange is not in the file: dropped
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    (ex,) = load_jsonl(path)
    assert [(m.id, m.data, m.wall) for m in ex.messages] == [("1.1", b"early", 2.0),
                                                            ("1.2", b"\xff", 3.0)]
