"""Hovers: a markdown table of the last few exchanges of the route or URL under the cursor."""

from __future__ import annotations

from httptap.present.clock import clock
from httptap.present.units import human_ms, human_size
from httptap.present.waterfall import waterfall_lines

from .lenses import lens_title
from .traffic import TargetTraffic


def hover_markdown(traffic: list[TargetTraffic], rows: int) -> str:
    """Markdown for the targets on one line (usually one): a heading and a table each."""
    blocks = []
    for tt in traffic:
        if not tt.exchanges:
            continue
        head = f"**httptap** `{_cell(tt.target.label)}` · {lens_title(tt)}"
        table = [
            "| time | method | path | status | latency | size |",
            "| --- | --- | --- | ---: | ---: | ---: |",
        ]
        for ex in reversed(tt.exchanges[-rows:]):
            if not ex.complete:
                status = "pending"
            else:
                status = str(ex.status) if ex.status is not None else "no answer"
            path = ex.request.path if tt.target.kind == "route" else ex.url
            table.append(
                f"| {clock(ex.wall_start)} | {ex.request.method} | `{_cell(path)}` | {status} "
                f"| {human_ms(ex.duration_ms)} | {human_size(ex.size)} |"
            )
        more = len(tt.exchanges) - rows
        tail = ["", f"… and {more} earlier"] if more > 0 else []
        # where the last one's time went: a waterfall of its phases
        last = tt.exchanges[-1]
        lines = waterfall_lines(last, width=24, skip_missing=True)
        timing = ["", f"Last: {human_ms(last.duration_ms)}", "```", *lines, "```"] if lines else []
        blocks.append("\n".join([head, "", *table, *tail, *timing]))
    return "\n\n---\n\n".join(blocks)


def _cell(text: str) -> str:
    # a pipe ends a table cell and a backtick ends inline code
    return text.replace("|", "\\|").replace("`", "'")
