"""Requests per second over a sliding window, for the status bar."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RateMeter:
    """Counts arrivals and reports their rate over the last ``window`` seconds."""

    def __init__(self, window: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._marks: deque[tuple[float, int]] = deque()
        self._sum = 0
        self._since = clock()

    def add(self, n: int) -> None:
        """Count ``n`` arrivals now."""
        if n > 0:
            self._marks.append((self._clock(), n))
            self._sum += n

    def rate(self) -> float:
        """Arrivals per second over the window (or since the start, when younger)."""
        now = self._clock()
        while self._marks and self._marks[0][0] < now - self.window:
            self._sum -= self._marks.popleft()[1]
        span = min(self.window, max(now - self._since, 1.0))
        return self._sum / span

    def reset(self) -> None:
        """Forget every arrival (after a clear)."""
        self._marks.clear()
        self._sum = 0
