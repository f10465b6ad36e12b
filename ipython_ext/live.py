"""Terminal IPython: a Rich ``Live`` table that holds the terminal until Ctrl-C or the end."""

from __future__ import annotations

import time

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from .handle import CaptureHandle

#: Most redraws per second; more only costs CPU in the terminal.
REFRESH_PER_SECOND = 4.0
_HINT = "Ctrl-C: back to the prompt (the capture goes on; %httptap stop ends it)"


class LiveView:
    """Draws ``handle``'s table in place until Ctrl-C, or until the capture ends.

    ``run`` returns ``"interrupted"`` (Ctrl-C: the capture goes on in the background) or
    ``"ended"`` (``--duration``, ``--count``, the process exited, or a stop).
    """

    def __init__(
        self,
        handle: CaptureHandle,
        console: Console | None = None,
        refresh_per_second: float = REFRESH_PER_SECOND,
    ) -> None:
        self.handle = handle
        self.console = console or Console()
        self.interval = 1.0 / refresh_per_second
        self.frames = 0

    def rows(self) -> int:
        """Table rows that fit the terminal: title, header, caption and hint take six lines."""
        return max(self.console.height - 7, 3)

    def render(self) -> Group:
        """The table and, while it runs, the hint line."""
        table = self.handle.rich_table(self.rows(), width=self.console.width)
        if self.handle.running:
            return Group(table, Text(_HINT, style="dim"))
        return Group(table)

    def run(self) -> str:
        """Hold the terminal, redrawing at most ``refresh_per_second`` times a second."""
        handle = self.handle
        seen = -1
        last = 0.0
        # auto_refresh off: we redraw on change (and once a second for the clock), so an idle
        # capture costs nothing and a busy one at most REFRESH_PER_SECOND redraws a second.
        with Live(
            self.render(),
            console=self.console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live:
            try:
                while handle.running:
                    handle.wait_changed(seen, timeout=1.0)
                    now = time.monotonic()
                    wait = self.interval - (now - last)
                    if wait > 0:
                        time.sleep(wait)  # rate limit: let changes pile up into one frame
                    seen = handle.version
                    live.update(self.render(), refresh=True)
                    self.frames += 1
                    last = time.monotonic()
            except KeyboardInterrupt:
                live.update(self.render(), refresh=True)
                return "interrupted"
            live.update(self.render(), refresh=True)
            self.frames += 1
        return "ended"
