"""Flat rows of exchanges, one dict each, for ``CaptureHandle.to_dataframe()``."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from httptap.model import Exchange
from httptap.present.waterfall import phase_columns


def exchange_rows(exchanges: Iterable[Exchange]) -> list[dict[str, Any]]:
    """One flat dict per exchange; ``exchange`` keeps the object itself for drilling down."""
    return [_row(ex) for ex in exchanges]


def _row(ex: Exchange) -> dict[str, Any]:
    resp = ex.response
    started = (
        _dt.datetime.fromtimestamp(ex.wall_start, tz=_dt.timezone.utc)
        if ex.wall_start is not None
        else None
    )
    return {
        "id": ex.id,
        "started": started,
        "pid": ex.connection.pid,
        "method": ex.request.method,
        "url": ex.url,
        "host": ex.host,
        "path": ex.request.path,
        "status": ex.status,
        "proto": ex.proto.value,
        "tls": ex.connection.tls,
        "duration_ms": ex.duration_ms,
        "ttfb_ms": ex.ttfb_ms,
        **phase_columns(ex),  # dns_ms, connect_ms, tls_ms, send_ms, wait_ms, receive_ms
        "hostname": ex.connection.hostname or None,
        "request_size": ex.request.body.size,
        "response_size": resp.body.size if resp is not None else None,
        "content_type": resp.header("content-type") if resp is not None else None,
        "notes": "; ".join(ex.notes),
        "exchange": ex,
    }
