"""HAR 1.2 export (``--save out.har``) and import (``--open file.har``).

``HarWriter`` keeps the file a complete, valid HAR after every ``add``: the closing tail
(``]}}``) is always on disk, and each ``add`` seeks back over it and writes the new entry and
the tail again in one ``write``. So Ctrl-C, SIGTERM, the target exiting, or even a SIGKILL
between two adds leave a valid file; the cost per add is the size of one entry (no rewrite
of the whole file): measured ≈55 µs median for 1.8 KB entries, flat from 1k to 10k entries,
where an atomic temp-file rewrite per add cost ≈53 ms at 1k entries. Each entry sits on
its own line, so ``load_har`` can still recover the complete entries of a file cut short
inside a write (a kill during the write itself, or a full disk).

Entries carry an ``_httptap`` object (custom fields are allowed by HAR 1.2 when their names
start with ``_``) with what HAR has no place for: pid, tid, fd, role, proto, TLS,
addresses, stream id, gRPC messages, notes, true body sizes and truncation, and the raw
body when ``content.text`` holds a decoded (gunzipped) one. ``load_har`` rebuilds our own
files faithfully from it and loads browsers' HAR files best effort.
"""

from __future__ import annotations

import base64
import datetime as _dt
import email.utils
import ipaddress
import json
import os
import threading
import zlib
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from httptap import __version__, contract
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

HAR_VERSION = "1.2"
CREATOR = "httptap"
_TRAILER = "trailer"  # header comment that marks a trailer (HAR has no trailers)
_ENTRIES_MARK = '"__httptap_entries__"'


# -- export ------------------------------------------------------------------------------


def exchange_to_har_entry(ex: Exchange) -> dict[str, Any]:
    """The HAR 1.2 entry of ``ex`` (a pending exchange gets a status-0 response)."""
    c = contract.to_dict(ex)
    conn = ex.connection
    t = ex.timings
    send = _span(t.request_start, t.request_end)
    wait = _span(t.request_end, t.response_start)
    receive = _span(t.response_start, t.response_end)
    version = _har_http_version(ex, ex.request.http_version)
    response, raw = _har_response(ex, c["response"], version)
    entry: dict[str, Any] = {
        "startedDateTime": _iso(ex.wall_start),
        "time": round(sum(v for v in (send, wait, receive) if v > 0), 3),
        "request": _har_request(ex, c["request"], version),
        "response": response,
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "send": send,
            "wait": wait,
            "receive": receive,
            "ssl": -1,
        },
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
            "host", "path", "stream_id", "complete", "notes", "timings",
        )
    }  # fmt: skip
    custom["started"] = c["started"]
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
    return entry


