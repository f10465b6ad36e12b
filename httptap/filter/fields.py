"""The filter fields: one definition per field (name, type, doc, example, extractor).

The parser, the evaluator and ``help_text`` all read these tables, so the help can never
drift from the behaviour. Every extractor returns a list of values — empty when the exchange
lacks the value (the status of a pending exchange), several for repeated headers.
"""

from __future__ import annotations

import enum
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from httptap.model import Body, Exchange, Headers

Value = str | int | float | bool
#: (exchange or message, parameter) -> values; each table's fields take its own kind
Extractor = Callable[[Any, str], list[Value]]


class FieldType(enum.Enum):
    """A field's type decides which operators and which values it accepts."""

    TEXT = "text"
    NUMBER = "number"
    DURATION = "duration"
    SIZE = "size"
    BOOL = "boolean"
    CHOICE = "choice"


#: operator -> what it does (the help prints this table).
OPERATORS: dict[str, str] = {
    "=": "equal (text: case-insensitive; '==' is the same)",
    "!=": "has a value and it is not equal",
    "<": "less than",
    "<=": "less than or equal",
    ">": "greater than",
    ">=": "greater than or equal",
    "~": "regular expression search, case-insensitive (Python re syntax)",
    "!~": "has a value and the regular expression does not match",
    "contains": "substring, case-insensitive",
}
OPERATOR_ALIASES = {"==": "="}

#: Operators each type accepts. Numbers also accept the text operators, applied to their
#: decimal text (``status~^5`` is every 5xx), because that is what people mean by it.
TYPE_OPERATORS: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: ("=", "!=", "~", "!~", "contains"),
    FieldType.NUMBER: ("=", "!=", "<", "<=", ">", ">=", "~", "!~", "contains"),
    FieldType.DURATION: ("=", "!=", "<", "<=", ">", ">="),
    FieldType.SIZE: ("=", "!=", "<", "<=", ">", ">="),
    FieldType.BOOL: ("=", "!="),
    FieldType.CHOICE: ("=", "!=", "~", "!~", "contains"),
}

#: Duration units, in milliseconds; a bare number is milliseconds.
DURATION_UNITS: dict[str, float] = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0}
#: Size units, in bytes (1024-based); a bare number is bytes.
SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
BOOL_WORDS: dict[str, bool] = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
}
PROTO_WORDS: dict[str, str] = {
    "http/1.1": "http/1.1",
    "http/1": "http/1.1",
    "http1": "http/1.1",
    "h1": "http/1.1",
    "h2": "h2",
    "http2": "h2",
    "http/2": "h2",
    "grpc": "grpc",
}
ROLE_WORDS: dict[str, str] = {"client": "client", "server": "server", "unknown": "unknown"}

#: Longest body prefix the filter decompresses (``body~...`` on a gzip'd response).
BODY_TEXT_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True, eq=False)  # identity: one object per field
class Field:
    """One filter field. ``param`` names the suffix of a family such as ``header.NAME``."""

    name: str
    type: FieldType
    doc: str
    example: str
    extract: Extractor
    param: str = ""
    choices: dict[str, str] | None = None

    @property
    def title(self) -> str:
        """The name as the help shows it (``header.NAME``)."""
        return f"{self.name}{self.param}" if self.param else self.name


@dataclass(frozen=True, slots=True)
class BoundField:
    """A field as named in a filter: the definition and its parameter (the header name)."""

    field: Field
    arg: str = ""

    @property
    def name(self) -> str:
        return f"{self.field.name}{self.arg}" if self.field.param else self.field.name

    def values(self, subject: Any) -> list[Value]:
        return self.field.extract(subject, self.arg)


# -- extractors --------------------------------------------------------------------------


def _one(value: Value | None) -> list[Value]:
    return [] if value is None or value == "" else [value]


def _header_values(headers: Iterable[tuple[str, str]], name: str) -> list[Value]:
    return [v for k, v in headers if k.lower() == name]


def _req_headers(ex: Exchange, name: str) -> list[Value]:
    req = ex.request
    return _header_values([*req.headers, *req.trailers], name)


