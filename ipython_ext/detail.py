"""One exchange in detail for IPython and Jupyter: request, status and the timing waterfall."""

from __future__ import annotations

import html
from typing import Any

from httptap.model import Exchange
from httptap.present.units import human_ms
from httptap.present.waterfall import total_ms, waterfall, waterfall_lines

_HTML_BAR_PX = 320


class ExchangeDetail:
    """``cap.detail(i)``: shown as text in a terminal, as a waterfall chart in Jupyter."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def _head(self) -> str:
        ex = self.exchange
        status = ex.status if ex.status is not None else ("pending" if not ex.complete else "-")
        host = ex.connection.hostname
        return f"{ex.request.method} {ex.url} → {status}" + (f"  ({host})" if host else "")

    def __repr__(self) -> str:
        ex = self.exchange
        lines = [self._head(), "", *waterfall_lines(ex, skip_missing=True)]
        lines.append(f"{'Total':<19}{human_ms(ex.duration_ms):>10}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        bars = waterfall(self.exchange.phases)
        axis = total_ms(bars) or 1.0
        rows = []
        for bar in bars:
            if bar.ms is None:
                continue
            left = bar.start_ms / axis * _HTML_BAR_PX
            width = max(bar.ms / axis * _HTML_BAR_PX, 1.0)
            rows.append(
                f"<tr><td>{html.escape(bar.label)}</td>"
                f"<td style='text-align:right'>{html.escape(human_ms(bar.ms))}</td>"
                f"<td style='width:{_HTML_BAR_PX}px'><div style='margin-left:{left:.1f}px;"
                f"width:{width:.1f}px;height:0.8em;background:{bar.style.replace('_', '')}'>"
                "</div></td></tr>"
            )
        return (f"<div><b>{html.escape(self._head())}</b><table>{''.join(rows)}</table></div>")
