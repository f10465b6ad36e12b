"""Diagnostics on routes and URL literals whose recent exchanges failed (5xx) or were slow."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lsprotocol import types

from httptap.present.clock import clock
from httptap.present.status import StatusClass, status_class
from httptap.present.units import human_ms

from .routes import Target
from .traffic import TargetTraffic

SOURCE = "httptap"
#: The severity of each status class that makes a diagnostic (slowness: Information).
SEVERITY = {StatusClass.SERVER_ERROR: types.DiagnosticSeverity.Warning}


def diagnostics(
    traffic: Sequence[TargetTraffic],
    to_range: Callable[[Target], types.Range],
    *,
    window: int,
    slow_ms: float,
) -> list[types.Diagnostic]:
    """One diagnostic per target whose last ``window`` completed exchanges hold a 5xx
    (warning) or, failing that, one slower than ``slow_ms`` (information).

    Judging only the last few means a diagnostic clears by itself once ``window`` good
    exchanges in a row have come in: things recovered.
    """
    out = []
    for tt in traffic:
        recent = tt.completed[-max(1, window) :]
        if not recent:
            continue
        label = tt.target.label
        errors = [e for e in recent if status_class(e.status) in SEVERITY]
        if errors:
            last = errors[-1]
            reason = f" {last.response.reason}" if last.response and last.response.reason else ""
            out.append(
                types.Diagnostic(
                    range=to_range(tt.target),
                    severity=SEVERITY[status_class(last.status)],
                    source=SOURCE,
                    code="http-5xx",
                    message=(
                        f"{len(errors)} of the last {len(recent)} requests to {label} "
                        f"returned 5xx (latest {last.request.method} {last.request.path} → "
                        f"{last.status}{reason} at {clock(last.wall_start)})"
                    ),
                )
            )
            continue
        slow = [e for e in recent if (d := e.duration_ms) is not None and d > slow_ms]
        if slow:
            worst = max(slow, key=lambda e: e.duration_ms or 0.0)
            out.append(
                types.Diagnostic(
                    range=to_range(tt.target),
                    severity=types.DiagnosticSeverity.Information,
                    source=SOURCE,
                    code="slow",
                    message=(
                        f"{len(slow)} of the last {len(recent)} requests to {label} took "
                        f"longer than {human_ms(slow_ms)} (slowest {human_ms(worst.duration_ms)}: "
                        f"{worst.request.method} {worst.request.path})"
                    ),
                )
            )
    return out
