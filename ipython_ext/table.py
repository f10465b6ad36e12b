"""The exchange table shared by the live views, ``%httptap show`` and ``handle.table()``.

One Rich ``Table`` (method, URL, status coloured, latency, size or the message count of a
WebSocket or event stream; pending rows too) rendered
three ways: to the terminal through Rich, to plain text for ``repr``, and to HTML (Rich's
own HTML export, inline styles) for Jupyter.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Container, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from httptap.model import Exchange
from httptap.present.clock import clock
from httptap.present.messages import message_count
from httptap.present.status import RICH_STYLES, StatusClass, exchange_status
from httptap.present.units import human_ms, human_size

#: Width of the HTML rendering (Jupyter output wraps nothing: keep it readable).
HTML_WIDTH = 140
#: Narrowest table that still gets a notes column.
NOTES_MIN_WIDTH = 120
#: Width of the plain-text rendering when no terminal says otherwise.
TEXT_WIDTH = 120
_PENDING = "(pending)"
# Rich's Jupyter ``<pre>`` style, so the export looks like rich's own notebook output.
_HTML_PRE = (
    '<pre style="white-space:pre;overflow-x:auto;line-height:normal;'
    "font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace\">{code}</pre>"
)


def build_table(
    exchanges: Sequence[Exchange],
    *,
    pending: Container[str] = (),
    title: str = "",
    caption: str = "",
    hidden: int = 0,
    width: int | None = None,
) -> Table:
    """A Rich table of ``exchanges``; those whose id is in ``pending`` are pending rows.

    ``width`` is the room the table will get: under ``NOTES_MIN_WIDTH`` columns the notes
    give their place to the URL and show as a ``!`` after the status.

    ``hidden`` says how many older rows were left out, shown as the first row so a cut
    table never looks complete.
    """
    table = Table(
        title=title or None,
        caption=caption or None,
        caption_justify="left",
        expand=False,
        header_style="bold",
        pad_edge=False,
        show_edge=False,
        box=None,
        padding=(0, 1, 0, 0),  # one blank between columns: room for the URL
    )
    # Every column but url and notes keeps its full width: the URL is what gives way.
    table.add_column("time", style="dim", no_wrap=True, min_width=12)
    table.add_column("pid", justify="right", no_wrap=True, min_width=3)
    table.add_column("method", no_wrap=True, min_width=6)
    # Rich shrinks only wrappable columns: url and notes are, and their cells (one line
    # each, no_wrap) are cut with an ellipsis instead of wrapping.
    table.add_column("url", overflow="ellipsis")
    table.add_column("status", justify="right", no_wrap=True, min_width=len(_PENDING))
    table.add_column("latency", justify="right", no_wrap=True, min_width=7)
    table.add_column("size", justify="right", no_wrap=True, min_width=6)
    notes = any(ex.notes for ex in exchanges) and (width is None or width >= NOTES_MIN_WIDTH)
    if notes:
        table.add_column("notes", style="yellow", overflow="ellipsis", max_width=32)
    if hidden > 0:
        more = Text(f"… {hidden} earlier exchange(s) not shown", "dim", no_wrap=True)
        table.add_row("", "", "", more)
    for ex in exchanges:
        row = _row(ex, ex.id in pending)
        if not notes and ex.notes:
            row[4].append("!", "bold yellow")  # type: ignore[union-attr]
        table.add_row(*row[: None if notes else -1])
    return table


def _row(ex: Exchange, pending: bool) -> list[RenderableType]:
    status = ex.status
    if status is not None:
        status_cell = Text(str(status), RICH_STYLES[exchange_status(ex)])
    elif pending:  # the handle, not the exchange, knows whether it still waits
        status_cell = Text(_PENDING, RICH_STYLES[StatusClass.PENDING])
    else:  # closed without an answer (a note says why)
        status_cell = Text("---", RICH_STYLES[StatusClass.NONE])
    url = ex.url
    if ex.connection.tls:
        url = "🔒 " + url
    size: RenderableType = human_size(ex.size) if ex.response is not None else ""
    if ex.messages:  # a WebSocket or event stream: how many messages so far
        size = Text(message_count(len(ex.messages)), "cyan")
    latency = "" if pending else human_ms(ex.duration_ms)
    return [
        clock(ex.wall_start),
        str(ex.connection.pid or ""),
        Text(ex.request.method or "?", "bold"),
        Text(url, overflow="ellipsis", no_wrap=True),
        status_cell,
        latency,
        size,
        Text("; ".join(ex.notes), overflow="ellipsis", no_wrap=True),
    ]


def render_text(renderable: RenderableType, width: int = TEXT_WIDTH, color: bool = False) -> str:
    """``renderable`` as text (ANSI colours only when ``color``)."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        color_system="truecolor" if color else None,
        force_terminal=color,
        force_jupyter=False,
        legacy_windows=False,
        soft_wrap=False,
    )
    console.print(renderable)
    return buf.getvalue().rstrip("\n")


def render_html(renderable: RenderableType, width: int = HTML_WIDTH) -> str:
    """``renderable`` as self-contained HTML (inline styles), as Rich shows it in Jupyter."""
    console = Console(
        file=io.StringIO(),
        record=True,
        width=width,
        color_system="truecolor",
        force_terminal=True,
        force_jupyter=False,
        legacy_windows=False,
    )
    console.print(renderable)
    return console.export_html(inline_styles=True, code_format=_HTML_PRE)


class TableView:
    """A table snapshot that displays well everywhere: Rich, terminal ``repr``, Jupyter HTML.

    ``build(width)`` makes the table for the room each display has (the notes column only
    where it fits); the rows are already a snapshot, so every rendering shows the same ones.
    """

    def __init__(self, build: Callable[[int | None], Table]) -> None:
        self._build = build

    @property
    def table(self) -> Table:
        """The Rich table, laid out for any width."""
        return self._build(None)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._build(options.max_width)

    def __repr__(self) -> str:
        return render_text(self._build(TEXT_WIDTH))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # IPython's terminal display: as wide as the terminal, coloured when it is one.
        import sys

        width = _terminal_width()
        color = bool(getattr(sys.stdout, "isatty", lambda: False)())
        p.text(render_text(self._build(width), width=width, color=color))

    def _repr_html_(self) -> str:
        return render_html(self._build(HTML_WIDTH))


def _terminal_width() -> int:
    import shutil

    return max(shutil.get_terminal_size((TEXT_WIDTH, 24)).columns, 60)
