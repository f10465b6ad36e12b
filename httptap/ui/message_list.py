"""The rows of a Messages tab (Textual Line API: only the visible rows are rendered).

A chat at 10 000 messages a second adds rows by the thousand per redraw: appending is a list
append and the screen draws what it shows, where a DataTable pays per row added (and per
row removed). The cursor follows the newest row while it sits on the last one.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message as TextualMessage
from textual.scroll_view import ScrollView
from textual.strip import Strip

from httptap.model import Message
from httptap.present.messages import message_row

#: rows kept at most (the newest); the exchange keeps every message
MAX_ROWS = 20_000
_ARROW = {"sent": Style(color="green", bold=True), "received": Style(color="red", bold=True)}
_DIM = Style(dim=True)
_BINARY = Style(italic=True)
_TIME, _OPCODE, _SIZE = 12, 8, 7


#: the column titles, aligned with the rows
HEADER = f"  {'Time':<{_TIME}} {'Opcode':<{_OPCODE}} {'Size':>{_SIZE}}  Data"


def row_segments(msg: Message, width: int) -> list[Segment]:
    """One message as styled cells, exactly ``width`` cells wide."""
    row = message_row(msg, preview=max(width, 1))
    segs = [
        Segment(row.arrow, _ARROW.get(row.direction)),
        Segment(" " + _fit(row.time, _TIME), _DIM),
        Segment(" " + _fit(row.opcode, _OPCODE)),
        Segment(" " + _fit(row.size, _SIZE, right=True) + "  "),
        Segment(row.preview, _BINARY if row.binary else None),
    ]
    return list(Segment.adjust_line_length(segs, width))


class MessageList(ScrollView, can_focus=True):
    """Messages as rows with a cursor; ``Highlighted`` when the cursor moves."""

    DEFAULT_CSS = """
    MessageList { height: 1fr; overflow-x: hidden; overflow-y: auto; background: $surface; }
    MessageList > .message-list--cursor { background: $accent 45%; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"message-list--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "move(0)", "First", show=False),
        Binding("end,G", "move(-1)", "Last", show=False),
    ]

    class Highlighted(TextualMessage):
        """The cursor moved to ``message``."""

        def __init__(self, message: Message) -> None:
            super().__init__()
            self.message = message

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Message] = []
        self.cursor = -1

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows = []
        self.cursor = -1
        self._resize()

    def extend(self, messages: list[Message]) -> None:
        """Append rows; the cursor follows them when it was on the last row (or unset)."""
        if not messages:
            return
        follow = self.cursor >= len(self.rows) - 1
        self.rows.extend(messages)
        cut = len(self.rows) - MAX_ROWS
        if cut > 0:
            del self.rows[:cut]
            self.cursor = max(self.cursor - cut, 0)
        self._resize()
        if follow:
            self.move_to(len(self.rows) - 1)

    def move_to(self, i: int) -> None:
        """Put the cursor on row ``i`` (negative: from the end) and show it."""
        n = len(self.rows)
        if n == 0:
            return
        i = max(0, min(i if i >= 0 else n + i, n - 1))
        changed = i != self.cursor
        self.cursor = i
        top, height = int(self.scroll_offset.y), max(self.scrollable_content_region.height, 1)
        if i < top:
            self.scroll_to(y=i, animate=False, force=True, immediate=True)
        elif i >= top + height:
            self.scroll_to(y=i - height + 1, animate=False, force=True, immediate=True)
        self.refresh()
        if changed:
            self.post_message(self.Highlighted(self.rows[i]))

    def action_cursor(self, step: int) -> None:
        self.move_to(max(self.cursor + step, 0))

    def action_page(self, direction: int) -> None:
        step = max(self.scrollable_content_region.height - 1, 1)
        self.move_to(max(self.cursor + direction * step, 0))

    def action_move(self, i: int) -> None:
        self.move_to(i)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and int(self.scroll_offset.y) + offset.y < len(self.rows):
            self.move_to(int(self.scroll_offset.y) + offset.y)

    def on_resize(self, _event: events.Resize) -> None:
        self._resize()

    def _resize(self) -> None:
        self.virtual_size = Size(max(self.scrollable_content_region.width, 1), len(self.rows))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = max(self.scrollable_content_region.width, 1)
        i = int(self.scroll_offset.y) + y
        base = self.rich_style
        if i >= len(self.rows):
            return Strip.blank(width, base)
        if i == self.cursor:
            cursor = self.get_component_rich_style("message-list--cursor")
            base = base + Style(bgcolor=cursor.bgcolor, bold=cursor.bold)
        return Strip(list(Segment.apply_style(row_segments(self.rows[i], width), base)), width)


def _fit(text: str, width: int, right: bool = False) -> str:
    n = cell_len(text)
    if n > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - n)
    return pad + text if right else text + pad
