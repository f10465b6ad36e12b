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
from textual.widgets import DataTable, Input, Static

from httptap.filter import FilterError, MessageFilter, compile_message_filter
from httptap.model import Exchange, Message
from httptap.present.messages import message_data, message_row
from httptap.ui.body_view import BodyView

#: rows shown at most (the newest); the exchange keeps every message
MAX_ROWS = 5000
_ARROW_STYLE = {"sent": "bold green", "received": "bold red"}
_COLUMNS = ("", "Time", "Opcode", "Size", "Data")


class MessagesPane(Vertical):
    """The messages of one exchange, filtered, newest last."""

    DEFAULT_CSS = """
    MessagesPane #messages-bar { height: 1; }
    MessagesPane #messages-filter { width: 1fr; }
    MessagesPane #messages-count { width: auto; padding: 0 1; color: $text-muted; }
    MessagesPane #messages-table { height: 2fr; }
    MessagesPane #message-data { height: 1fr; border-top: solid $panel; }
    """

    def __init__(self, exchange: Exchange, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.exchange = exchange
        self.filter: MessageFilter = compile_message_filter("")
        self.shown: list[Message] = []  # the rows, in order
        self._seen = 0  # messages of the exchange considered so far
        self._filtered_out = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="messages-bar"):
            yield Input(placeholder="filter messages: opcode=text and text~foo, direction=sent",
                        id="messages-filter", compact=True)
            yield Static("", id="messages-count")
        table: DataTable[Text | str] = DataTable(id="messages-table", cursor_type="row")
        table.add_columns(*_COLUMNS)
        yield table
        yield BodyView(id="message-data")

    def on_mount(self) -> None:
        self.sync()

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
        table = self.query_one(DataTable)
        at_end = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        fresh = messages[self._seen :]
        self._seen = len(messages)
        for msg in fresh:
            if self._passes(msg):
                self._add_row(table, msg)
            else:
                self._filtered_out += 1
        while table.row_count > MAX_ROWS:
            table.remove_row(table.ordered_rows[0].key)
            self.shown.pop(0)
        if fresh and at_end and table.row_count:
            table.move_cursor(row=table.row_count - 1)
        self._show_count()

    def _rebuild(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.shown = []
        self._seen = 0
        self._filtered_out = 0
        self.query_one("#message-data", BodyView).set_text("")
        self.sync()

    def _passes(self, msg: Message) -> bool:
        try:
            return self.filter.matches(msg)
        except Exception:  # a filter bug must not break the view
            return False

    def _add_row(self, table: DataTable[Text | str], msg: Message) -> None:
        row = message_row(msg)
        table.add_row(
            Text(row.arrow, style=_ARROW_STYLE.get(row.direction, "")),
            Text(row.time, style="dim"),
            row.opcode,
            Text(row.size, justify="right"),
            Text(row.preview, style="italic" if row.binary else ""),
        )
        self.shown.append(msg)

    def _show_count(self) -> None:
        total = len(self.exchange.messages)
        text = f"{len(self.shown)}/{total}" if self._filtered_out else f"{total}"
        self.query_one("#messages-count", Static).update(f"{text} message(s)")

    # -- events -------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#messages-table")
    def _on_highlight(self, event: DataTable.RowHighlighted) -> None:
        i = event.cursor_row
        if not 0 <= i < len(self.shown):
            return
        msg = self.shown[i]
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
