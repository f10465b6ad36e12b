"""The captures one shell has started: numbered, listed, stopped together."""

from __future__ import annotations

import threading

from rich.table import Table

from .handle import CaptureHandle
from .table import TableView


class Registry:
    """Every handle the magic returned in this shell, in start order."""

    def __init__(self) -> None:
        self._handles: list[CaptureHandle] = []
        self._next = 1
        self._lock = threading.Lock()

    def next_number(self) -> int:
        """The number the next capture gets (``httptap #N``)."""
        with self._lock:
            n = self._next
            self._next += 1
            return n

    def add(self, handle: CaptureHandle) -> None:
        """Remember ``handle`` (for list, show, stop and shutdown)."""
        with self._lock:
            self._handles.append(handle)

    @property
    def handles(self) -> list[CaptureHandle]:
        """Every capture started here, running or not, oldest first."""
        with self._lock:
            return list(self._handles)

    def running(self) -> list[CaptureHandle]:
        """The handles still capturing."""
        return [h for h in self.handles if h.running]

    def select(self, pid: int | None) -> list[CaptureHandle]:
        """Handles that trace ``pid`` (all with None), newest first."""
        found = [h for h in self.handles if pid is None or pid in h.pids]
        return found[::-1]

    def stop_all(self, timeout: float = 5.0) -> int:
        """Stop every running capture (unload, shutdown); how many were running."""
        running = self.running()
        for h in running:
            h.request_stop()  # all of them at once, then wait: one detach time, not N
        for h in running:
            h.stop(timeout)
        return len(running)

    def table(self) -> TableView:
        """``%httptap list``: one row per capture."""
        table = Table(title="httptap captures", box=None, header_style="bold", pad_edge=False)
        for name, justify in (
            ("#", "right"), ("pids", "left"), ("state", "left"), ("exchanges", "right"),
            ("pending", "right"), ("filter", "left"), ("saving", "left"),
        ):  # fmt: skip
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for h in self.handles:
            state = h.state()
            table.add_row(
                str(h.number),
                ", ".join(map(str, h.pids)),
                f"[green]{state}[/]" if h.running else state,
                str(h.exchange_count),
                str(len(h.pending)),
                h.filter_text,
                h.save_path or "",
            )
        return TableView(lambda _width: table)