def _resp_headers(ex: Exchange, name: str) -> list[Value]:
    resp = ex.response
    if resp is None:
        return []
    return _header_values([*resp.headers, *resp.trailers], name)


def _body_text(headers: Headers, body: Body) -> str:
    """Body as text for matching: gzip/deflate undone when the headers say so.

    UTF-8 when it decodes as such, else Latin-1 (one character per byte).
    """
    data = body.data
    encoding = ""
    for k, v in headers:
        if k.lower() == "content-encoding":
            encoding = v.strip().lower()
    if data and encoding in ("gzip", "x-gzip", "deflate"):
        # 47 = auto-detect gzip or zlib header; a truncated body still yields its prefix.
        for wbits in (47, -15):
            try:
                data = zlib.decompressobj(wbits).decompress(body.data, BODY_TEXT_LIMIT)
                break
            except zlib.error:
                continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Not text: one character per byte, so body~"^\x89PNG" can match binary data.
        return data.decode("latin-1")


def _req_body(ex: Exchange, _: str) -> list[Value]:
    return _one(_body_text(ex.request.headers, ex.request.body))


def _resp_body(ex: Exchange, _: str) -> list[Value]:
    resp = ex.response
    return [] if resp is None else _one(_body_text(resp.headers, resp.body))


def _grpc(attr: str) -> Extractor:
    def extract(ex: Exchange, _: str) -> list[Value]:
        return [] if ex.grpc is None else _one(getattr(ex.grpc, attr))

    return extract


def _resp_size(ex: Exchange, _: str) -> list[Value]:
    return [] if ex.response is None else [ex.response.body.size]


# -- the fields --------------------------------------------------------------------------

# phases: one duration field each, missing where the phase did not happen or was not seen
_PHASE_DOCS = {
    "dns": ("name lookup before the connection (first exchange only)", "phase.dns>50ms"),
    "connect": ("connect() until established (first exchange only)", "phase.connect>10ms"),
    "tls": ("TLS handshake (first exchange only)", "phase.tls>100ms"),
    "send": ("request sent: first to last byte", "phase.send>1s"),
    "wait": ("request end to first response byte", "phase.wait>200ms"),
    "receive": ("first to last response byte", "phase.receive>1s"),
}


def _phase(name: str) -> Extractor:
    return lambda ex, _: _one(getattr(ex.phases, name))


PHASE_FIELDS = tuple(
    Field(f"phase.{name}", FieldType.DURATION, doc, example, _phase(name))
    for name, (doc, example) in _PHASE_DOCS.items()
)

