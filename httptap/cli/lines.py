"""One line per exchange, sized to a terminal width (80 columns by default)."""

from __future__ import annotations

from httptap.model import Exchange, Message
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


def format_message_line(m: Message, width: int = 80) -> str:
    """``time pid ↑/↓ proto opcode size data`` for a WebSocket message or SSE event."""
    arrow = "↑" if m.direction == "sent" else "↓"
    what = m.sse_event or "event" if m.proto == "sse" else m.opcode
    if m.opcode == "close" and m.close_code is not None:
        what = f"close {m.close_code}"
    head = (f"{clock(m.wall)} {m.pid:>7} {arrow} {'ws' if m.proto == 'websocket' else 'sse'} "
            f"{what[:12]:<12} {human_size(m.size):>7} ")
    if m.opcode in ("binary", "ping", "pong") and m.proto == "websocket":
        data = m.data.hex(" ")
    else:
        data = m.data.decode("utf-8", "replace")
    data = data.replace("\r", "\\r").replace("\n", "\\n")
    room = max(width - len(head), 10)
    if len(data) > room:
        data = data[: room - 1] + "…"
    return (head + data).rstrip()
