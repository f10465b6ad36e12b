"""The phases of an exchange as a waterfall: labelled bars on one time axis (Chrome style).

The phases follow one another (dns, connect, tls, then send, wait, receive), so each bar
starts where the one before ended; a phase that did not happen has no bar. Every front end
draws these rows: the terminal UI's Timing tab, the IPython detail view, the editor hover.
"""

from __future__ import annotations

from dataclasses import dataclass

from httptap.model import Exchange, Phases
from httptap.present.units import human_ms

#: label and the colour (a Rich style name) of each phase, in order
PHASE_LABELS: dict[str, tuple[str, str]] = {
    "dns": ("DNS lookup", "dark_cyan"),
    "connect": ("Initial connection", "dark_orange"),
    "tls": ("SSL/TLS", "magenta"),
    "send": ("Request sent", "cyan"),
    "wait": ("Waiting (TTFB)", "green"),
    "receive": ("Content download", "blue"),
}
BAR = "█"


@dataclass(frozen=True, slots=True)
class Bar:
    """One phase: where it starts on the axis and how long it lasts (ms; None: not seen)."""

    name: str
    label: str
    style: str
    start_ms: float
    ms: float | None

    def cells(self, total_ms: float, width: int) -> tuple[int, int]:
        """(lead, length) in character cells on an axis ``width`` wide for ``total_ms``."""
        if self.ms is None or total_ms <= 0:
            return 0, 0
        lead = min(round(self.start_ms / total_ms * width), width - 1)
        return lead, max(1, min(round(self.ms / total_ms * width), width - lead))


def waterfall(phases: Phases) -> list[Bar]:
    """The bars of ``phases``, in order, each starting where the seen ones before it end."""
    bars: list[Bar] = []
    at = 0.0
    for name, ms in phases.items():
        label, style = PHASE_LABELS[name]
        bars.append(Bar(name, label, style, at, ms))
        if ms is not None:
            at += ms
    return bars


def total_ms(bars: list[Bar]) -> float:
    """The axis' length: the end of the last bar seen."""
    return max((b.start_ms + b.ms for b in bars if b.ms is not None), default=0.0)


def waterfall_lines(ex: Exchange, width: int = 32, *, skip_missing: bool = False) -> list[str]:
    """Plain-text rows ``label  duration  bar`` (a bar is a run of ``█`` after spaces)."""
    bars = waterfall(ex.phases)
    total = total_ms(bars)
    lines = []
    for bar in bars:
        if bar.ms is None and skip_missing:
            continue
        lead, size = bar.cells(total, width)
        lines.append(f"{bar.label:<19}{human_ms(bar.ms):>10}  {' ' * lead}{BAR * size}".rstrip())
    return lines


def phase_columns(ex: Exchange) -> dict[str, float | None]:
    """``{"dns_ms": …, …, "receive_ms": …}``: a table's columns (the DataFrame's)."""
    return {f"{name}_ms": ms for name, ms in ex.phases.items()}
