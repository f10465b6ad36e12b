"""The JSON-lines contract (version 1): one object per exchange, and back.

``httptap --jsonl`` prints ``to_dict``; the helper's exchange records carry the same object;
``--open file.jsonl`` reads it with ``from_dict``. Keys may be added, never renamed or removed
without bumping ``VERSION``.
"""

from __future__ import annotations

import base64
import datetime as _dt
from typing import Any

from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    GrpcMessage,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)

VERSION = 1


def to_dict(ex: Exchange) -> dict[str, Any]:
    """The contract object of ``ex``."""
    conn = ex.connection
    req = ex.request
    resp = ex.response
    t = ex.timings
    out: dict[str, Any] = {
        "v": VERSION,
        "id": ex.id,
        "pid": conn.pid,
        "tid": conn.tid,
        "role": conn.role.value,
        "proto": ex.proto.value,
        "tls": conn.tls,
        "local": conn.local,
        "remote": conn.remote,
        "method": req.method,
        "url": ex.url,
        "host": ex.host,
        "path": req.path,
        "status": ex.status,
        "started": _iso(ex.wall_start),
        "duration_ms": _round(ex.duration_ms),
        "ttfb_ms": _round(ex.ttfb_ms),
        "timings": {
            "request_start": 0.0 if t.request_start is not None else None,
            "request_end": _rel(t.request_end, t.request_start),
            "response_start": _rel(t.response_start, t.request_start),
            "response_end": _rel(t.response_end, t.request_start),
        },
        "fd": conn.fd,
        "stream_id": ex.stream_id,
        "complete": ex.complete,
        "request": {
            "http_version": req.http_version,
            "headers": [list(h) for h in req.headers],
            **_body(req.body),
        },
        "response": None,
        "notes": list(ex.notes),
    }
    if req.trailers:
        out["request"]["trailers"] = [list(h) for h in req.trailers]
    if resp is not None:
        out["response"] = {
            "http_version": resp.http_version,
            "status": resp.status,
            "reason": resp.reason,
            "headers": [list(h) for h in resp.headers],
            "trailers": [list(h) for h in resp.trailers],
            **_body(resp.body),
        }
    if ex.grpc is not None:
        g = ex.grpc
        out["grpc"] = {
            "service": g.service,
            "method": g.method,
            "status": g.status,
            "message": g.message,
            "requests": [_grpc_msg(m) for m in g.requests],
            "responses": [_grpc_msg(m) for m in g.responses],
        }
    return out


def from_dict(d: dict[str, Any]) -> Exchange:
    """Rebuild an Exchange from a contract object (times keep microsecond precision)."""
    if d.get("v") != VERSION:
        raise ValueError(f"unsupported JSON-lines contract version {d.get('v')!r}")
    proto = Proto(d.get("proto") or "http/1.1")
    conn = Connection(
        pid=int(d.get("pid") or 0),
        tid=int(d.get("tid") or 0),
        fd=int(d["fd"]) if d.get("fd") is not None else -1,
        local=d.get("local") or "",
        remote=d.get("remote") or "",
        role=Role(d.get("role") or "unknown"),
        tls=bool(d.get("tls")),
        protocol=Proto.H2 if proto is Proto.GRPC else proto,
    )
    r = d.get("request") or {}
    url = d.get("url") or ""
    scheme = url.split("://", 1)[0] if "://" in url else "http"
    req = Request(
        method=d.get("method") or "",
        scheme=scheme,
        authority=d.get("host") or "",
        path=d.get("path") or "",
        http_version=r.get("http_version") or "1.1",
        headers=[(k, v) for k, v in r.get("headers") or []],
        body=_body_from(r),
        trailers=[(k, v) for k, v in r.get("trailers") or []],
    )
    resp = None
    if d.get("response"):
        s = d["response"]
        resp = Response(
            status=s.get("status"),
            reason=s.get("reason") or "",
            http_version=s.get("http_version") or "1.1",
            headers=[(k, v) for k, v in s.get("headers") or []],
            body=_body_from(s),
            trailers=[(k, v) for k, v in s.get("trailers") or []],
        )
    wall = _parse_iso(d.get("started"))
    base = int(wall * 1e9) if wall is not None else 0
    tm = d.get("timings") or {}
    timings = Timings(
        request_start=base if tm.get("request_start") is not None else None,
        request_end=_abs(tm.get("request_end"), base),
        response_start=_abs(tm.get("response_start"), base),
        response_end=_abs(tm.get("response_end"), base),
    )
    grpc = None
    if d.get("grpc"):
        g = d["grpc"]
        grpc = GrpcCall(
            service=g.get("service") or "",
            method=g.get("method") or "",
            status=g.get("status"),
            message=g.get("message") or "",
            requests=[_grpc_from(m) for m in g.get("requests") or []],
            responses=[_grpc_from(m) for m in g.get("responses") or []],
        )
    return Exchange(
        id=str(d.get("id") or ""),
        connection=conn,
        request=req,
        response=resp,
        timings=timings,
        stream_id=d.get("stream_id"),
        grpc=grpc,
        notes=list(d.get("notes") or []),
        complete=bool(d.get("complete", resp is not None)),
        wall_start=wall,
    )


def encode_bytes(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 text when the bytes are valid UTF-8, else base64."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def decode_bytes(text: str, encoding: str) -> bytes:
    """Inverse of ``encode_bytes``."""
    if encoding == "base64":
        return base64.b64decode(text)
    return text.encode("utf-8")


def _body(body: Body) -> dict[str, Any]:
    text, enc = encode_bytes(body.data)
    return {
        "body": text,
        "body_encoding": enc,
        "body_size": body.size,
        "body_truncated": body.truncated,
    }


def _body_from(d: dict[str, Any]) -> Body:
    data = decode_bytes(d.get("body") or "", d.get("body_encoding") or "utf-8")
    return Body(
        data=data,
        size=int(d.get("body_size") if d.get("body_size") is not None else len(data)),
        truncated=bool(d.get("body_truncated")),
    )


def _grpc_msg(m: GrpcMessage) -> dict[str, Any]:
    return {
        "size": m.size,
        "compressed": m.compressed,
        "data": base64.b64encode(m.data).decode("ascii"),
        "truncated": m.truncated,
    }


def _grpc_from(d: dict[str, Any]) -> GrpcMessage:
    return GrpcMessage(
        size=int(d.get("size") or 0),
        compressed=bool(d.get("compressed")),
        data=base64.b64decode(d.get("data") or ""),
        truncated=bool(d.get("truncated")),
    )


def _round(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 3)


def _rel(ns: int | None, start: int | None) -> float | None:
    if ns is None or start is None:
        return None
    return round((ns - start) / 1e6, 3)


def _abs(ms: float | None, base: int) -> int | None:
    return None if ms is None else base + round(ms * 1e6)


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    stamp = _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str | None) -> float | None:
    if not text:
        return None
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
