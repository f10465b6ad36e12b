"""The terminal UI's Messages tab (WebSocket, SSE) and the live message count in the list,
driven by Textual's Pilot over a fake capture."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from httptap.model import Message, Response
from httptap.records import Completed
from httptap.records import Message as MessageRecord
from httptap.ui.body_view import BodyView
from httptap.ui.message_list import MAX_ROWS, MessageList
from httptap.ui.messages_pane import MessagesPane
from tests.unit.test_tui_app import _detail, make_exchange, run, screen_text, wait_for


def _chat():
    ex = make_exchange(1, status=101, path="/chat", resp_body=b"")
    ex.response = Response(status=101, reason="Switching Protocols",
                           headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")])
    return ex


def _msg(n: int, direction: str = "received", opcode: str = "text", data: bytes = b"") -> Message:
    data = data or b"message %d" % n
    return Message(id=f"1.{n}", exchange_id="1", direction=direction, opcode=opcode, data=data,
                   size=len(data), wall=1.7e9 + n)


def _table(app) -> MessageList:
    return app.screen.query_one("#messages-list", MessageList)


def test_messages_tab_shows_rows_live_and_the_list_counts_them():
    async def body(pilot, app, cap):
        ex = _chat()
        cap.push(Completed(ex))
        await wait_for(pilot, lambda: len(app.store) == 1)
        assert "⇅" not in screen_text(app)
        # through the helper a message comes alone (no exchange): the store joins it
        cap.push(MessageRecord(_msg(1, "sent", data=b"hello server")),
                 MessageRecord(_msg(2, data=b'{"reply": "hi"}')))
        await wait_for(pilot, lambda: "⇅ 2" in screen_text(app))
        await pilot.press("enter", "7")
        detail = _detail(app)
        assert detail.active_tab == "messages"
        await wait_for(pilot, lambda: _table(app).row_count == 2)
        text = screen_text(app)
        assert "↑" in text and "↓" in text and "hello server" in text and "text" in text
        assert "2 message(s)" in text
        # live: a new message appears while the tab is open, and the cursor follows it
        cap.push(MessageRecord(_msg(3, opcode="binary", data=b"\x00\x01\xfe")))
        await wait_for(pilot, lambda: _table(app).row_count == 3)
        assert "00 01 fe" in screen_text(app) and _table(app).cursor == 2
        data = app.screen.query_one("#message-data", BodyView)
        assert "00000000  00 01 fe" in data.text
        await pilot.press("up")  # the previous message's whole data, pretty JSON
        await wait_for(pilot, lambda: '"reply": "hi"' in data.text)
        await pilot.press("escape")
        assert "⇅ 3" in screen_text(app)

    run(body, size=(120, 30))


def test_message_filter_narrows_rows_and_shows_errors():
    async def body(pilot, app, cap):
        ex = _chat()
        ex.messages = [_msg(1, "sent", data=b"ping me"), _msg(2, data=b"foo bar"),
                       _msg(3, opcode="ping", data=b"")]
        cap.push(Completed(ex))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("enter", "7")
        await wait_for(pilot, lambda: _table(app).row_count == 3)
        box = app.screen.query_one("#messages-filter", Input)
        box.value = "opcode=text and text~foo"
        await wait_for(pilot, lambda: _table(app).row_count == 1)
        assert "1/3 message(s)" in screen_text(app)
        box.value = "direction=sideways"
        await wait_for(pilot, lambda: "expected one of sent" in screen_text(app))
        assert _table(app).row_count == 1  # the last good filter stays
        box.value = "direction=sent"
        await wait_for(pilot, lambda: _table(app).row_count == 1)
        assert app.screen.query_one(MessagesPane).shown[0].id == "1.1"
        box.value = ""
        await wait_for(pilot, lambda: _table(app).row_count == 3)

    run(body, size=(120, 30))


def test_messages_tab_is_hidden_for_plain_http_and_appears_with_an_event_stream():
    async def body(pilot, app, cap):
        cap.push(Completed(make_exchange(1)))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("enter", "7")
        detail = _detail(app)
        assert detail.active_tab == "headers"
        tabs = detail.query_one(TabbedContent)
        assert tabs.get_tab("messages").display is False
        await pilot.press("escape")
        sse = make_exchange(2, resp_headers=[("Content-Type", "text/event-stream")])
        sse.messages.append(Message(id="2.1", exchange_id="2", proto="sse", opcode="event",
                                    sse_event="tick", data=b"42", size=2))
        cap.push(Completed(sse))
        await wait_for(pilot, lambda: len(app.store) == 2)
        await pilot.press("enter", "7")
        assert _detail(app).active_tab == "messages"
        await wait_for(pilot, lambda: _table(app).row_count == 1)
        assert "tick" in screen_text(app)

    run(body, size=(120, 30))


def test_a_long_chat_keeps_the_newest_rows_and_follows_them():
    async def body(pilot, app, cap):
        ex = _chat()
        ex.messages = [_msg(n) for n in range(MAX_ROWS - 2)]
        cap.push(Completed(ex))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("enter", "7")
        rows = _table(app)
        await wait_for(pilot, lambda: rows.row_count == MAX_ROWS - 2)
        cap.push(*(MessageRecord(_msg(n)) for n in range(MAX_ROWS - 2, MAX_ROWS + 5)))
        await wait_for(pilot, lambda: rows.rows[-1].id == f"1.{MAX_ROWS + 4}")
        assert rows.row_count == MAX_ROWS and rows.cursor == MAX_ROWS - 1
        assert rows.rows[0].id == "1.5"
        assert f"{MAX_ROWS}/{MAX_ROWS + 5} message(s)" in screen_text(app)
        assert f"message {MAX_ROWS + 4}" in screen_text(app)

    run(body, size=(120, 30))
