"""WebSocket messages and SSE events in HAR: ``_webSocketMessages`` as Chrome writes it,
``_eventSourceMessages`` as Chrome's EventSourceMessage; the file stays valid HAR 1.2, ours
read back exactly, a browser's best effort, and ``--save`` holds a WebSocket entry until its
messages are in."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from httptap import contract
from httptap.export.har import HarWriter, exchange_to_har_entry, load_har
from httptap.export.session import SessionError
from httptap.model import Exchange, Message, Response
from tests.unit.test_filter_samples import samples
from tests.unit.test_har import assert_valid_har

WALL = 1_796_000_000.5


def _ws() -> Exchange:
    ex = samples()["h1_get"]
    ex.id = "ws1"
    ex.response = Response(status=101, reason="Switching Protocols",
                           headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")])
    ex.messages = [
        Message(id="ws1.1", exchange_id="ws1", direction="sent", opcode="text",
                data="héllo".encode(), size=6, wall=WALL + 1, compressed=True),
        Message(id="ws1.2", exchange_id="ws1", direction="received", opcode="binary",
                data=b"\x00\xff\x10", size=70000, truncated=True, wall=WALL + 2),
        Message(id="ws1.3", exchange_id="ws1", direction="sent", opcode="ping", wall=WALL + 3),
        Message(id="ws1.4", exchange_id="ws1", direction="received", opcode="pong",
                wall=WALL + 3.5),
        Message(id="ws1.5", exchange_id="ws1", direction="received", opcode="text",
                data=b"caf\xc3", size=9, truncated=True, wall=WALL + 4),  # cut mid-character
        Message(id="ws1.6", exchange_id="ws1", direction="sent", opcode="close",
                data=b"\x03\xe8done", size=6, close_code=1000, close_reason="done",
                wall=WALL + 5),
    ]
    return _with_pids(ex)


def _sse() -> Exchange:
    ex = samples()["h1_get"]
    ex.id = "sse1"
    assert ex.response is not None
    ex.response.headers = [("Content-Type", "text/event-stream")]
    ex.messages = [
        Message(id="sse1.1", exchange_id="sse1", proto="sse", opcode="event", data=b"42",
                size=2, sse_event="tick", sse_id="7", sse_retry=3000, wall=WALL + 1),
        Message(id="sse1.2", exchange_id="sse1", proto="sse", opcode="event", data=b"hi",
                size=2, wall=WALL + 2),
    ]
    return _with_pids(ex)


def _with_pids(ex: Exchange) -> Exchange:
    for m in ex.messages:  # as the engine labels them
        m.pid, m.tid = ex.connection.pid, ex.connection.tid
    return ex


def test_websocket_messages_as_chrome_writes_them() -> None:
    entry = exchange_to_har_entry(_ws())
    items = entry["_webSocketMessages"]
    assert [(i["type"], i["opcode"]) for i in items] == [
        ("send", 1), ("receive", 2), ("send", 9), ("receive", 10), ("receive", 1), ("send", 8)]
    assert items[0]["time"] == WALL + 1 and items[0]["data"] == "héllo"
    assert base64.b64decode(items[1]["data"]) == b"\x00\xff\x10"  # binary: base64, as CDP
    assert items[1]["_httptap"] == {"id": "ws1.2", "size": 70000, "truncated": True,
                                    "encoding": "base64"}
    assert items[2]["data"] == ""
    assert "_eventSourceMessages" not in entry
    assert_valid_har({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                              "entries": [entry]}})


def test_sse_events_as_chrome_event_source_messages() -> None:
    entry = exchange_to_har_entry(_sse())
    items = entry["_eventSourceMessages"]
    assert {k: items[0][k] for k in ("time", "eventName", "eventId", "data")} == {
        "time": WALL + 1, "eventName": "tick", "eventId": "7", "data": "42"}
    assert items[1]["eventName"] == "message" and items[1]["eventId"] == ""
    assert "_webSocketMessages" not in entry
    plain = exchange_to_har_entry(samples()["h1_get"])
    assert "_webSocketMessages" not in plain and "_eventSourceMessages" not in plain


def _message_dicts(ex: Exchange) -> list[dict]:
    return [contract.message_to_dict(m) for m in ex.messages]


def test_round_trip_keeps_every_message_field(tmp_path: Path) -> None:
    path = tmp_path / "m.har"
    ws, sse = _ws(), _sse()
    with HarWriter(path) as writer:
        writer.add(sse)
        writer.add(ws)
    doc = json.loads(path.read_text())
    assert_valid_har(doc)
    loaded = {ex.id: ex for ex in load_har(path)}
    for original in (ws, sse):
        assert _message_dicts(loaded[original.id]) == _message_dicts(original)
    assert loaded["ws1"].messages[0].time_ns == round((WALL + 1) * 1e9)


def test_a_browsers_websocket_entry_loads_best_effort(tmp_path: Path) -> None:
    entry = exchange_to_har_entry(_ws())
    entry.pop("_httptap")
    for item in entry["_webSocketMessages"]:
        item.pop("_httptap")
    path = tmp_path / "chrome.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "WebInspector",
                                                                       "version": "537.36"},
                                        "entries": [entry]}}))
    (ex,) = load_har(path)
    got = [(m.direction, m.opcode, m.data, m.size) for m in ex.messages]
    assert got[:3] == [("sent", "text", "héllo".encode(), 6),
                       ("received", "binary", b"\x00\xff\x10", 3), ("sent", "ping", b"", 0)]
    assert [m.id for m in ex.messages] == [f"{ex.id}.{i}" for i in range(1, 7)]
    assert ex.messages[0].wall == WALL + 1


def test_malformed_messages_are_a_session_error(tmp_path: Path) -> None:
    entry = exchange_to_har_entry(_ws())
    entry["_webSocketMessages"][0]["opcode"] = "text"
    path = tmp_path / "bad.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "x",
                                                                       "version": "1"},
                                        "entries": [entry]}}))
    with pytest.raises(SessionError, match="entry 0"):
        load_har(path)


def test_writer_holds_a_websocket_entry_until_close_with_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "live.har"
    ws = _ws()
    later = ws.messages[2:]
    ws.messages = ws.messages[:2]
    writer = HarWriter(path)
    writer.add(ws)  # the 101: its messages are still to come
    writer.add(_sse())
    assert [e["_httptap"]["id"] for e in json.loads(path.read_text())["log"]["entries"]] == [
        "sse1"]
    writer.add_message(later[0])  # through the helper: a message alone joins its exchange
    ws.messages.append(later[1])
    writer.add_message(later[1], ws)  # in-process: already on the live exchange
    writer.add_message(Message(id="x.1", exchange_id="unknown"))  # not held: ignored
    writer.close()
    doc = json.loads(path.read_text())
    assert_valid_har(doc)
    entries = {e["_httptap"]["id"]: e for e in doc["log"]["entries"]}
    assert len(entries["ws1"]["_webSocketMessages"]) == 4
    with pytest.raises(ValueError):
        writer.add(_ws())
