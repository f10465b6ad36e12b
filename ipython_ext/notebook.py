"""Jupyter: the table in the cell's output, updated in place from a background thread.

``display(..., display_id=True)`` creates the output once; a daemon thread then calls
``update`` on that display handle when the capture changes, at most ``1 / min_interval``
times a second, so the user can run other cells meanwhile. No ipywidgets needed.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any

from .handle import CaptureHandle
from .table import TableView

#: Fewest seconds between two updates of the output (each is one message to the browser).
MIN_INTERVAL = 0.5
#: Rows shown in the cell's output; ``handle.table(n=None)`` shows all.
ROWS = 25


class NotebookView:
    """Keeps one cell's output showing ``handle``'s table until the capture ends."""

    def __init__(
        self,
        handle: CaptureHandle,
        display: Callable[..., Any] | None = None,
        min_interval: float = MIN_INTERVAL,
        rows: int = ROWS,
    ) -> None:
        if display is None:
            from IPython.display import display
        self.handle = handle
        self.min_interval = min_interval
        self.rows = rows
        self.updates = 0
        self._display = display
        self._dh: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> NotebookView:
        """Show the table now and start updating it."""
        self._dh = self._display(self._view(), display_id=True)
        # The copied context carries the cell's parent header (ipykernel keeps it in a
        # ContextVar), so updates are attributed to the cell that started the capture.
        ctx = contextvars.copy_context()
        self._thread = threading.Thread(
            target=ctx.run,
            args=(self._loop,),
            name=f"httptap-notebook-{self.handle.number}",
            daemon=True,
        )
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the updater to finish (it does once the capture has ended)."""
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def display_id(self) -> str | None:
        """The id of the output being updated (None before ``start``)."""
        return getattr(self._dh, "display_id", None)

    def _view(self) -> TableView:
        return self.handle.table(self.rows)

    def _loop(self) -> None:
        handle = self.handle
        seen = handle.version
        last = time.monotonic()
        while True:
            # Redraw on change, or every few seconds for the clock in the caption.
            handle.wait_changed(seen, timeout=5.0)
            wait = self.min_interval - (time.monotonic() - last)
            if wait > 0:
                time.sleep(wait)  # rate limit: changes meanwhile go into the same update
            seen = handle.version
            ended = not handle.running
            try:
                self._dh.update(self._view())
            except Exception:  # the kernel is shutting down: nothing left to show it to
                return
            self.updates += 1
            last = time.monotonic()
            if ended:
                return