FIELDS: tuple[Field, ...] = (
    Field("method", FieldType.TEXT, "request method", "method=POST",
          lambda ex, _: _one(ex.request.method)),
    Field("host", FieldType.TEXT, "request host (authority, Host header, else remote address)",
          "host=api.stripe.com", lambda ex, _: _one(ex.host)),
    Field("path", FieldType.TEXT, "request path with query string", 'path~"^/v1/charges"',
          lambda ex, _: _one(ex.request.path)),
    Field("url", FieldType.TEXT, "full URL (scheme://host/path?query)", "url~^https:",
          lambda ex, _: _one(ex.url)),
    Field("status", FieldType.NUMBER,
          "response status; missing while pending; 4xx means 400-499", "status>=400",
          lambda ex, _: _one(ex.status)),
    Field("latency", FieldType.DURATION, "request start to response end", "latency>200ms",
          lambda ex, _: _one(ex.duration_ms)),
    Field("ttfb", FieldType.DURATION, "request start to first response byte", "ttfb>1s",
          lambda ex, _: _one(ex.ttfb_ms)),
    Field("size", FieldType.SIZE, "response body size on the wire (true size)", "size>10k",
          _resp_size),
    Field("req.size", FieldType.SIZE, "request body size on the wire (true size)",
          "req.size>1M", lambda ex, _: [ex.request.body.size]),
    Field("resp.size", FieldType.SIZE, "response body size on the wire, same as size",
          "resp.size<=512", _resp_size),
    Field("proto", FieldType.CHOICE, "protocol: http/1.1 (h1), h2, grpc", "proto=h2",
          lambda ex, _: [ex.proto.value], choices=PROTO_WORDS),
    Field("tls", FieldType.BOOL, "TLS connection (true/false)", "tls=true",
          lambda ex, _: [ex.connection.tls]),
    Field("role", FieldType.CHOICE, "traced process is the client or the server",
          "role=server", lambda ex, _: [ex.connection.role.value], choices=ROLE_WORDS),
    Field("pid", FieldType.NUMBER, "process id (pushed to the capture as pid selection)",
          "pid=1234", lambda ex, _: [ex.connection.pid]),
    Field("header.", FieldType.TEXT, "request or response header (or trailer) NAME",
          "header.content-type~json",
          lambda ex, name: [*_req_headers(ex, name), *_resp_headers(ex, name)], param="NAME"),
    Field("req.header.", FieldType.TEXT, "request header (or trailer) NAME",
          "req.header.user-agent~curl", _req_headers, param="NAME"),
    Field("resp.header.", FieldType.TEXT, "response header (or trailer) NAME",
          "resp.header.grpc-status!=0", _resp_headers, param="NAME"),
    Field("body", FieldType.TEXT, "request or response body (captured part, gzip undone)",
          'body~"error"', lambda ex, _: [*_req_body(ex, ""), *_resp_body(ex, "")]),
    Field("req.body", FieldType.TEXT, "request body", "req.body contains user_id",
          _req_body),
    Field("resp.body", FieldType.TEXT, "response body", 'resp.body~"\\"ok\\": *false"',
          _resp_body),
    Field("grpc.service", FieldType.TEXT, "gRPC service (package.Service)",
          "grpc.service~payments", _grpc("service")),
    Field("grpc.method", FieldType.TEXT, "gRPC method", "grpc.method=GetUser", _grpc("method")),
    Field("grpc.status", FieldType.NUMBER, "gRPC status code (0 is OK)", "grpc.status!=0",
          _grpc("status")),
    Field("note", FieldType.TEXT, "any note (mid-stream join, truncation, parse errors)",
          "note~mid", lambda ex, _: list(ex.notes)),
    *PHASE_FIELDS,
)  # fmt: skip

HEADER_NAME = re.compile(r":?[!#$%&'*+.^_`|~0-9A-Za-z-]+")


# -- values ------------------------------------------------------------------------------

_NUMBER = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([^\d\s.]*)")
_STATUS_CLASS = re.compile(r"([1-5])xx", re.IGNORECASE)


def parse_int(text: str) -> int | tuple[int, int]:
    """An integer, or a status class such as ``4xx`` as the inclusive range (400, 499)."""
    if text.isascii() and text.isdigit():
        return int(text)
    m = _STATUS_CLASS.fullmatch(text)
    if m:
        base = int(m.group(1)) * 100
        return (base, base + 99)
    raise ValueError("a number")


def parse_duration(text: str) -> float:
    """Milliseconds of ``200ms``, ``1.5s``, ``500us`` or a bare number (milliseconds)."""
    m = _NUMBER.fullmatch(text.strip())
    unit = m.group(2).lower() if m else None
    if m is None or unit not in ("", *DURATION_UNITS):
        raise ValueError("a duration such as 200ms, 1.5s or 500us")
    return float(m.group(1)) * (DURATION_UNITS[unit] if unit else 1.0)


def parse_size(text: str) -> int:
    """Bytes of ``10k``, ``1.5M``, ``512`` (1024-based units)."""
    m = _NUMBER.fullmatch(text.strip())
    unit = m.group(2).lower() if m else None
    if m is None or unit not in ("", *SIZE_UNITS):
        raise ValueError("a size such as 512, 10k or 1.5M")
    return round(float(m.group(1)) * (SIZE_UNITS[unit] if unit else 1))


def parse_bool(text: str) -> bool:
    try:
        return BOOL_WORDS[text.lower()]
    except KeyError:
        raise ValueError("true or false") from None


def parse_choice(text: str, choices: dict[str, str]) -> str:
    try:
        return choices[text.lower()]
    except KeyError:
        raise ValueError("one of " + ", ".join(choices)) from None
