"""The IPython handle's WebSocket messages and SSE events: ``exchange.messages`` in-process
and through the helper, ``messages()`` with a message filter, the messages DataFrame, the
table's message count and ``--save`` keeping them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from httptap.ipython_ext.handle import CaptureHandle
from httptap.ipython_ext.table import build_table, render_text

from httptap.export.har import HarWriter
from httptap.filter import FilterError
from httptap.model import Exchange, Message, Response
from httptap.records import Completed
from httptap.records import Message as MessageRecord

from .test_ipython_fakes import FakeCapture, exchange, wait_until


def _ws(i: int) -> Exchange:
    ex = exchange(i, status=101, path="/chat", body=b"")
    ex.response = Response(status=101, reason="Switching Protocols")
    return ex


def _msg(ex_id: str, n: int, direction: str = "received", opcode: str = "text",
         data: bytes = b"") -> Message:
    data = data or b"msg %d" % n
    return Message(id=f"{ex_id}.{n}", exchange_id=ex_id, direction=direction, opcode=opcode,
                   data=data, size=len(data), time_ns=n * 1000, wall=1.7e9 + n)


def _handle(har: HarWriter | None = None) -> tuple[FakeCapture, CaptureHandle]:
    cap = FakeCapture()
    handle = CaptureHandle(cap.start(), [4242], har=har).start()
    return cap, handle


def test_messages_in_process_and_through_the_helper() -> None:
    cap, handle = _handle()
    try:
        live = _ws(1)
        cap.feed(Completed(live))
        live.messages.append(_msg(live.id, 1, "sent", data=b"hello"))  # in-process: on the
        cap.feed(MessageRecord(live.messages[0], live))  # live exchange already
        helper = _ws(2)
        cap.feed(Completed(helper), MessageRecord(_msg(helper.id, 2, opcode="binary",
                                                       data=b"\x00\xff")))
        cap.feed(MessageRecord(_msg(helper.id, 3, opcode="ping", data=b"")))
        wait_until(lambda: len(handle.messages()) == 3)
        by_id = {ex.id: ex for ex in handle.exchanges}
        assert [m.data for m in by_id[live.id].messages] == [b"hello"]
        assert [m.opcode for m in by_id[helper.id].messages] == ["binary", "ping"]
        assert [m.id for m in handle.messages()] == [f"{live.id}.1", f"{helper.id}.2",
                                                      f"{helper.id}.3"]
        assert [m.id for m in handle.messages("direction=sent")] == [f"{live.id}.1"]
        assert [m.id for m in handle.messages("opcode=text and text~hel")] == [f"{live.id}.1"]
        assert [m.opcode for m in handle.messages(exchange=helper.id)] == ["binary", "ping"]
        assert handle.messages(exchange=by_id[live.id])[0].data == b"hello"
        assert handle.messages(exchange="nope") == []
        with pytest.raises(FilterError):
            handle.messages("opcode=txt")
        assert "⇅ 2" in repr(handle.table()) and "⇅ 1" in repr(handle.table())
    finally:
        handle.stop()


def test_messages_dataframe() -> None:
    pytest.importorskip("pandas")
    cap, handle = _handle()
    try:
        ws = _ws(1)
        cap.feed(Completed(ws), MessageRecord(_msg(ws.id, 1, "sent", data=b"hi")),
                 MessageRecord(_msg(ws.id, 2, opcode="binary", data=b"\x89PNG")))
        wait_until(lambda: len(handle.messages()) == 2)
        df = handle.messages_dataframe()
        assert list(df["direction"]) == ["sent", "received"]
        assert list(df["opcode"]) == ["text", "binary"]
        assert df["text"][0] == "hi" and df["text"].isna()[1] and df["data"][1] == b"\x89PNG"
        assert list(df["size"]) == [2, 4] and set(df["exchange_id"]) == {ws.id}
        assert {"time", "message", "truncated", "compressed"} <= set(df.columns)
        assert len(handle.messages_dataframe("opcode=binary")) == 1
        assert list(handle.to_dataframe()["messages"]) == [2]
    finally:
        handle.stop()


def test_messages_dataframe_without_pandas_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _cap, handle = _handle()
    handle.stop()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="messages_dataframe\\(\\) needs pandas"):
        handle.messages_dataframe()


def test_save_keeps_the_messages_of_a_websocket(tmp_path: Path) -> None:
    path = tmp_path / "s.har"
    cap, handle = _handle(HarWriter(path))
    ws = _ws(1)
    cap.feed(Completed(ws), MessageRecord(_msg(ws.id, 1)))  # one batch: the 101, then one
    cap.feed(MessageRecord(_msg(ws.id, 2)))
    wait_until(lambda: len(handle.messages()) == 2)
    handle.stop()
    doc = json.loads(path.read_text())
    (entry,) = doc["log"]["entries"]
    assert [m["data"] for m in entry["_webSocketMessages"]] == ["msg 1", "msg 2"]


def test_the_table_shows_the_count_in_the_size_column() -> None:
    ws = _ws(1)
    ws.messages = [_msg(ws.id, n) for n in range(1, 13)]
    text = render_text(build_table([ws, exchange(2)]), width=120)
    assert "⇅ 12" in text and "12B" in text
