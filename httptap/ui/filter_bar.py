"""The filter prompt (``/``): the filter language, checked as you type, caret under errors."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from httptap.filter import Filter, FilterError, compile_filter


class FilterBar(Vertical):
    """An input line and, below it, the error of the filter typed so far."""

    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; background: $panel; }
    FilterBar.-open { display: block; }
    FilterBar #filter-line { height: 1; }
    FilterBar #filter-label { width: auto; padding: 0 0 0 1; color: $accent; text-style: bold; }
    FilterBar #filter-input { width: 1fr; }
    FilterBar #filter-error { height: auto; color: $error; padding: 0 1; display: none; }
    FilterBar #filter-error.-shown { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Close")]

    class Applied(Message):
        """A filter that compiled was submitted."""

        def __init__(self, flt: Filter) -> None:
            super().__init__()
            self.filter = flt

    class Closed(Message):
        """The bar closed (applied or cancelled)."""

    _error = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-line"):
            yield Static("filter ", id="filter-label")
            yield Input(placeholder="e.g. status>=400 and host~api (enter: apply, esc: close)",
                        id="filter-input", compact=True)
        yield Static(id="filter-error")

    @property
    def is_open(self) -> bool:
        """Whether the bar is shown."""
        return self.has_class("-open")

    @property
    def error_text(self) -> str:
        """The error shown now ("" when the filter typed so far is fine)."""
        return self._error

    def open(self, text: str) -> None:
        """Show the bar with ``text`` to edit."""
        self.add_class("-open")
        box = self.query_one("#filter-input", Input)
        box.value = text
        box.cursor_position = len(text)
        box.focus()
        self._check(text)

    def close(self) -> None:
        """Hide the bar (the filter in force stays as it was)."""
        self.remove_class("-open")
        self.post_message(self.Closed())

    def show_error(self, message: str) -> None:
        """Show ``message`` under the input ("" hides it)."""
        self._error = message
        err = self.query_one("#filter-error", Static)
        if message:
            err.update(Text(message))
            err.add_class("-shown")
        else:
            err.update("")
            err.remove_class("-shown")

    def action_cancel(self) -> None:
        self.close()

    def _check(self, text: str) -> Filter | None:
        try:
            flt = compile_filter(text)
        except FilterError as exc:
            self.show_error(str(exc))
            return None
        self.show_error("")
        return flt

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        flt = self._check(event.value)
        if flt is not None:
            self.post_message(self.Applied(flt))
            self.close()
