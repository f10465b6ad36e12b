"""Route templates and URL literals turned into regular expressions.

Route templates of every framework the route finder knows: Flask/Werkzeug and Django
``<int:id>``, Bottle ``<id:int>``, FastAPI/Starlette ``{id}`` and ``{id:int}``, aiohttp
``{id:\\d+}``. URL literals from client code become a host and a path-prefix pattern, with
``WILD`` standing for every part whose value is only known at run time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

#: a run-time value inside a URL (an f-string field, an unresolved name)
WILD: Final = None

_SEGMENT = r"[^/]+"
_UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

# <converter:name>: Werkzeug (Flask) and Django converters
_ANGLE_CONVERTERS = {
    "default": _SEGMENT,
    "string": _SEGMENT,
    "str": _SEGMENT,
    "any": _SEGMENT,
    "int": r"\d+",
    "float": r"\d+(?:\.\d+)?",
    "path": r".+",
    "uuid": _UUID,
    "slug": r"[-a-zA-Z0-9_]+",
}
# <name:filter>: Bottle filters
_BOTTLE_FILTERS = {"int": r"-?\d+", "float": r"-?[\d.]+", "path": r".+?"}
# {name:convertor}: Starlette convertors; anything else after ':' is an aiohttp regex
_BRACE_CONVERTERS = {
    "str": _SEGMENT,
    "int": r"\d+",
    "float": r"\d+(?:\.\d+)?",
    "path": r".*",
    "uuid": _UUID,
}

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "[::]"}


def template_regex(template: str) -> str:
    """Regex source (unanchored) that matches the paths a route template accepts."""
    out: list[str] = []
    i = 0
    n = len(template)
    while i < n:
        ch = template[i]
        if ch == "<":
            end = template.find(">", i + 1)
            if end < 0:
                out.append(re.escape(template[i:]))
                break
            out.append(_angle_param(template[i + 1 : end]))
            i = end + 1
        elif ch == "{":
            end = _closing_brace(template, i)
            if end < 0:
                out.append(re.escape(template[i:]))
                break
            out.append(_brace_param(template[i + 1 : end]))
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def route_regex(template: str) -> re.Pattern[str]:
    """Anchored matcher for a path (no query) against a route template starting with '/'.

    A trailing slash is optional either way: frameworks redirect between the two forms, and
    the redirected request belongs to the same route.
    """
    body = template_regex(template.rstrip("/"))
    return re.compile(f"^{body}/?$")


def django_regex(pattern: str, *, is_regex: bool) -> re.Pattern[str]:
    """Matcher for a Django ``path()``/``re_path()`` pattern (no leading slash).

    The prefix a URLconf is included under lives in another module, so any whole-segment
    prefix is allowed; the empty pattern matches only the site root.
    """
    if is_regex:
        body = pattern.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
        try:
            re.compile(body)
        except re.error:
            body = re.escape(body)
    else:
        body = template_regex(pattern)
    body = re.sub(r"(\\?/)+$", "", body)
    if not body:
        return re.compile(r"^/$")
    return re.compile(f"^/(?:.*/)?{body}/?$")


def host_key(host: str) -> str:
    """``host[:port]`` lowercased, without a default port (80, 443); loopback names unified."""
    host = host.strip().lower()
    name, port = _split_port(host)
    if name in _LOCAL_HOSTS:
        name = "localhost"
    # both default ports go: whether a capture saw TLS is not always known
    if port and port not in ("80", "443"):
        return f"{name}:{port}"
    return name


def url_matcher(parts: Sequence[str | None]) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """Host and path-prefix matchers for a URL made of literal text and ``WILD`` fields.

    Returns None unless the URL starts with a literal ``http://`` or ``https://``. The host
    matcher runs against ``host_key(...)`` of an exchange, the path matcher against its path
    with the query; the path matches as a prefix that ends at a segment boundary.
    """
    text = "".join("\0" if p is WILD else p for p in parts)
    m = re.match(r"https?://", text)
    if m is None:
        return None
    rest = text[m.end() :]
    cut = len(rest)
    for stop in "/?#":
        pos = rest.find(stop)
        if 0 <= pos < cut:
            cut = pos
    host, path = rest[:cut], rest[cut:]
    if not host or (host == "\0" and path in ("", "/")):
        return None
    if "\0" in host:
        host_re = re.compile(
            "^" + r"[^/?#]*".join(re.escape(h.lower()) for h in host.split("\0")) + "$"
        )
    else:
        host_re = re.compile("^" + re.escape(host_key(host)) + "$")
    path = path.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    body = r"[^/?#]*".join(re.escape(p) for p in path.split("\0"))
    tail = ".*" if path.endswith(("/", "?", "&", "=")) else "(?:[/?#].*)?"
    return host_re, re.compile(f"^{body}{tail}$")


def _split_port(host: str) -> tuple[str, str]:
    if host.startswith("["):  # [::1]:8080
        end = host.find("]")
        if end > 0:
            return host[: end + 1], host[end + 2 :] if host[end + 1 : end + 2] == ":" else ""
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, port
    return host, ""


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _angle_param(inner: str) -> str:
    parts = inner.split(":", 2)
    if len(parts) == 1:
        return _SEGMENT
    first = parts[0].split("(", 1)[0].strip()  # any(a, b), int(min=1)
    if first in _ANGLE_CONVERTERS:
        return f"(?:{_ANGLE_CONVERTERS[first]})"
    flt = parts[1].strip()
    if flt == "re" and len(parts) == 3 and _valid(parts[2]):
        return f"(?:{parts[2]})"
    if flt in _BOTTLE_FILTERS:
        return f"(?:{_BOTTLE_FILTERS[flt]})"
    return _SEGMENT


def _brace_param(inner: str) -> str:
    if ":" not in inner:
        return _SEGMENT
    conv = inner.split(":", 1)[1].strip()
    if conv in _BRACE_CONVERTERS:
        return f"(?:{_BRACE_CONVERTERS[conv]})"
    if conv and _valid(conv):
        return f"(?:{conv})"
    return _SEGMENT


def _valid(regex: str) -> bool:
    try:
        re.compile(regex)
    except re.error:
        return False
    return True
