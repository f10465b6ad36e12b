"""HAR ``timings`` from an exchange's phases, and back (HAR 1.2 semantics).

HAR's ``connect`` includes ``ssl``; ``-1`` marks a phase that does not apply (a reused
connection has no dns/connect/ssl) or was not seen (also for ``send``, ``wait`` and
``receive`` of an exchange not complete).
"""

from __future__ import annotations

from typing import Any

from httptap.model import Exchange, Phases


def har_timings(ex: Exchange) -> dict[str, float]:
    """The entry's ``timings`` object."""
    p = ex.phases
    connect = -1.0
    if p.connect is not None:
        connect = p.connect + (p.tls or 0.0)
    return {
        "blocked": -1,
        "dns": _ms(p.dns),
        "connect": round(connect, 3),
        "send": _ms(p.send),
        "wait": _ms(p.wait),
        "receive": _ms(p.receive),
        "ssl": _ms(p.tls),
    }


def har_time(timings: dict[str, float]) -> float:
    """The entry's ``time``: the sum of the phases that apply (``ssl`` is inside connect)."""
    keys = ("blocked", "dns", "connect", "send", "wait", "receive")
    return round(sum(timings[k] for k in keys if timings[k] > 0), 3)


def setup_from_har(tm: dict[str, Any]) -> Phases | None:
    """The set-up phases of a HAR entry's ``timings`` (None when it has none)."""
    dns, connect, ssl = (_value(tm.get(k)) for k in ("dns", "connect", "ssl"))
    if dns is None and connect is None and ssl is None:
        return None
    if connect is not None and ssl is not None:
        connect = max(connect - ssl, 0.0)
    return Phases(dns=dns, connect=connect, tls=ssl)


def _ms(value: float | None) -> float:
    return -1 if value is None else round(value, 3)


def _value(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)
