"""One line per exchange, sized to a terminal width (80 columns by default)."""

from __future__ import annotations

from httptap.model import Exchange
from httptap.present.clock import clock
from httptap.present.units import human_ms, human_size

_FIXED = 12 + 1 + 7 + 1 + 7 + 1 + 1 + 3 + 1 + 8 + 1 + 7  # every column but the URL


def format_line(ex: Exchange, width: int = 80) -> str:
    """``time pid method host/path status latency size`` in exactly ``width`` columns or less."""
    room = max(width - _FIXED, 10)
    target = ex.host + (ex.request.path or "?")
    if ex.connection.tls:
        target = "🔒" + target
        room -= 1  # the lock takes two columns
    if len(target) > room:
        target = target[: room - 1] + "…"
    status = str(ex.status) if ex.status is not None else "---"
    flag = "!" if ex.notes else " "
    return (
        f"{clock(ex.wall_start)} {ex.connection.pid:>7} {ex.request.method[:7]:<7} "
        f"{target:<{room}}{flag}{status:>3} {human_ms(ex.duration_ms):>8} "
        f"{human_size(ex.size):>7}"
    ).rstrip()
