"""The HAR 1.2 entry of an exchange.

Entries carry an ``_httptap`` object (custom fields are allowed by HAR 1.2 when their names
start with ``_``) with what HAR has no place for: pid, tid, fd, role, proto, TLS,
addresses, stream id, gRPC messages, notes, true body sizes and truncation, and the raw
body when ``content.text`` holds a decoded (gunzipped) one.
"""

from __future__ import annotations

import base64
import ipaddress
from typing import Any
from urllib.parse import parse_qsl

from httptap import contract
from httptap.content.encoding import undo_content_encoding
from httptap.export.har.fields import (
    har_headers,
    har_http_version,
    headers_size,
    query_string,
    request_cookies,
    response_cookies,
)
from httptap.export.har.messages import har_messages
from httptap.export.har.timings import har_time, har_timings
from httptap.model import Body, Connection, Exchange, Role
from httptap.present.clock import iso_utc

#: the most a body is inflated to for a HAR file; beyond it (a decompression bomb) the
#: encoded bytes are saved as they are
MAX_DECODED = 32 * 1024 * 1024


def exchange_to_har_entry(ex: Exchange) -> dict[str, Any]:
    """The HAR 1.2 entry of ``ex`` (a pending exchange gets a status-0 response)."""
    c = contract.to_dict(ex)
    conn = ex.connection
    timings = har_timings(ex)  # phases: dns, connect (with ssl), ssl, send, wait, receive
    version = har_http_version(ex, ex.request.http_version)
    response, raw = _har_response(ex, c["response"], version)
    entry: dict[str, Any] = {
        "startedDateTime": _iso(_entry_start(ex.wall_start, timings)),
        "time": har_time(timings),
        "request": _har_request(ex, c["request"], version),
        "response": response,
        "cache": {},
        "timings": timings,
        "connection": f"{conn.pid}:{conn.fd}",
    }
    server_ip = _server_ip(conn)
    if server_ip:
        entry["serverIPAddress"] = server_ip
    if ex.notes:
        entry["comment"] = "; ".join(ex.notes)
    custom: dict[str, Any] = {
        key: c[key]
        for key in (
            "v", "id", "pid", "tid", "fd", "role", "proto", "tls", "local", "remote",
            "host", "path", "stream_id", "complete", "notes", "timings", "phases",
        )
    }  # fmt: skip
    custom["started"] = c["started"]
    if "hostname" in c:
        custom["hostname"] = c["hostname"]
    custom["request"] = {
        "http_version": ex.request.http_version,
        "body_size": ex.request.body.size,
        "body_truncated": ex.request.body.truncated,
    }
    custom["response"] = None
    if ex.response is not None:
        custom["response"] = {
            "http_version": ex.response.http_version,
            "status": ex.response.status,
            "body_size": ex.response.body.size,
            "body_truncated": ex.response.body.truncated,
        }
        if raw is not None:
            custom["response"]["body_raw"] = raw
    if "grpc" in c:
        custom["grpc"] = c["grpc"]
    entry["_httptap"] = custom
    entry.update(har_messages(ex))
    return entry


def _har_request(ex: Exchange, c: dict[str, Any], version: str) -> dict[str, Any]:
    req = ex.request
    out: dict[str, Any] = {
        "method": req.method,
        "url": ex.url,
        "httpVersion": version,
        "cookies": request_cookies(req.headers),
        "headers": har_headers(req.headers, req.trailers),
        "queryString": query_string(req.path),
        "headersSize": headers_size(
            f"{req.method} {req.path} HTTP/{req.http_version}", req.headers, version
        ),
        "bodySize": req.body.size,
    }
    if req.body.size or req.body.data:
        mime = req.header("content-type") or "application/octet-stream"
        post: dict[str, Any] = {"mimeType": mime, "text": c["body"]}
        if c["body_encoding"] == "base64":
            # HAR 1.2 has no encoding for postData; custom fields start with "_".
            post["_encoding"] = "base64"
        elif mime.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            post["params"] = [
                {"name": k, "value": v} for k, v in parse_qsl(c["body"], keep_blank_values=True)
            ]
        if req.body.truncated:
            post["comment"] = _truncation_comment(req.body)
        out["postData"] = post
    return out


def _har_response(
    ex: Exchange, c: dict[str, Any] | None, version: str
) -> tuple[dict[str, Any], str | None]:
    """The HAR response and, when ``content.text`` is decoded, the raw body in base64."""
    resp = ex.response
    if resp is None or c is None:
        # Browsers write status 0 for requests that got no answer; viewers show it as such.
        pending = {
            "status": 0,
            "statusText": "",
            "httpVersion": version,
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "comment": "no response (pending when the capture ended)",
        }
        return pending, None
    mime = resp.header("content-type") or "x-unknown"
    content: dict[str, Any] = {"size": resp.body.size, "mimeType": mime}
    raw = None
    decoded = _decode_content(resp.header("content-encoding"), resp.body)
    if decoded is not None:
        text, enc = contract.encode_bytes(decoded)
        content["size"] = len(decoded)
        content["compression"] = len(decoded) - resp.body.size
        raw = base64.b64encode(resp.body.data).decode("ascii")
    else:
        text, enc = c["body"], c["body_encoding"]
    if text or resp.body.size:
        content["text"] = text
    if enc == "base64":
        content["encoding"] = "base64"
    if resp.body.truncated:
        content["comment"] = _truncation_comment(resp.body)
    status_line = f"HTTP/{resp.http_version} {resp.status} {resp.reason}"
    out = {
        "status": resp.status if resp.status is not None else 0,
        "statusText": resp.reason,
        "httpVersion": version,
        "cookies": response_cookies(resp.headers),
        "headers": har_headers(resp.headers, resp.trailers),
        "content": content,
        "redirectURL": resp.header("location") or "",
        "headersSize": headers_size(status_line, resp.headers, version),
        "bodySize": resp.body.size,
    }
    return out, raw


def _decode_content(encoding: str | None, body: Body) -> bytes | None:
    """The body with its content-encodings undone (the same codecs as the display), or
    None: not encoded, truncated, not undone in full (unknown coding, codec missing, corrupt),
    or larger than ``MAX_DECODED`` once decoded (then the encoded bytes are saved)."""
    if not encoding or not body.data or body.truncated:
        return None
    plain = undo_content_encoding(body.data, encoding, limit=MAX_DECODED)
    if not plain.steps or not plain.complete:
        return None
    return plain.data


def _truncation_comment(body: Body) -> str:
    return f"truncated: {len(body.data)} of {body.size} bytes captured"


def _server_ip(conn: Connection) -> str:
    addr = conn.local if conn.role is Role.SERVER else conn.remote
    host = addr.rsplit(":", 1)[0] if ":" in addr else ""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return ""


def _entry_start(wall: float | None, timings: dict[str, float]) -> float | None:
    """HAR's start is the lookup's: before the request by the set-up phases."""
    if wall is None:
        return None
    return wall - sum(timings[k] for k in ("dns", "connect") if timings[k] > 0) / 1000


def _iso(epoch: float | None) -> str:
    # HAR requires a date; an exchange without a wall clock time gets the epoch.
    return iso_utc(epoch or 0.0)
