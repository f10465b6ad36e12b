"""Code lenses: one line of traffic figures above each route or URL literal that has traffic."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lsprotocol import types

from httptap.present.units import human_ms

from .routes import Target
from .traffic import TargetTraffic

#: the command a lens runs: the side panel opens on the target's exchanges (PROTOCOL.md)
SHOW_COMMAND = "httptap.showExchanges"


def lens_title(tt: TargetTraffic) -> str:
    """``GET ×12 · 200 ×11 500 ×1 · p50 8 ms p95 40 ms`` (pending and unanswered counted too)."""
    parts = [" ".join(f"{m or '?'} ×{n}" for m, n in tt.methods())]
    outcome = [f"{s} ×{n}" for s, n in tt.statuses()]
    if (lost := tt.unanswered()) > 0:
        outcome.append(f"no answer ×{lost}")
    if (pending := tt.pending) > 0:
        outcome.append(f"pending ×{pending}")
    if outcome:
        parts.append(" ".join(outcome))
    durations = tt.durations()
    if durations:
        p50, p95 = tt.percentile(50), tt.percentile(95)
        parts.append(f"p50 {human_ms(p50)} p95 {human_ms(p95)}")
    return " · ".join(parts)


def code_lenses(
    uri: str, traffic: Sequence[TargetTraffic], to_range: Callable[[Target], types.Range]
) -> list[types.CodeLens]:
    """A lens for every target with at least one exchange."""
    out = []
    for tt in traffic:
        if not tt.exchanges:
            continue
        t = tt.target
        out.append(
            types.CodeLens(
                range=to_range(t),
                command=types.Command(
                    title=lens_title(tt),
                    command=SHOW_COMMAND,
                    arguments=[{"uri": uri, "line": t.line, "label": t.label, "kind": t.kind}],
                ),
            )
        )
    return out
