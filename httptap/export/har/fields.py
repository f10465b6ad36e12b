"""HAR fields built from headers and paths: headers (trailers marked), cookies, query
strings, header block sizes, HTTP versions; shared by the entry builder and the loader."""

from __future__ import annotations

import datetime as _dt
import email.utils
from typing import Any

from httptap.model import Exchange, Headers, Proto
from httptap.present.clock import iso_utc

HAR_VERSION = "1.2"
CREATOR = "httptap"
#: header comment that marks a trailer (HAR has no trailers)
TRAILER = "trailer"


def har_headers(headers: Headers, trailers: Headers) -> list[dict[str, str]]:
    """HAR headers: the headers, then the trailers marked by a ``trailer`` comment."""
    out = [{"name": k, "value": v} for k, v in headers]
    out += [{"name": k, "value": v, "comment": TRAILER} for k, v in trailers]
    return out


def headers_size(first_line: str, headers: Headers, version: str) -> int:
    """Bytes of an HTTP/1.x header block as parsed; -1 for h2 (HPACK-compressed)."""
    if not version.startswith("HTTP/1"):
        return -1
    size = len(first_line.encode("utf-8", "replace")) + 2 + 2
    for k, v in headers:
        size += len(k.encode("utf-8", "replace")) + 2 + len(v.encode("utf-8", "replace")) + 2
    return size


def request_cookies(headers: Headers) -> list[dict[str, Any]]:
    """The cookies of the ``Cookie`` headers."""
    out = []
    for k, v in headers:
        if k.lower() == "cookie":
            for part in v.split(";"):
                name, eq, value = part.strip().partition("=")
                if eq or name:
                    out.append({"name": name if eq else "", "value": value if eq else name})
    return out


def response_cookies(headers: Headers) -> list[dict[str, Any]]:
    """The cookies of the ``Set-Cookie`` headers, with their path, domain, expiry, flags."""
    out = []
    for k, v in headers:
        if k.lower() != "set-cookie":
            continue
        first, *attrs = v.split(";")
        name, _, value = first.strip().partition("=")
        cookie: dict[str, Any] = {"name": name, "value": value}
        for attr in attrs:
            key, _, val = attr.strip().partition("=")
            key = key.lower()
            if key in ("path", "domain"):
                cookie[key] = val
            elif key == "expires":
                stamp = _http_date(val)
                if stamp:
                    cookie["expires"] = stamp
            elif key == "httponly":
                cookie["httpOnly"] = True
            elif key == "secure":
                cookie["secure"] = True
        out.append(cookie)
    return out


def _http_date(text: str) -> str | None:
    try:
        stamp = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.timezone.utc)
    return iso_utc(stamp.timestamp())  # the same form as every other time in the file


def query_string(path: str) -> list[dict[str, str]]:
    """The query of ``path`` as HAR ``queryString`` pairs."""
    # Raw (still percent-encoded) names and values, as browsers write them.
    _, sep, query = path.partition("?")
    if not sep:
        return []
    out = []
    for part in query.split("#", 1)[0].split("&"):
        if part:
            name, _, value = part.partition("=")
            out.append({"name": name, "value": value})
    return out


def har_http_version(ex: Exchange, version: str) -> str:
    """``HTTP/1.1`` or ``h2`` (as browsers write it) for ``ex``."""
    if ex.proto is not Proto.HTTP1 or version.startswith("2"):
        return "h2"
    return f"HTTP/{version or '1.1'}"
