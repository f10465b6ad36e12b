"""Rate limits for what the server sends unasked (notifications, editor refreshes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("httptap.lsp")


class Throttle:
    """Calls ``fn`` on the loop at most once per ``interval`` seconds, however often kicked."""

    def __init__(self, fn: Callable[[], None], interval: Callable[[], float]) -> None:
        self._fn = fn
        self._interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._last = 0.0

    def kick(self) -> None:
        """Have ``fn`` run once the interval since its last run has passed."""
        if self._handle is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last + self._interval() - loop.time())
        self._handle = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._last = asyncio.get_running_loop().time()
        try:
            self._fn()
        except Exception:  # a failed refresh must not stop later ones
            log.exception("httptap-lsp: periodic update failed")
