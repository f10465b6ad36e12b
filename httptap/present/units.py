"""Sizes and durations as every front end shows them: ``12.4K``, ``8.3 ms``.

One duration format everywhere (terminal UI, line output, IPython, language server and its
editor clients): two or three significant digits and the unit after a space, like the
network tab: ``0.42 ms``, ``8.3 ms``, ``40 ms``, ``1.25 s``. At most 7 characters below
100 s, so it fits the list's latency column.
"""

from __future__ import annotations

# (upper bound, format spec): a value goes to the first band it still rounds inside, so
# 9.96 is "10 ms", not "10.0 ms", and 999.6 is "1.00 s", not "1000 ms".
_MS_BANDS = ((1.0, ".2f"), (10.0, ".1f"), (1000.0, ".0f"))
_SIZE_UNITS = ((1024, "K"), (1024**2, "M"), (1024**3, "G"))


def human_ms(ms: float | None) -> str:
    """``0.42 ms``, ``8.3 ms``, ``40 ms``, ``1.25 s``; ``-`` when unknown."""
    if ms is None:
        return "-"
    for bound, spec in _MS_BANDS:
        text = format(ms, spec)
        if abs(float(text)) < bound:
            return f"{text} ms"
    return f"{ms / 1000:.2f} s"


def human_size(n: int) -> str:
    """``532B``, ``12.4K``, ``3.1M``, ``2.0G``: network-tab style, 1024-based."""
    if n < 1024:
        return f"{n}B"
    for i, (unit, name) in enumerate(_SIZE_UNITS):
        text = f"{n / unit:.1f}"
        if float(text) < 1024 or i == len(_SIZE_UNITS) - 1:
            return f"{text}{name}"
    raise AssertionError("unreachable")
