"""Flat rows of exchanges and of their messages, one dict each, for
``CaptureHandle.to_dataframe()`` and ``CaptureHandle.messages_dataframe()``."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from httptap.model import Exchange, Message
from httptap.present.messages import as_text, message_kind
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
        "messages": len(ex.messages),
        "notes": "; ".join(ex.notes),
        "exchange": ex,
    }


def message_rows(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """One flat dict per message; ``text`` is None for binary data (``data`` has the bytes)."""
    return [_message_row(m) for m in messages]


def _message_row(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "exchange_id": m.exchange_id,
        "time": _when(m.wall),
        "pid": m.pid,
        "proto": m.proto,
        "direction": m.direction,
        "opcode": message_kind(m),
        "size": m.size,
        "text": as_text(m),
        "data": m.data,
        "truncated": m.truncated,
        "compressed": m.compressed,
        "close_code": m.close_code,
        "sse_id": m.sse_id,
        "message": m,
    }


def _when(epoch: float | None) -> _dt.datetime | None:
    return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc) if epoch is not None else None
