"""HAR files read back (``--open file.har``): ours rebuilt faithfully from ``_httptap``,
browsers' (and other tools') best effort."""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any
from urllib.parse import urlsplit

from httptap import contract
from httptap.export.har.fields import CREATOR, TRAILER
from httptap.export.har.messages import messages_from_har
from httptap.export.har.timings import setup_from_har
from httptap.export.session import SessionError
from httptap.export.validate import check_exchange
from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    Headers,
    Proto,
    Request,
    Response,
    Role,
    Timings,
    find_header,
)


def load_har(path: str | os.PathLike[str]) -> list[Exchange]:
    """Exchanges of a HAR file: ours rebuilt exactly, browsers' best effort.

    Raises ``SessionError`` for a file that is not HAR.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SessionError(f"{name}: cannot read: {exc.strerror or exc}") from None
    text = raw.decode("utf-8-sig", "replace")
    try:
        doc = json.loads(text)
        entries = _entries_of(doc, name)
        recovered = False
    except RecursionError:
        raise SessionError(f"{name}: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        entries = _recover_entries(text)
        if entries is None:
            raise SessionError(
                f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
            ) from None
        recovered = True
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise SessionError(f"{name}: entry {i}: not an object")
        try:
            ex = check_exchange(har_entry_to_exchange(entry, i))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise SessionError(f"{name}: entry {i}: not a valid HAR entry: {exc!r}") from None
        if recovered:
            ex.note("loaded from a HAR file that was cut short")
        out.append(ex)
    return out


def _entries_of(doc: Any, name: str) -> list[Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("log"), dict):
        raise SessionError(f'{name}: not a HAR file (no "log" object)')
    entries = doc["log"].get("entries")
    if not isinstance(entries, list):
        raise SessionError(f'{name}: not a HAR file (no "log.entries" list)')
    return entries


def _recover_entries(text: str) -> list[Any] | None:
    """Complete entries of a HarWriter file cut short, one entry per line; else None."""
    if f'"creator": {{\n      "name": "{CREATOR}"' not in text[:400]:
        return None
    entries = []
    for line in text.splitlines():
        line = line.rstrip().rstrip(",")
        if line.startswith("{") and line.endswith("}"):
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(obj, dict) and "request" in obj:
                entries.append(obj)
    return entries


def har_entry_to_exchange(entry: dict[str, Any], index: int = 0) -> Exchange:
    """One HAR entry as an Exchange (``index`` names foreign entries without an id)."""
    custom = entry.get("_httptap")
    if isinstance(custom, dict) and custom.get("v") == contract.VERSION:
        ex = _ours(entry, custom)
    else:
        ex = _foreign(entry, index)
    ex.messages = messages_from_har(entry, ex)
    return ex


def _split_headers(items: list[dict[str, Any]] | None) -> tuple[Headers, Headers]:
    headers: Headers = []
    trailers: Headers = []
    for h in items or []:
        pair = (str(h["name"]), str(h.get("value", "")))
        (trailers if h.get("comment") == TRAILER else headers).append(pair)
    return headers, trailers


def _post_body(req: dict[str, Any]) -> tuple[str, str]:
    post = req.get("postData") or {}
    enc = post.get("_encoding") or post.get("encoding") or "utf-8"
    return post.get("text") or "", "base64" if enc == "base64" else "utf-8"


def _ours(entry: dict[str, Any], c: dict[str, Any]) -> Exchange:
    """Rebuild the contract object from the entry and ``_httptap``, then the Exchange."""
    req = entry["request"]
    headers, trailers = _split_headers(req.get("headers"))
    body, enc = _post_body(req)
    d: dict[str, Any] = {k: v for k, v in c.items() if k not in ("request", "response")}
    d.update(method=req.get("method", ""), url=req.get("url", ""))
    d.setdefault("started", entry.get("startedDateTime"))
    rc = c.get("request") or {}
    d["request"] = {
        "http_version": rc.get("http_version", "1.1"),
        "headers": headers,
        "trailers": trailers,
        "body": body,
        "body_encoding": enc,
        "body_size": rc.get("body_size"),
        "body_truncated": rc.get("body_truncated", False),
    }
    sc = c.get("response")
    d["response"] = None
    if isinstance(sc, dict):
        resp = entry["response"]
        headers, trailers = _split_headers(resp.get("headers"))
        content = resp.get("content") or {}
        if "body_raw" in sc:
            body, enc = sc["body_raw"], "base64"
        else:
            body = content.get("text") or ""
            enc = "base64" if content.get("encoding") == "base64" else "utf-8"
        d["response"] = {
            "http_version": sc.get("http_version", "1.1"),
            "status": sc.get("status"),
            "reason": resp.get("statusText", ""),
            "headers": headers,
            "trailers": trailers,
            "body": body,
            "body_encoding": enc,
            "body_size": sc.get("body_size"),
            "body_truncated": sc.get("body_truncated", False),
        }
    return contract.from_dict(d)


def _foreign(entry: dict[str, Any], index: int) -> Exchange:
    """A browser's (or another tool's) entry, best effort."""
    req = entry["request"]
    url = urlsplit(str(req["url"]))
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    version = str(req.get("httpVersion") or "")
    http_version, proto = _version_from_har(version)
    notes: list[str] = []
    if version.lower() in ("h3", "http/3", "http/3.0"):
        notes.append("HTTP/3 in the HAR file, shown as h2")
    headers, trailers = _split_headers(req.get("headers"))
    body_text, enc = _post_body(req)
    req_data = contract.decode_bytes(body_text, enc)
    req_size = req.get("bodySize")
    request = Request(
        method=str(req.get("method") or ""),
        scheme=url.scheme or "http",
        authority=url.netloc,
        path=path,
        http_version=http_version,
        headers=headers,
        body=Body(req_data, req_size if _nonneg(req_size) else len(req_data), False),
        trailers=trailers,
    )
    response = None
    resp = entry.get("response") or {}
    if resp.get("status") or resp.get("headers"):
        headers, trailers = _split_headers(resp.get("headers"))
        content = resp.get("content") or {}
        text = content.get("text") or ""
        data = contract.decode_bytes(text, "base64" if content.get("encoding") == "base64" else "")
        size = resp.get("bodySize")
        if not _nonneg(size):
            size = content.get("size") if _nonneg(content.get("size")) else len(data)
        response = Response(
            status=int(resp["status"]) if resp.get("status") else None,
            reason=str(resp.get("statusText") or ""),
            http_version=_version_from_har(str(resp.get("httpVersion") or version))[0],
            headers=headers,
            body=Body(data, size, False),
            trailers=trailers,
        )
        if any(k.lower() == "content-encoding" for k, _ in headers) and data:
            notes.append("response body as stored in the HAR file (already decoded)")
    else:
        notes.append(str(resp.get("_error") or "no response"))
    started = _parse_iso(entry.get("startedDateTime"))
    tm = entry.get("timings") or {}
    pre = sum(float(tm[k]) for k in ("blocked", "dns", "connect") if _nonneg(tm.get(k)))
    wall = started + pre / 1000 if started is not None else None
    base = int(wall * 1e9) if wall is not None else 0
    points: list[int | None] = []
    cursor = 0.0
    for key in ("send", "wait", "receive"):
        value = tm.get(key)
        if _nonneg(value):
            cursor += float(value)
            points.append(base + round(cursor * 1e6))
        else:
            points.append(None)
    if response is None:
        points[1] = points[2] = None
    server = str(entry.get("serverIPAddress") or "").strip("[]")
    port = url.port or (443 if url.scheme == "https" else 80)
    remote = ""
    if server:
        remote = f"[{server}]:{port}" if ":" in server else f"{server}:{port}"
    ex = Exchange(
        id=str(entry.get("_requestId") or f"har-{index}"),
        connection=Connection(remote=remote, role=Role.CLIENT, tls=url.scheme == "https",
                              protocol=proto),
        request=request,
        response=response,
        timings=Timings(base, points[0], points[1], points[2]),
        setup=setup_from_har(tm),
        notes=notes,
        complete=response is not None,
        wall_start=wall,
    )  # fmt: skip
    _grpc_from_headers(ex)
    return ex


def _grpc_from_headers(ex: Exchange) -> None:
    ctype = (ex.request.header("content-type") or "").lower()
    if not ctype.startswith("application/grpc"):
        return
    service, _, method = ex.request.path.lstrip("/").partition("/")
    call = GrpcCall(service=service, method=method)
    resp = ex.response
    if resp is not None:
        status = find_header(resp.trailers, "grpc-status") or resp.header("grpc-status")
        if status is not None and status.strip().isdigit():
            call.status = int(status)
        call.message = find_header(resp.trailers, "grpc-message") or ""
    ex.grpc = call


def _version_from_har(version: str) -> tuple[str, Proto]:
    v = version.lower()
    if v in ("h2", "http/2", "http/2.0", "h3", "http/3", "http/3.0", "h2c"):
        return "2", Proto.H2
    if v.startswith("http/"):
        return v[5:] or "1.1", Proto.HTTP1
    return "1.1", Proto.HTTP1


def _nonneg(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _parse_iso(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    s = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.10's fromisoformat wants exactly 3 or 6 fraction digits.
    head, dot, rest = s.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, tz = rest[:digits], rest[digits:]
        s = f"{head}.{(frac + '000000')[:6]}{tz}"
    try:
        stamp = _dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.timezone.utc)
    return stamp.timestamp()
