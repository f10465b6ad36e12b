"""The scrolling list of exchanges (Textual Line API: only visible rows are rendered).

The widget reads the store's view; the app calls ``sync()`` once per batch of records, so
1000 new rows cost one refresh, not 1000. While ``follow`` is on the cursor sits on the
newest row; moving up (keys, mouse wheel, a click) turns it off, reaching the end or ``f``
turns it on again. When old rows are dropped or a filter changes, the selected exchange and
the rows on screen stay where they were.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from httptap.model import Exchange
from httptap.ui.columns import Layout, header_segments, layout_for, row_segments
from httptap.ui.view import ExchangeView


class ColumnHeader(Widget):
    """The column titles above the list."""

    DEFAULT_CSS = """
    ColumnHeader { height: 1; background: $panel; }
    """

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y or width <= 0:
            return Strip.blank(width, self.rich_style)
        segs = Segment.apply_style(header_segments(layout_for(width)), self.rich_style)
        return Strip(list(segs), width)


class ExchangeList(ScrollView, can_focus=True):
    """Rows of the store's view with a cursor and follow-tail."""

    DEFAULT_CSS = """
    ExchangeList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    ExchangeList > .exchange-list--cursor {
        background: $accent 45%;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"exchange-list--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "select", "Detail"),
    ]

    follow: reactive[bool] = reactive(True)

    class Selected(Message):
        """The user opened an exchange (enter or double click)."""

        def __init__(self, exchange: Exchange) -> None:
            super().__init__()
            self.exchange = exchange

    class FollowChanged(Message):
        """``follow`` was switched on or off."""

        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(self, store: ExchangeView, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.cursor = -1
        self._cursor_seq: int | None = None
        self._top_seq: int | None = None
        self._layout: Layout | None = None

    # -- model --------------------------------------------------------------------------

    @property
    def selected(self) -> Exchange | None:
        """The exchange under the cursor."""
        view = self.store.view
        return view[self.cursor].ex if 0 <= self.cursor < len(view) else None

    def sync(self, *, reveal: bool = False) -> None:
        """Catch up with the store after it changed (new rows, drops, filter, clear).

        ``reveal`` scrolls the cursor into view (after a filter change); otherwise the rows
        on screen stay put, wherever the user scrolled to.
        """
        view = self.store.view
        n = len(view)
        self.virtual_size = Size(self._width(), n)
        if n == 0:
            self.cursor = -1
            self._cursor_seq = self._top_seq = None
            self.scroll_to(y=0, animate=False, force=True)
        elif self.follow:
            self._set_cursor(n - 1)
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        else:
            if self._cursor_seq is None:
                self._set_cursor(0)
            else:
                i = self.store.index_of(self._cursor_seq)
                if i is None:  # its row was dropped or filtered out: take the next one
                    i = min(self.store.index_at_or_after(self._cursor_seq), n - 1)
                self._set_cursor(i)
            if self._top_seq is not None:
                top = self.store.index_at_or_after(self._top_seq)
                self.scroll_to(y=top, animate=False, force=True)
            if reveal:
                self._ensure_visible()
        self._remember_top()
        self.refresh()

    def _set_cursor(self, i: int) -> None:
        view = self.store.view
        if not view:
            self.cursor, self._cursor_seq = -1, None
            return
        i = max(0, min(i, len(view) - 1))
        if i != self.cursor:
            self.refresh()
        self.cursor = i
        self._cursor_seq = view[i].seq

    def _remember_top(self) -> None:
        view = self.store.view
        top = int(self.scroll_offset.y)
        self._top_seq = view[top].seq if 0 <= top < len(view) else None

    def _width(self) -> int:
        return max(self.scrollable_content_region.width, 1)

    def _height(self) -> int:
        return max(self.scrollable_content_region.height, 1)

    # -- movement -----------------------------------------------------------------------

    def move_to(self, i: int) -> None:
        """Put the cursor on row ``i``; follow is on exactly when that is the last row."""
        n = self.store.shown
        if n == 0:
            return
        i = max(0, min(i, n - 1))
        self._set_cursor(i)
        self.follow = i == n - 1
        self._ensure_visible()

    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(self._height() - 1, 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.store.shown - 1)

    def action_select(self) -> None:
        ex = self.selected
        if ex is not None:
            self.post_message(self.Selected(ex))

    def _ensure_visible(self) -> None:
        top = int(self.scroll_offset.y)
        height = self._height()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, force=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, force=True)
        self.refresh()

    def watch_follow(self, follow: bool) -> None:
        if follow and self.store.shown:
            self._set_cursor(self.store.shown - 1)
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
            self.refresh()
        self.post_message(self.FollowChanged(follow))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._remember_top()

    def on_mouse_scroll_up(self, _event: events.MouseScrollUp) -> None:
        self.follow = False

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = int(self.scroll_offset.y) + offset.y
        if row >= self.store.shown:
            return
        self.move_to(row)
        if event.chain >= 2:
            self.action_select()

    def on_resize(self, _event: events.Resize) -> None:
        self.sync()

    # -- rendering ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self._width()
        base = self.rich_style
        i = int(self.scroll_offset.y) + y
        view = self.store.view
        if i >= len(view):
            return Strip.blank(width, base)
        layout = self._layout
        if layout is None or layout.width != width:
            layout = self._layout = layout_for(width)
        if i == self.cursor:
            cursor = self.get_component_rich_style("exchange-list--cursor")
            base = base + Style(bgcolor=cursor.bgcolor, bold=cursor.bold)
        segs = Segment.apply_style(row_segments(view[i].ex, layout), base)
        return Strip(list(segs), width)
