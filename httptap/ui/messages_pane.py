"""The Messages tab of a WebSocket or SSE exchange, like the browser's: one row per message
(arrow, time, opcode, size, data), the selected message's whole data below, and a message
filter (the filter language over message fields: ``opcode=text and text~foo``).

Live: ``sync()`` appends the messages that arrived since the last call (the app calls it
once per batch); the cursor follows the newest row while it sits on the last one.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from httptap.filter import FilterError, MessageFilter, compile_message_filter
from httptap.model import Exchange, Message
from httptap.present.messages import message_data, message_row
from httptap.ui.body_view import BodyView
from httptap.ui.message_list import HEADER, MessageList


class MessagesPane(Vertical):
    """The messages of one exchange, filtered, newest last."""

    DEFAULT_CSS = """
    MessagesPane #messages-bar { height: 1; }
    MessagesPane #messages-filter { width: 1fr; }
    MessagesPane #messages-count { width: auto; padding: 0 1; color: $text-muted; }
    MessagesPane #messages-header { height: 1; background: $panel; text-style: bold; }
    MessagesPane #messages-list { height: 2fr; }
    MessagesPane #message-data { height: 1fr; border-top: solid $panel; }
    """

    def __init__(self, exchange: Exchange, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.exchange = exchange
        self.filter: MessageFilter = compile_message_filter("")
        self._seen = 0  # messages of the exchange considered so far
        self._filtered_out = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="messages-bar"):
            yield Input(placeholder="filter messages: opcode=text and text~foo, direction=sent",
                        id="messages-filter", compact=True)
            yield Static("", id="messages-count")
        yield Static(HEADER, id="messages-header")
        yield MessageList(id="messages-list")
        yield BodyView(id="message-data")

    def on_mount(self) -> None:
        self.sync()

    @property
    def shown(self) -> list[Message]:
        """The rows, oldest first."""
        return self.query_one(MessageList).rows

    # -- content ------------------------------------------------------------------------

    def set_exchange(self, ex: Exchange) -> None:
        """Show the messages of ``ex`` (a newer state of the same exchange)."""
        if ex is not self.exchange:
            self.exchange = ex
            self._rebuild()

    def sync(self) -> None:
        """Append the messages that arrived since the last call."""
        messages = self.exchange.messages
        if len(messages) < self._seen:  # not a continuation of what is shown
            self._rebuild()
            return
        fresh = messages[self._seen :]
        self._seen = len(messages)
        if self.filter.empty:
            passing = list(fresh)
        else:
            passing = [m for m in fresh if self._passes(m)]
            self._filtered_out += len(fresh) - len(passing)
        self.query_one(MessageList).extend(passing)
        self._show_count()

    def _rebuild(self) -> None:
        self.query_one(MessageList).clear()
        self._seen = 0
        self._filtered_out = 0
        self.query_one("#message-data", BodyView).set_text("")
        self.sync()

    def _passes(self, msg: Message) -> bool:
        try:
            return self.filter.matches(msg)
        except Exception:  # a filter bug must not break the view
            return False

    def _show_count(self) -> None:
        total = len(self.exchange.messages)
        shown = self.query_one(MessageList).row_count
        text = f"{shown}/{total}" if shown != total else f"{total}"
        self.query_one("#messages-count", Static).update(f"{text} message(s)")

    # -- events -------------------------------------------------------------------------

    @on(MessageList.Highlighted)
    def _on_highlight(self, event: MessageList.Highlighted) -> None:
        msg = event.message
        decoded = message_data(msg)
        head = "\n".join([f"{message_row(msg).arrow} {msg.opcode} · {msg.size} bytes",
                          *decoded.notes])
        self.query_one("#message-data", BodyView).set_text(f"{head}\n\n{decoded.text}")

    @on(Input.Changed, "#messages-filter")
    def _on_filter(self, event: Input.Changed) -> None:
        try:
            flt = compile_message_filter(event.value)
        except FilterError as exc:
            where = f"col {exc.column + 1}: expected {exc.expected}"
            self.query_one("#messages-count", Static).update(Text(where, style="red"))
            return
        self.filter = flt
        self._rebuild()
