"""Sizes and durations (``httptap.present.units``): the one duration format every front end
shows, and sizes, at every band edge."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httptap.present.units import human_ms, human_size


@pytest.mark.parametrize("ms,text", [
    (None, "-"),
    (0.0, "0.00 ms"),
    (0.423, "0.42 ms"),
    (0.65, "0.65 ms"),
    (0.996, "1.0 ms"),  # rounds out of its band: the next band's format
    (8.26, "8.3 ms"),
    (9.96, "10 ms"),
    (12.5, "12 ms"),
    (40.4, "40 ms"),
    (999.4, "999 ms"),
    (999.6, "1.00 s"),
    (1250.0, "1.25 s"),
    (61_000.0, "61.00 s"),
])
def test_duration_format(ms: float | None, text: str) -> None:
    assert human_ms(ms) == text


@given(st.floats(0, 99_994, allow_nan=False))
def test_duration_fits_the_latency_column_and_keeps_its_digits(ms: float) -> None:
    text = human_ms(ms)
    assert len(text) <= 7, text
    number, unit = text.split(" ")
    assert unit in ("ms", "s")
    value = float(number) * (1000 if unit == "s" else 1)
    # two or three significant digits: never off by more than half the last digit shown
    assert value == pytest.approx(ms, rel=0.06, abs=0.005)


@pytest.mark.parametrize("n,text", [
    (0, "0B"), (532, "532B"), (1023, "1023B"), (1024, "1.0K"), (12_700, "12.4K"),
    (1024**2 - 1, "1.0M"), (3_250_000, "3.1M"), (1024**3 - 1, "1.0G"), (5 * 1024**4, "5120.0G"),
])
def test_size_format(n: int, text: str) -> None:
    assert human_size(n) == text
