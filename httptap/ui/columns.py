"""The list's columns: widths for a terminal width, and one exchange as a row of cells.

Network-tab columns: time, pid, method, host, path, status, proto, latency, size (for a
WebSocket or event stream: its live message count, ``⇅ 12``). Below
``WIDE`` columns host and path share one column so an 80-column terminal still shows
enough of the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from httptap.model import Exchange, Proto
from httptap.present.clock import clock
from httptap.present.messages import message_count
from httptap.present.status import RICH_STYLES, StatusClass, exchange_status
from httptap.present.units import human_ms, human_size

WIDE = 110
LOCK = "🔒"

_DIM = Style(dim=True)
_PENDING = Style(dim=True, italic=True)  # the latency cell of a pending row
_FLAG = Style(color="yellow", bold=True)
_METHOD = Style(bold=True)
_HEADER = Style(bold=True, underline=True)
_MESSAGES = Style(color="cyan")
_STATUS = {cls: Style.parse(style) for cls, style in RICH_STYLES.items()}


@dataclass(frozen=True, slots=True)
class Layout:
    """Cell widths of every column for one terminal width (0: column not shown)."""

    width: int
    time: int
    pid: int
    method: int
    host: int  # 0 when host and path share the "url" column
    path: int
    flag: int
    status: int
    proto: int
    latency: int
    size: int


def layout_for(width: int) -> Layout:
    """Column widths that fill ``width`` cells."""
    wide = width >= WIDE
    time_w = 12 if wide else 8
    fixed = {"time": time_w, "pid": 7 if wide else 6, "method": 7, "flag": 1, "status": 3,
             "proto": 6, "latency": 8 if wide else 7, "size": 7}
    gaps = 8 if wide else 7  # the spaces between columns (none around the notes flag)
    room = max(width - sum(fixed.values()) - gaps, 10)
    if wide:
        host = min(max(room * 2 // 5, 12), 40)
        return Layout(width, host=host, path=room - host, **fixed)
    return Layout(width, host=0, path=room, **fixed)


def header_segments(layout: Layout) -> list[Segment]:
    """The column titles, aligned with ``row_segments``."""
    out = [
        Segment(_fit("Time", layout.time), _HEADER),
        Segment(" "),
        Segment(_fit("PID", layout.pid, right=True), _HEADER),
        Segment(" "),
        Segment(_fit("Method", layout.method), _HEADER),
        Segment(" "),
    ]
    if layout.host:
        out += [Segment(_fit("Host", layout.host), _HEADER), Segment(" "),
                Segment(_fit("Path", layout.path), _HEADER)]
    else:
        out.append(Segment(_fit("Host/path", layout.path), _HEADER))
    for title, width, right in (("", layout.flag, False), ("St", layout.status, True),
                                ("Proto", layout.proto, False),
                                ("Latency", layout.latency, True), ("Size", layout.size, True)):
        if title:
            out += [Segment(" "), Segment(_fit(title, width, right), _HEADER)]
        else:
            out.append(Segment(" " * width))
    return _pad(out, layout.width)


def row_segments(ex: Exchange, layout: Layout) -> list[Segment]:
    """One exchange as styled cells, exactly ``layout.width`` cells wide."""
    req = ex.request
    stamp = clock(ex.wall_start)
    if layout.time < len(stamp):
        stamp = stamp[: layout.time]
    out = [
        Segment(_fit(stamp, layout.time), _DIM),
        Segment(" " + _fit(str(ex.connection.pid), layout.pid, right=True)),
        Segment(" " + _fit(req.method or "?", layout.method), _METHOD),
        Segment(" "),
    ]
    path = req.path or "/"
    if layout.host:
        out.append(Segment(_fit(ex.host, layout.host)))
        out.append(Segment(" " + _fit(path, layout.path)))
    else:
        out.append(Segment(_fit(ex.host + path, layout.path)))
    out.append(Segment("!" if ex.notes else " ", _FLAG))
    status, style = _status(ex)
    out.append(Segment(" "))
    out.append(Segment(_fit(status, layout.status, right=True), style))
    out.append(Segment(" " + _fit(proto_label(ex), layout.proto), _DIM))
    if ex.complete:
        latency, lstyle = human_ms(ex.duration_ms), None
    else:
        latency, lstyle = "pending", _PENDING
    out.append(Segment(" "))
    out.append(Segment(_fit(latency, layout.latency, right=True), lstyle))
    if ex.messages:  # a WebSocket or event stream: its live message count
        out.append(Segment(" " + _fit(message_count(len(ex.messages)), layout.size, right=True),
                           _MESSAGES))
    else:
        size = human_size(ex.size) if ex.response is not None else "-"
        out.append(Segment(" " + _fit(size, layout.size, right=True)))
    return _pad(out, layout.width)


def proto_label(ex: Exchange) -> str:
    """``h1``, ``h2`` or ``grpc``, after a lock for TLS."""
    proto = ex.proto
    label = "grpc" if proto is Proto.GRPC else "h2" if proto is Proto.H2 else "h1"
    return LOCK + label if ex.connection.tls else label


def status_style(ex: Exchange) -> Style:
    """The colour of ``ex``'s outcome by its status class."""
    return _STATUS[exchange_status(ex)]


def _status(ex: Exchange) -> tuple[str, Style]:
    cls = exchange_status(ex)
    if ex.status is None:
        return ("···" if cls is StatusClass.PENDING else "---"), _STATUS[cls]
    return str(ex.status), _STATUS[cls]


def _fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in exactly ``width`` cells: cut with an ellipsis, else padded."""
    if width <= 0:
        return ""
    text = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    n = cell_len(text)
    if n > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - n)
    return pad + text if right else text + pad


def _pad(segments: list[Segment], width: int) -> list[Segment]:
    used = sum(cell_len(s.text) for s in segments)
    if used < width:
        segments.append(Segment(" " * (width - used)))
    elif used > width:
        segments = list(Segment.adjust_line_length(segments, width))
    return segments
