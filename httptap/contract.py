"""The JSON-lines contract (version 1): one object per exchange, and back.

Every line has ``"type"``: ``"exchange"`` (``to_dict``) or ``"message"`` (``message_to_dict``:
a WebSocket message or server-sent event, printed as it happens). ``httptap --jsonl`` prints
``to_dict``; the helper's exchange records carry the same object;
``--open file.jsonl`` reads it with ``from_dict``. Keys may be added, never renamed or removed
without bumping ``VERSION``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
from json.encoder import encode_basestring as _s
from typing import Any

from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    GrpcMessage,
    Message,
    Phases,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)
from httptap.present.clock import iso_utc

VERSION = 1


def to_dict(ex: Exchange) -> dict[str, Any]:
    """The contract object of ``ex``."""
    conn = ex.connection
    req = ex.request
    resp = ex.response
    t = ex.timings
    out: dict[str, Any] = {
        "v": VERSION,
        "type": "exchange",
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
        "phases": {name: _round(ms) for name, ms in ex.phases.items()},
        **({"hostname": conn.hostname} if conn.hostname else {}),
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


def to_json(ex: Exchange) -> str:
    """``to_dict(ex)`` as JSON text, built directly: the fast twin of ``to_dict``.

    Exactly ``json.JSONEncoder(ensure_ascii=False, check_circular=False).encode(to_dict(ex))``
    (key order, separators, float repr, string escaping) for an Exchange whose fields have the
    model's types; tests/unit/test_contract_json.py holds the two to that.
    """
    conn = ex.connection
    req = ex.request
    resp = ex.response
    g = ex.grpc
    t = ex.timings
    start = t.request_start
    if start is None:
        t0 = t1 = t2 = t3 = "null"
    else:
        t0 = "0.0"
        t1 = "null" if (n := t.request_end) is None else "0.0" if n == start else _ms(n - start)
        t2 = "null" if (n2 := t.response_start) is None else _ms(n2 - start)
        t3 = "null" if (n := t.response_end) is None else t2 if n == n2 else _ms(n - start)
    wall = ex.wall_start
    started = "null" if wall is None else f'"{iso_utc(wall)}"'
    sid = ex.stream_id
    # The short strings go in as they are, between literal quotes, when none of them needs
    # escaping (the usual case), else each through encode_basestring. Escaping only touches
    # '"', '\\' and U+0000..U+001F (ensure_ascii=False), so counting those bytes in the UTF-8
    # of them all tells (surrogatepass: lone surrogates go out raw, as the encoder's do). The
    # header lists (of name, value pairs) are joined with quoted separators, 4 quotes a pair.
    rh = req.headers
    rt = req.trailers
    if resp is None:
        strs = [ex.id, conn.local, conn.remote, req.method, ex.url, ex.host, req.path,
                req.http_version, _pairs(rh), _pairs(rt) if rt else "[]"]
        pairs = len(rh) + len(rt)
    else:
        sh = resp.headers
        st = resp.trailers
        strs = [ex.id, conn.local, conn.remote, req.method, ex.url, ex.host, req.path,
                req.http_version, resp.http_version, resp.reason, _pairs(rh),
                _pairs(rt) if rt else "[]", _pairs(sh), _pairs(st) if st else "[]"]
        pairs = len(rh) + len(rt) + len(sh) + len(st)
    chk = "".join(strs).encode("utf-8", "surrogatepass")
    if len(chk) - len(chk.translate(None, _UNSAFE)) != 4 * pairs:
        if resp is None:
            strs = [*(_s(x)[1:-1] for x in strs[:8]), _headers(rh), _headers(rt)]
        else:
            strs = [*(_s(x)[1:-1] for x in strs[:10]), _headers(rh), _headers(rt),
                    _headers(sh), _headers(st)]
    if resp is None:
        id_, local, remote, method, url, host, path, qv, qh, qt = strs
        status = "null"
        response = "null"
    else:
        id_, local, remote, method, url, host, path, qv, sv, reason, qh, qt, sh, st = strs
        status = "null" if (s := resp.status) is None else s
        response = (f'{{"http_version": "{sv}", "status": {status}, "reason": "{reason}", '
                    f'"headers": {sh}, "trailers": {st}, {_body_json(resp.body)}}}')
    notes = ex.notes
    if g is None:
        tail = "}"
    else:
        s = g.status
        tail = (
            f', "grpc": {{"service": {_s(g.service)}, "method": {_s(g.method)}, '
            f'"status": {"null" if s is None else s}, "message": {_s(g.message)}, '
            f'"requests": [{", ".join(map(_grpc_json, g.requests))}], '
            f'"responses": [{", ".join(map(_grpc_json, g.responses))}]}}}}'
        )
    return (
        f'{{"v": {VERSION}, "type": "exchange", "id": "{id_}", "pid": {conn.pid}, '
        f'"tid": {conn.tid}, "role": {_s(conn.role)}, '
        f'"proto": {_PROTO_GRPC if g is not None else _s(conn.protocol)}, '
        f'"tls": {"true" if conn.tls else "false"}, '
        f'"local": "{local}", "remote": "{remote}", "method": "{method}", '
        f'"url": "{url}", "host": "{host}", "path": "{path}", "status": {status}, '
        f'"started": {started}, "duration_ms": {t3}, "ttfb_ms": {t2}, '
        f'"timings": {{"request_start": {t0}, "request_end": {t1}, "response_start": {t2}, '
        f'"response_end": {t3}}}, {_phases_json(ex)}'
        f'"fd": {conn.fd}, "stream_id": {"null" if sid is None else sid}, '
        f'"complete": {"true" if ex.complete else "false"}, '
        f'"request": {{"http_version": "{qv}", "headers": {qh}, {_body_json(req.body)}'
        f'{f", {_TRAILERS}{qt}" if rt else ""}}}, "response": {response}, '
        f'"notes": [{", ".join(map(_s, notes)) if notes else ""}]{tail}'
    )


_PROTO_GRPC = _s(Proto.GRPC.value)
_TRAILERS = '"trailers": '
_NO_BODY = '"body": "", "body_encoding": "utf-8", "body_size": 0, "body_truncated": false'
_UNSAFE = bytes(range(0x20)) + b'"\\'  # what encode_basestring escapes (UTF-8 bytes)
_pair = '", "'.join
_rows = '"], ["'.join


def _phases_json(ex: Exchange) -> str:
    """The ``"phases"`` (and ``"hostname"``) members, with their trailing separator: the
    values of ``to_dict``'s, built from the timings' cached millisecond texts."""
    setup = ex.setup
    head = _NO_SETUP if setup is None else "".join(
        f'"{name}": {"null" if ms is None else repr(round(ms, 3))}, '
        for name, ms in (("dns", setup.dns), ("connect", setup.connect), ("tls", setup.tls))
    )
    t = ex.timings
    a, b, c, d = t.request_start, t.request_end, t.response_start, t.response_end
    send = "null" if a is None or b is None else _ms(max(b - a, 0))
    wait = "null" if b is None or c is None else _ms(max(c - b, 0))
    receive = "null" if c is None or d is None else _ms(max(d - c, 0))
    name = ex.connection.hostname
    return (f'"phases": {{{head}"send": {send}, "wait": {wait}, "receive": {receive}}}, '
            + (f'"hostname": {_s(name)}, ' if name else ""))


_NO_SETUP = '"dns": null, "connect": null, "tls": null, '


def _pairs(headers: list[tuple[str, str]]) -> str:
    """A header list as JSON, its strings not escaped."""
    return f'[["{_rows(map(_pair, headers))}"]]' if headers else "[]"


def _headers(headers: list[tuple[str, str]]) -> str:
    """A header list as JSON."""
    return "[" + ", ".join(["[" + ", ".join(map(_s, h)) + "]" for h in headers]) + "]"


def _ms(ns: int) -> str:
    """``repr(round(ns / 1e6, 3))``, the text cached by microsecond. For 0 <= ns < 1e15 not
    on a half microsecond, ``ns`` is an exact double and ``ns / 1e6`` (under 2**30 ms) lies
    within 6e-8 ms of the true quotient, itself at least 1e-6 ms from a rounding tie: so
    ``round`` gives the double nearest to the nearest microsecond, whichever ``ns`` led
    there."""
    if 0 <= ns < 1_000_000_000_000_000 and ns % 1000 != 500:
        us = (ns + 500) // 1000
        text = _ms_text.get(us)
        if text is None:
            text = repr(round(ns / 1e6, 3))
            if len(_ms_text) < 4096:
                _ms_text[us] = text
        return text
    return repr(round(ns / 1e6, 3))


_ms_text: dict[int, str] = {}


def _body_json(body: Body) -> str:
    data = body.data
    if not data:
        if body.size == 0 and not body.truncated:
            return _NO_BODY
        text = '""'
        enc = '"utf-8"'
    else:
        try:
            text = _s(data.decode("utf-8"))
            enc = '"utf-8"'
        except UnicodeDecodeError:
            text = '"' + base64.b64encode(data).decode("ascii") + '"'
            enc = '"base64"'
    return (f'"body": {text}, "body_encoding": {enc}, "body_size": {body.size}, '
            f'"body_truncated": {"true" if body.truncated else "false"}')


def _grpc_json(m: GrpcMessage) -> str:
    return (f'{{"size": {m.size}, "compressed": {"true" if m.compressed else "false"}, '
            f'"data": "{base64.b64encode(m.data).decode("ascii")}", '
            f'"truncated": {"true" if m.truncated else "false"}}}')


def from_dict(d: dict[str, Any]) -> Exchange:
    """Rebuild an Exchange from a contract object (times keep microsecond precision)."""
    if d.get("v") != VERSION:
        raise ValueError(f"unsupported JSON-lines contract version {d.get('v')!r}")
    if d.get("type", "exchange") != "exchange":
        raise ValueError(f"not an exchange line: type {d.get('type')!r}")
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
        hostname=d.get("hostname") or "",
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
        setup=_setup_from(d.get("phases")),
    )


def _setup_from(phases: dict[str, Any] | None) -> Phases | None:
    """The set-up part of a ``"phases"`` object (send/wait/receive follow from timings)."""
    if not isinstance(phases, dict):
        return None
    # a saved file may hold anything: only finite, non-negative numbers are durations
    got = [v if type(v) in (int, float) and math.isfinite(v) and v >= 0 else None
           for v in (phases.get("dns"), phases.get("connect"), phases.get("tls"))]
    return Phases(*got) if any(v is not None for v in got) else None


def message_to_dict(m: Message) -> dict[str, Any]:
    """The contract object of a message line."""
    text, enc = encode_bytes(m.data)
    out: dict[str, Any] = {
        "v": VERSION,
        "type": "message",
        "id": m.id,
        "exchange_id": m.exchange_id,
        "pid": m.pid,
        "tid": m.tid,
        "proto": m.proto,
        "direction": m.direction,
        "opcode": m.opcode,
        "data": text,
        "data_encoding": enc,
        "size": m.size,
        "truncated": m.truncated,
        "compressed": m.compressed,
        "close_code": m.close_code,
        "close_reason": m.close_reason,
        "sse": None,
        "time": _iso(m.wall),
    }
    if m.proto == "sse":
        out["sse"] = {"id": m.sse_id, "event": m.sse_event, "retry": m.sse_retry}
    return out


def message_from_dict(d: dict[str, Any]) -> Message:
    """Rebuild a Message from a message line (``time_ns`` from its wall time)."""
    if d.get("v") != VERSION:
        raise ValueError(f"unsupported JSON-lines contract version {d.get('v')!r}")
    if d.get("type") != "message":
        raise ValueError(f"not a message line: type {d.get('type')!r}")
    sse = d.get("sse") or {}
    wall = _parse_iso(d.get("time"))
    data = decode_bytes(d.get("data") or "", d.get("data_encoding") or "utf-8")
    code = d.get("close_code")
    retry = sse.get("retry")
    return Message(
        id=str(d.get("id") or ""),
        exchange_id=str(d.get("exchange_id") or ""),
        pid=int(d.get("pid") or 0),
        tid=int(d.get("tid") or 0),
        proto=str(d.get("proto") or "websocket"),
        direction=str(d.get("direction") or "received"),
        opcode=str(d.get("opcode") or "text"),
        data=data,
        size=int(d["size"]) if d.get("size") is not None else len(data),
        truncated=bool(d.get("truncated")),
        compressed=bool(d.get("compressed")),
        close_code=int(code) if code is not None else None,
        close_reason=str(d.get("close_reason") or ""),
        sse_id=sse.get("id"),
        sse_event=sse.get("event"),
        sse_retry=int(retry) if retry is not None else None,
        time_ns=round(wall * 1e9) if wall is not None else 0,
        wall=wall,
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
    return None if epoch is None else iso_utc(epoch)


def _parse_iso(text: str | None) -> float | None:
    if not text:
        return None
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
