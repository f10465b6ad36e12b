"""Masking of secrets (credentials, cookies, tokens in URLs) at the source.

The engine and the helper call ``mask_exchange`` on every exchange before it leaves them
(unless ``--show-secrets``), so no output, export or front end ever holds the values.
What is kept is what helps debugging: the auth scheme (``Bearer ****``), cookie names and
Set-Cookie attributes, query parameter names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from urllib.parse import unquote_plus

from httptap.model import Exchange, Headers

MASK = "****"

#: Header names always masked (compared lower-case).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
#: Other header names masked when this regex finds a match in them (case-insensitive).
DEFAULT_HEADER_PATTERN = r"token|secret|api[-_]?key|passw(?:or)?d"
#: Query parameter names masked when this regex finds a match in them (case-insensitive).
DEFAULT_QUERY_PATTERN = r"token|key|secret|passw(?:or)?d|signature|auth|credential|^sig$"

_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})
# A scheme word is an HTTP token (RFC 9110 auth-scheme) followed by a blank.
_SCHEME = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)(\s+)\S")
# Headers whose value is a URL that may carry tokens in its query.
_URL_HEADERS = frozenset({":path", "location", "referer", "content-location"})
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")


@functools.lru_cache(maxsize=32)
def _header_regex(extra: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join([DEFAULT_HEADER_PATTERN, *extra]), re.IGNORECASE)


@functools.lru_cache(maxsize=32)
def _query_regex(extra: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join([DEFAULT_QUERY_PATTERN, *extra]), re.IGNORECASE)


def is_secret_header(name: str, extra_patterns: Sequence[str] = ()) -> bool:
    """Whether the value of header ``name`` is masked."""
    lname = name.lower()
    if lname in SECRET_HEADERS:
        return True
    return _header_regex(tuple(extra_patterns)).search(lname) is not None


def mask_header_value(name: str, value: str) -> str:
    """The masked form of a secret header's value (scheme word and cookie names kept)."""
    lname = name.lower()
    if not value:
        return value
    if lname == "cookie":
        return "; ".join(_mask_pair(p) for p in value.split(";") if p.strip())
    if lname == "set-cookie":
        first, sep, attrs = value.partition(";")
        return _mask_pair(first) + sep + attrs
    if lname in _SCHEME_HEADERS:
        m = _SCHEME.match(value.strip())
        if m:
            return f"{m.group(1)} {MASK}"
    return MASK


def mask_url(url: str, extra_patterns: Sequence[str] = ()) -> str:
    """``url`` (a path or an absolute URL) with secret query values and userinfo masked."""
    url = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", url, count=1)
    base, sep, query = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = query.partition("#")
    rx = _query_regex(tuple(extra_patterns))
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        if eq and rx.search(unquote_plus(name)):
            part = f"{name}={MASK}"
        parts.append(part)
    return f"{base}?{'&'.join(parts)}{hash_sep}{fragment}"


def mask_headers(headers: Headers, extra_patterns: Sequence[str] = ()) -> Headers:
    """A copy of ``headers`` with secret values masked."""
    out: Headers = []
    for name, value in headers:
        if is_secret_header(name, extra_patterns):
            value = mask_header_value(name, value)
        elif name.lower() in _URL_HEADERS:
            value = mask_url(value, extra_patterns)
        out.append((name, value))
    return out


def mask_exchange(ex: Exchange, extra_patterns: Sequence[str] = ()) -> Exchange:
    """Mask secrets in ``ex`` in place and return it.

    ``extra_patterns`` are regexes (case-insensitive, searched) naming more secret headers
    and query parameters. Bodies are not touched.
    """
    req = ex.request
    req.path = mask_url(req.path, extra_patterns)
    req.headers = mask_headers(req.headers, extra_patterns)
    req.trailers = mask_headers(req.trailers, extra_patterns)
    resp = ex.response
    if resp is not None:
        resp.headers = mask_headers(resp.headers, extra_patterns)
        resp.trailers = mask_headers(resp.trailers, extra_patterns)
    return ex


def _mask_pair(pair: str) -> str:
    name, eq, _value = pair.strip().partition("=")
    return f"{name}={MASK}" if eq else MASK
