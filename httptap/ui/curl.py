"""An exchange's request as a curl command line (the network tab's "Copy as cURL")."""

from __future__ import annotations

import re
import shlex

from httptap.model import Exchange, Proto
from httptap.secrets import MASK

# curl computes these itself; copying them would contradict what it sends.
_SKIP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive",
                   "upgrade", "http2-settings", "te"})
_COMPRESSED = re.compile(r"gzip|deflate|br|zstd", re.IGNORECASE)
_TAKES_VALUE = frozenset({"-X", "-H", "--data-raw", "--data-binary"})


def needs_body_file(ex: Exchange) -> bool:
    """Whether the request body must go to a side file (binary, or not valid UTF-8)."""
    data = ex.request.body.data
    if not data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return "\x00" in text


def curl_command(ex: Exchange, body_path: str | None = None) -> str:
    """A shell command that repeats ``ex``'s request; ``body_path`` holds a binary body."""
    req = ex.request
    lines: list[str] = []
    if req.body.truncated:
        lines.append(
            f"# the request body was truncated at capture: {len(req.body.data)} of "
            f"{req.body.size} bytes kept, so this repeats only that prefix"
        )
    masked = any(MASK in v for _, v in req.headers) or MASK in req.path
    if masked:
        lines.append("# values shown as **** were masked at capture (httptap --show-secrets)")
    args = ["curl"]
    proto = ex.proto
    if proto in (Proto.H2, Proto.GRPC):
        args.append("--http2" if ex.connection.tls else "--http2-prior-knowledge")
    has_body = bool(req.body.data)
    method = req.method or "GET"
    if not (method == "GET" and not has_body) and not (method == "POST" and has_body):
        args += ["-X", method]
    args.append(ex.url)
    compressed = False
    authority = ex.host
    for name, value in req.headers:
        lname = name.lower()
        if name.startswith(":") or lname in _SKIP:
            continue
        if lname == "host" and value == authority:
            continue
        if lname == "accept-encoding" and _COMPRESSED.search(value):
            compressed = True  # let curl decode what it asked to be compressed
        args += ["-H", f"{name}: {value}"]
    if compressed:
        args.append("--compressed")
    if has_body:
        if body_path is not None:
            args += ["--data-binary", f"@{body_path}"]
        else:
            args += ["--data-raw", req.body.data.decode("utf-8", "replace")]
    lines.append(_join(args))
    return "\n".join(lines) + "\n"


def _join(args: list[str]) -> str:
    """Quoted arguments, one option per line for readability."""
    parts: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _TAKES_VALUE and i + 1 < len(args):
            parts.append(f"{arg} {shlex.quote(args[i + 1])}")
            i += 2
        else:
            parts.append(shlex.quote(arg))
            i += 1
    return " \\\n  ".join(parts)