def _har_request(ex: Exchange, c: dict[str, Any], version: str) -> dict[str, Any]:
    req = ex.request
    out: dict[str, Any] = {
        "method": req.method,
        "url": ex.url,
        "httpVersion": version,
        "cookies": _request_cookies(req.headers),
        "headers": _har_headers(req.headers, req.trailers),
        "queryString": _query_string(req.path),
        "headersSize": _headers_size(
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
        "cookies": _response_cookies(resp.headers),
        "headers": _har_headers(resp.headers, resp.trailers),
        "content": content,
        "redirectURL": resp.header("location") or "",
        "headersSize": _headers_size(status_line, resp.headers, version),
        "bodySize": resp.body.size,
    }
    return out, raw


def _har_headers(headers: Headers, trailers: Headers) -> list[dict[str, str]]:
    out = [{"name": k, "value": v} for k, v in headers]
    out += [{"name": k, "value": v, "comment": _TRAILER} for k, v in trailers]
    return out


def _headers_size(first_line: str, headers: Headers, version: str) -> int:
    """Bytes of an HTTP/1.x header block as parsed; -1 for h2 (HPACK-compressed)."""
    if not version.startswith("HTTP/1"):
        return -1
    size = len(first_line.encode("utf-8", "replace")) + 2 + 2
    for k, v in headers:
        size += len(k.encode("utf-8", "replace")) + 2 + len(v.encode("utf-8", "replace")) + 2
    return size


def _request_cookies(headers: Headers) -> list[dict[str, Any]]:
    out = []
    for k, v in headers:
        if k.lower() == "cookie":
            for part in v.split(";"):
                name, eq, value = part.strip().partition("=")
                if eq or name:
                    out.append({"name": name if eq else "", "value": value if eq else name})
    return out


def _response_cookies(headers: Headers) -> list[dict[str, Any]]:
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
    return stamp.isoformat()


def _query_string(path: str) -> list[dict[str, str]]:
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


#: the most a body is inflated to for a HAR file; beyond it (a decompression bomb) the
#: encoded bytes are saved as they are
MAX_DECODED = 32 * 1024 * 1024


def _decode_content(encoding: str | None, body: Body) -> bytes | None:
    """The body with its content-encoding undone, or None (not encoded, truncated, unknown,
    or larger than ``MAX_DECODED`` once decoded)."""
    if not encoding or not body.data or body.truncated:
        return None
    enc = encoding.strip().lower()
    try:
        if enc in ("gzip", "x-gzip"):
            return _inflate(body.data, 47)
        if enc == "deflate":
            try:
                return _inflate(body.data, zlib.MAX_WBITS)
            except zlib.error:
                return _inflate(body.data, -15)  # raw deflate, as some servers send
        if enc == "br":
            import brotli  # type: ignore[import-not-found]  # optional

            return _unbrotli(brotli, body.data)
    except Exception:  # corrupt or optional decoder missing: keep the raw bytes
        return None
    return None


def _inflate(data: bytes, wbits: int) -> bytes | None:
    d = zlib.decompressobj(wbits)
    # max_length bounds memory however small the input is (a 64 KiB gzip inflates to 64 MiB)
    out = d.decompress(data, MAX_DECODED + 1)
    if len(out) > MAX_DECODED:
        return None
    if not d.eof:
        raise zlib.error("incomplete stream")
    return out


def _unbrotli(mod: Any, data: bytes) -> bytes | None:
    d = mod.Decompressor()
    out = bytearray()
    for i in range(0, len(data), 256):  # small steps keep each step's output bounded
        out += d.process(data[i : i + 256])
        if len(out) > MAX_DECODED:
            return None
    finished = getattr(d, "is_finished", None)
    if finished is not None and not finished():
        return None
    return bytes(out)


def _truncation_comment(body: Body) -> str:
    return f"truncated: {len(body.data)} of {body.size} bytes captured"


def _span(start: int | None, end: int | None) -> float:
    """Milliseconds between two monotonic ns instants; -1 when either is unknown."""
    if start is None or end is None:
        return -1
    # Clamped: an h2 server may answer before the request body ends; HAR wants >= 0.
    return round(max(0, end - start) / 1e6, 3)


def _har_http_version(ex: Exchange, version: str) -> str:
    if ex.proto is not Proto.HTTP1 or version.startswith("2"):
        return "h2"
    return f"HTTP/{version or '1.1'}"


def _server_ip(conn: Connection) -> str:
    addr = conn.local if conn.role is Role.SERVER else conn.remote
    host = addr.rsplit(":", 1)[0] if ":" in addr else ""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return ""


def _iso(epoch: float | None) -> str:
    # HAR requires a date; an exchange without a wall clock time gets the epoch.
    stamp = _dt.datetime.fromtimestamp(epoch or 0.0, tz=_dt.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class HarWriter:
    """Writes a HAR 1.2 file that is complete and valid after every ``add``.

    ``HarWriter(path, force=False)`` refuses to replace an existing file (FileExistsError)
    unless ``force``. ``fsync=True`` also forces each add to the disk (survives a power
    cut, at a cost of a disk flush per add); ``close`` always does. Thread-safe.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        force: bool = False,
        creator_version: str = __version__,
        fsync: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self._fsync = fsync
        self._lock = threading.Lock()
        self.count = 0
        try:
            # "x" creates atomically: no race between checking for the file and creating it.
            self._file: IO[bytes] | None = open(self.path, "wb" if force else "xb", buffering=0)  # noqa: SIM115
        except FileExistsError:
            err = FileExistsError(
                f"{self.path} already exists; use --force (force=True) to overwrite it"
            )
            raise err from None
        doc = {
            "log": {
                "version": HAR_VERSION,
                "creator": {"name": CREATOR, "version": creator_version},
                "pages": [],
                "entries": "__httptap_entries__",
            }
        }
        head, tail = json.dumps(doc, indent=2).split(_ENTRIES_MARK)
        self._tail = b"\n]" + tail.encode() + b"\n"
        self._head = head.encode() + b"["
        self._write(0, self._head)

    def add(self, ex: Exchange) -> None:
        """Append the entry of ``ex``; the file is valid again when this returns."""
        line = json.dumps(exchange_to_har_entry(ex), ensure_ascii=False)
        # A lone surrogate (undecodable bytes kept by a parser) cannot be UTF-8: write it
        # as the JSON escape \udcXX, which backslashreplace happens to produce.
        data = line.encode("utf-8", "backslashreplace")
        with self._lock:
            if self._file is None:
                raise ValueError("HarWriter is closed")
            # Where the tail starts is read from the file, not kept in a variable: an add
            # interrupted (KeyboardInterrupt) after its write but before any bookkeeping
            # would otherwise leave the next add writing a comma too few or bytes too early.
            pos = os.fstat(self._file.fileno()).st_size - len(self._tail)
            first = pos == len(self._head)
            self._write(pos, (b"\n" if first else b",\n") + data)
            self.count += 1

    def close(self) -> None:
        """Flush to disk and close; idempotent."""
        with self._lock:
            if self._file is None:
                return
            try:
                os.fsync(self._file.fileno())
            finally:
                self._file.close()
                self._file = None

    def __enter__(self) -> HarWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, pos: int, chunk: bytes) -> None:
        """Write ``chunk`` and the tail at ``pos`` (the old tail's start), in one write."""
        assert self._file is not None
        payload = memoryview(chunk + self._tail)
        self._file.seek(pos)
        while payload:  # an unbuffered write may be partial
            n = self._file.write(payload)
            payload = payload[n or 0 :]
        if self._fsync:
            os.fsync(self._file.fileno())


# -- import ------------------------------------------------------------------------------


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
        return _ours(entry, custom)
    return _foreign(entry, index)


def _split_headers(items: list[dict[str, Any]] | None) -> tuple[Headers, Headers]:
    headers: Headers = []
    trailers: Headers = []
    for h in items or []:
        pair = (str(h["name"]), str(h.get("value", "")))
        (trailers if h.get("comment") == _TRAILER else headers).append(pair)
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
