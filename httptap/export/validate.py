"""Type checks for exchanges rebuilt from saved files (HAR, JSON lines).

A saved session is untrusted input: a header value that is a number, a status that is a
string or a body size that is a list would load and then break every front end that touches
it (filters, HAR export, the terminal UI). Importers call ``check_exchange`` and turn its
``ValueError`` into a ``SessionError`` that names the entry.
"""

from __future__ import annotations

import math

from httptap.model import Body, Exchange, GrpcMessage, Headers, Proto, Role

#: a count that fits the contract's integers (sizes, ids, pids, nanosecond instants)
_MAX_INT = 2**63 - 1


def check_exchange(ex: Exchange) -> Exchange:
    """Return ``ex`` if every field has its model type; raise ``ValueError`` naming one that not."""
    c = ex.connection
    _str(ex.id, "id")
    for name in ("pid", "tid", "fd"):
        _int(getattr(c, name), name, low=-1)
    for name in ("local", "remote", "comm"):
        _str(getattr(c, name), name)
    if not isinstance(c.role, Role) or not isinstance(c.protocol, Proto):
        raise ValueError("role/proto: not a known value")
    _bool(c.tls, "tls")
    r = ex.request
    for name in ("method", "scheme", "authority", "path", "http_version"):
        _str(getattr(r, name), f"request.{name}")
    _headers(r.headers, "request.headers")
    _headers(r.trailers, "request.trailers")
    _body(r.body, "request")
    if ex.response is not None:
        s = ex.response
        if s.status is not None:
            _int(s.status, "status", low=0, high=999)
        _str(s.reason, "response.reason")
        _str(s.http_version, "response.http_version")
        _headers(s.headers, "response.headers")
        _headers(s.trailers, "response.trailers")
        _body(s.body, "response")
    t = ex.timings
    for name in ("request_start", "request_end", "response_start", "response_end"):
        value = getattr(t, name)
        if value is not None:
            _int(value, f"timings.{name}", low=-_MAX_INT)
    if ex.stream_id is not None:
        _int(ex.stream_id, "stream_id", low=0)
    if ex.grpc is not None:
        g = ex.grpc
        for name in ("service", "method", "message"):
            _str(getattr(g, name), f"grpc.{name}")
        if g.status is not None:
            _int(g.status, "grpc.status", low=-_MAX_INT)
        for name in ("requests", "responses"):
            msgs = getattr(g, name)
            if not isinstance(msgs, list) or not all(_grpc_ok(m) for m in msgs):
                raise ValueError(f"grpc.{name}: not a list of messages")
    if not isinstance(ex.notes, list) or not all(isinstance(n, str) for n in ex.notes):
        raise ValueError("notes: not a list of strings")
    _bool(ex.complete, "complete")
    w = ex.wall_start
    if w is not None and not (isinstance(w, int | float) and math.isfinite(w)):
        raise ValueError("started: not a time")
    return ex


def _str(value: object, name: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a string, got {type(value).__name__}")


def _bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected true or false, got {type(value).__name__}")


def _int(value: object, name: str, *, low: int = 0, high: int = _MAX_INT) -> None:
    # bool is an int subclass, but "status": true is not a status
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}: expected an integer in [{low}, {high}], got {value!r:.40}")


def _headers(headers: Headers, name: str) -> None:
    if not isinstance(headers, list) or not all(
        isinstance(h, tuple) and len(h) == 2 and isinstance(h[0], str) and isinstance(h[1], str)
        for h in headers
    ):
        raise ValueError(f"{name}: expected a list of [name, value] strings")


def _body(body: Body, name: str) -> None:
    if not isinstance(body, Body) or not isinstance(body.data, bytes):
        raise ValueError(f"{name}.body: not a body")
    _int(body.size, f"{name}.body_size")
    _bool(body.truncated, f"{name}.body_truncated")


def _grpc_ok(m: object) -> bool:
    return (
        isinstance(m, GrpcMessage)
        and isinstance(m.data, bytes)
        and isinstance(m.compressed, bool)
        and isinstance(m.truncated, bool)
        and isinstance(m.size, int)
        and not isinstance(m.size, bool)
        and 0 <= m.size <= _MAX_INT
    )
