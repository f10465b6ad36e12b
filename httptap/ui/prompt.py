"""A modal prompt for a file path (where ``s`` saves the HAR file)."""

from __future__ import annotations

import os
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PathPrompt(ModalScreen[tuple[str, bool] | None]):
    """Asks for a path; dismisses with ``(path, overwrite)`` or None when cancelled.

    An existing file is overwritten only when the same path is submitted twice.
    """

    DEFAULT_CSS = """
    PathPrompt { align: center middle; }
    PathPrompt > Vertical {
        width: 90%;
        max-width: 100;
        height: auto;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    PathPrompt #prompt-error { color: $warning; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, default: str) -> None:
        super().__init__()
        self._title = title
        self._default = default
        self._confirm: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title, style="bold"))
            yield Input(self._default, id="prompt-input")
            yield Static(Text("enter: save · esc: cancel"), id="prompt-error")

    def on_mount(self) -> None:
        box = self.query_one("#prompt-input", Input)
        box.focus()
        box.cursor_position = len(box.value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = os.path.expanduser(event.value.strip())
        note = self.query_one("#prompt-error", Static)
        if not path:
            note.update("a file name is needed")
            return
        if os.path.isdir(path):
            note.update(Text(f"{path} is a directory"))
            return
        if os.path.exists(path) and self._confirm != path:
            self._confirm = path
            note.update(Text(f"{path} exists: enter again to overwrite it"))
            return
        self.dismiss((path, os.path.exists(path)))
