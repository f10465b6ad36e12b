"""The status bar: attach target, shown/total, rate, lost events, filter and modes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import Static

_SEP = (" │ ", "dim")


@dataclass(slots=True)
class Status:
    """Everything the status bar shows."""

    target: str = ""
    shown: int = 0
    total: int = 0
    rate: float = 0.0
    lost: int = 0
    dropped: int = 0
    filter_text: str = ""
    follow: bool = True
    paused: bool = False
    held: int = 0
    exited: int = 0  # traced processes (children included) that exited
    state: str = "live"  # "live", "ended", "loaded" or "error"


def status_text(s: Status) -> Text:
    """One line; the most important facts first, so a narrow terminal cuts the least."""
    out = Text(no_wrap=True, overflow="ellipsis")
    mark = {"live": ("●", "green"), "ended": ("■", "yellow"), "loaded": ("■", "cyan"),
            "error": ("✗", "red")}.get(s.state, ("●", "green"))
    out.append(mark[0] + " ", mark[1])
    out.append(s.target, "bold")
    if s.state == "ended":
        out.append(" (ended)", "yellow")
    out.append(*_SEP)
    out.append(f"{s.shown}/{s.total}")
    out.append(*_SEP)
    out.append(f"{s.rate:.1f} req/s")
    out.append(*_SEP)
    out.append(f"lost {s.lost}", "bold white on red" if s.lost else "dim")
    if s.exited:
        out.append(*_SEP)
        out.append(f"{s.exited} exited", "dim")
    if s.dropped:
        out.append(*_SEP)
        out.append(f"dropped {s.dropped}", "yellow")
    if s.paused:
        out.append(*_SEP)
        out.append(f"PAUSED ({s.held} held)", "bold black on yellow")
    elif not s.follow:
        out.append(*_SEP)
        out.append("follow off (f)", "dim")
    if s.filter_text:
        out.append(*_SEP)
        out.append("filter: ", "dim")
        out.append(s.filter_text, "cyan")
    return out


class StatusBar(Static):
    """Shows a ``Status``; ``show`` redraws only when something changed."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.status = Status()
        self._last: Status | None = None

    def show(self, status: Status) -> None:
        """Show ``status``."""
        self.status = status
        if status != self._last:
            self._last = replace(status)
            self.update(status_text(status))
