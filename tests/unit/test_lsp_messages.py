"""The language server's ``httptap/exchange`` with WebSocket messages and SSE events:
bounded (the newest N, data cut), rendered into ``text``, counted in the summary."""

from __future__ import annotations

import pytest
from httptap.lsp.messages import MAX_MESSAGES, message_item, messages_detail
from httptap.lsp.panel import PanelRequests
from httptap.lsp.state import ServerState
from httptap.lsp.summaries import detail, summary
from pygls.exceptions import JsonRpcInvalidParams

from httptap.model import Exchange, Message, Request, Response
from httptap.records import Completed
from httptap.store import History


def _ws(n: int) -> Exchange:
    ex = Exchange(id="7", request=Request(method="GET", path="/chat", authority="a:1"),
                  response=Response(status=101, reason="Switching Protocols"), complete=True)
    for i in range(1, n + 1):
        ex.messages.append(Message(id=f"7.{i}", exchange_id="7",
                                   direction="sent" if i % 2 else "received", opcode="text",
                                   data=b"message %d" % i, size=len(b"message %d" % i),
                                   wall=1_796_000_000 + i))
    return ex


def test_summary_counts_messages() -> None:
    assert summary(_ws(3))["messages"] == 3 and summary(_ws(0))["messages"] == 0


def test_detail_sends_the_newest_messages_bounded() -> None:
    d = detail(_ws(250))
    assert d["messages_total"] == 250 and d["messages_omitted"] == 50
    assert [m["id"] for m in d["messages"][:2]] == ["7.51", "7.52"]
    assert d["messages"][-1]["id"] == "7.250"
    last = d["messages"][-1]
    assert (last["direction"], last["arrow"], last["kind"], last["preview"]) == (
        "received", "↓", "text", "message 250")
    assert last["time"] == "2026-11-30T00:57:30.000Z"
    assert "Messages (250):" in d["text"] and "… 50 earlier message(s) not sent" in d["text"]
    assert "↓ text" in d["text"] and "message 250" in d["text"]
    assert detail(_ws(5), messages=0)["messages"] == []
    assert len(messages_detail(_ws(MAX_MESSAGES + 10), 10**6)["messages"]) == MAX_MESSAGES
    assert "Messages" not in detail(_ws(0))["text"]


def test_message_data_is_displayable_and_cut() -> None:
    big = Message(id="1", opcode="text", data=b'{"k": "' + b"v" * 9000 + b'"}', size=9009)
    item = message_item(big, data_limit=100)
    assert item["data_kind"] == "json" and len(item["data"]) == 100
    assert item["data_display_truncated"] and len(item["preview"]) <= 120
    blob = message_item(Message(id="2", opcode="binary", data=b"\x00\x01", size=2))
    assert blob["binary"] and blob["data_kind"] == "hex" and "00 01" in blob["data"]
    close = message_item(Message(id="3", opcode="close", close_code=1000, close_reason="bye"))
    assert close["data"] == "1000 bye" and close["close_code"] == 1000
    sse = message_item(Message(id="4", proto="sse", opcode="event", sse_event="tick",
                               sse_id="9", data=b"42", size=2))
    assert sse["kind"] == "tick" and sse["sse"] == {"id": "9", "event": "tick", "retry": None}
    assert sse["time"] is None


def _panel(ex: Exchange) -> PanelRequests:
    panel = PanelRequests()
    panel.state = ServerState(History(10))
    panel.state.apply([Completed(ex)])
    return panel


def test_the_exchange_request_takes_the_message_params() -> None:
    panel = _panel(_ws(30))
    d = panel.exchange({"id": "7", "messages": 5, "messageDataLimit": 3})
    assert [m["id"] for m in d["messages"]] == [f"7.{i}" for i in range(26, 31)]
    assert d["messages"][0]["data"] == "mes" and d["messages"][0]["data_display_truncated"]
    assert len(panel.exchange({"id": "7"})["messages"]) == 30


@pytest.mark.parametrize("bad", [{"messages": -1}, {"messages": "10"},
                                 {"messageDataLimit": True}])
def test_bad_message_params_are_invalid(bad: dict[str, object]) -> None:
    with pytest.raises(JsonRpcInvalidParams):
        _panel(_ws(1)).exchange({"id": "7", **bad})


def test_a_message_changes_the_summary_clients_are_notified_of() -> None:
    from httptap.records import Message as MessageRecord

    panel = _panel(_ws(1))
    changed, _ = panel.state.apply([MessageRecord(Message(id="7.2", exchange_id="7"))])
    assert [summary(ex)["messages"] for ex in changed] == [2]
