"""Wall-clock times: the local ``HH:MM:SS.mmm`` of lists and tables, and ISO-8601 UTC for
files and protocols (the JSON-lines contract, HAR, the language server)."""

from __future__ import annotations

import datetime as _dt
import time

_UTC = _dt.timezone.utc


def clock(epoch: float | None) -> str:
    """``09:41:07.375`` in local time; ``--:--:--.---`` when unknown."""
    if epoch is None:
        return "--:--:--.---"
    t = time.localtime(epoch)
    return time.strftime("%H:%M:%S", t) + f".{int(epoch * 1000) % 1000:03d}"


def date_clock(epoch: float | None) -> str:
    """``2026-01-15 09:41:07.375`` in local time; ``-`` when unknown."""
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d", time.localtime(epoch)) + " " + clock(epoch)


def iso_utc(epoch: float, digits: int = 6) -> str:
    """``2026-11-30T12:00:00.123456Z`` (``digits`` 6) or ``…:00.123Z`` (``digits`` 3).

    Exactly ``datetime.fromtimestamp(epoch, utc)`` formatted (``strftime`` with ``%f``, or
    ``isoformat(timespec="milliseconds")``, which cuts rather than rounds), the formatted
    second cached: the contract formats one per exchange on the hot path. fromtimestamp
    splits ``epoch`` as here: the fraction (exact), times 1e6, rounded half-even
    (``round``), carried into the second when it reaches 1e6 or is negative.
    """
    if digits not in (3, 6):
        raise ValueError(f"digits must be 3 or 6, not {digits!r}")
    sec = int(epoch)
    us = round((epoch - sec) * 1e6)
    if us >= 1_000_000:
        us -= 1_000_000
        sec += 1
    elif us < 0:
        us += 1_000_000
        sec -= 1
    global _last
    last_sec, prefix = _last
    if sec != last_sec:
        stamp = _dt.datetime.fromtimestamp(sec, tz=_UTC)
        prefix = stamp.strftime("%Y-%m-%dT%H:%M:%S.")
        _last = (sec, prefix)
    if digits == 3:
        return f"{prefix}{us // 1000:03d}Z"
    return f"{prefix}{us}Z" if us >= 100_000 else f"{prefix}{us:06d}Z"


_last: tuple[int | None, str] = (None, "")
