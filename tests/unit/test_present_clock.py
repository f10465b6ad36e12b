"""Times (``httptap.present.clock``): local clock for lists, ISO-8601 UTC for files and
protocols, one implementation (the contract's, HAR's and the language server's)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from httptap.lsp.summaries import summary
from hypothesis import example, given, settings
from hypothesis import strategies as st

from httptap import contract
from httptap.export.har import exchange_to_har_entry
from httptap.model import Exchange, Request
from httptap.present.clock import clock, date_clock, iso_utc

WALL = 1_768_470_067.375  # 2026-01-15 09:41:07.375 UTC


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_clock_and_date(utc) -> None:
    assert clock(WALL) == "09:41:07.375"
    assert date_clock(WALL) == "2026-01-15 09:41:07.375"
    assert clock(None) == "--:--:--.---" and date_clock(None) == "-"


def test_iso_both_precisions() -> None:
    assert iso_utc(WALL) == "2026-01-15T09:41:07.375000Z"
    assert iso_utc(WALL, digits=3) == "2026-01-15T09:41:07.375Z"
    with pytest.raises(ValueError):
        iso_utc(WALL, digits=4)


@settings(max_examples=1000, deadline=None)
@given(st.floats(-1e9, 4e9, allow_nan=False), st.floats(-1e9, 4e9, allow_nan=False))
@example(1764474374.9999996, 1764474374.0)
@example(1764474374.9995, 1764474374.0)
def test_iso_ms_is_isoformat_milliseconds(epoch: float, before: float) -> None:
    iso_utc(before, digits=3)  # leaves its second in the cache
    stamp = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    want = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert iso_utc(epoch, digits=3) == want


def test_every_front_end_and_file_formats_time_alike() -> None:
    ex = Exchange(id="1", request=Request(method="GET", authority="a", path="/"),
                  wall_start=WALL)
    assert contract.to_dict(ex)["started"] == iso_utc(WALL)
    assert exchange_to_har_entry(ex)["startedDateTime"] == iso_utc(WALL)
    assert summary(ex)["time"] == iso_utc(WALL, digits=3)
    assert exchange_to_har_entry(Exchange(id="2"))["startedDateTime"] == (
        "1970-01-01T00:00:00.000000Z")
