"""The one data model every layer and front end shares: Exchange and its parts.

Parsers build these objects from bytes; the engine fills in the connection; front ends,
filters and exporters only read them. Times are monotonic nanoseconds (the kernel's
``bpf_ktime_get_ns`` clock); ``Exchange.wall_start`` anchors them to the wall clock.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field

Headers = list[tuple[str, str]]

#: bytes of each body kept by default (the true size is always counted); 0 keeps headers only
DEFAULT_BODY_LIMIT = 64 * 1024


class Role(str, enum.Enum):
    """Which side of the connection the traced process is."""

    CLIENT = "client"
    SERVER = "server"
    UNKNOWN = "unknown"


class Proto(str, enum.Enum):
    """Application protocol of an exchange, as named in the JSON-lines contract."""

    HTTP1 = "http/1.1"
    H2 = "h2"
    GRPC = "grpc"


@dataclass(slots=True)
class Body:
    """A message body as captured: a prefix of at most the body limit, and the true size."""

    data: bytes = b""
    size: int = 0
    truncated: bool = False

    def append(self, chunk: bytes, limit: int) -> None:
        """Count ``chunk`` and keep what still fits under ``limit``."""
        self.size += len(chunk)
        room = limit - len(self.data)
        if room >= len(chunk):
            self.data += chunk
        else:
            if room > 0:
                self.data += chunk[:room]
            self.truncated = True

    def skip(self, size: int) -> None:
        """Count ``size`` bytes that were never copied (a gap)."""
        if size > 0:
            self.size += size
            self.truncated = True


@dataclass(slots=True)
class Connection:
    """The socket an exchange travelled on, seen from the traced process."""

    pid: int = 0
    tid: int = 0
    fd: int = -1
    local: str = ""
    remote: str = ""
    role: Role = Role.UNKNOWN
    tls: bool = False
    protocol: Proto = Proto.HTTP1
    comm: str = ""
    #: the name looked up (getaddrinfo) before connecting to ``remote``, if seen
    hostname: str = ""


@dataclass(slots=True)
class Request:
    method: str = ""
    scheme: str = "http"
    authority: str = ""
    path: str = ""
    http_version: str = "1.1"
    headers: Headers = field(default_factory=list)
    body: Body = field(default_factory=Body)
    trailers: Headers = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        return find_header(self.headers, name)


@dataclass(slots=True)
class Response:
    status: int | None = None
    reason: str = ""
    http_version: str = "1.1"
    headers: Headers = field(default_factory=list)
    body: Body = field(default_factory=Body)
    trailers: Headers = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        return find_header(self.headers, name)


@dataclass(slots=True)
class Timings:
    """Monotonic nanosecond instants; None where not (yet) seen."""

    request_start: int | None = None
    request_end: int | None = None
    response_start: int | None = None
    response_end: int | None = None


PHASE_NAMES = ("dns", "connect", "tls", "send", "wait", "receive")


@dataclass(slots=True)
class Phases:
    """Where an exchange's time went, in ms; None where a phase did not happen for this
    exchange (only a connection's first exchange has dns/connect/tls) or was not seen."""

    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    send: float | None = None
    wait: float | None = None
    receive: float | None = None

    def items(self) -> list[tuple[str, float | None]]:
        """(name, ms) in the order they happen."""
        return [(name, getattr(self, name)) for name in PHASE_NAMES]


@dataclass(slots=True)
class GrpcMessage:
    """One length-prefixed gRPC message; ``data`` is decompressed when it could be."""

    size: int
    compressed: bool
    data: bytes
    truncated: bool = False


@dataclass(slots=True)
class GrpcCall:
    service: str = ""
    method: str = ""
    status: int | None = None
    message: str = ""
    requests: list[GrpcMessage] = field(default_factory=list)
    responses: list[GrpcMessage] = field(default_factory=list)


@dataclass(slots=True)
class Message:
    """One WebSocket message or server-sent event on an exchange's connection.

    ``direction`` is from the traced process's view (``"sent"`` | ``"received"``); fragments
    are joined, so ``opcode`` is never a continuation. ``data`` holds at most the body limit
    of the payload (decompressed when ``compressed``); ``size`` is its true length.
    """

    id: str = ""
    exchange_id: str = ""
    pid: int = 0
    tid: int = 0
    proto: str = "websocket"  # "websocket" | "sse"
    direction: str = "received"  # "sent" | "received"
    opcode: str = "text"  # text | binary | ping | pong | close | event
    data: bytes = b""
    size: int = 0
    truncated: bool = False
    compressed: bool = False
    close_code: int | None = None
    close_reason: str = ""
    sse_id: str | None = None
    sse_event: str | None = None
    sse_retry: int | None = None
    time_ns: int = 0  # monotonic, like Timings
    wall: float | None = None  # epoch seconds of time_ns

    @property
    def text(self) -> str:
        """``data`` as text (invalid UTF-8 replaced)."""
        return self.data.decode("utf-8", "replace")


@dataclass(slots=True)
class Exchange:
    """One request and its response (or the lack of one so far)."""

    id: str = ""
    connection: Connection = field(default_factory=Connection)
    request: Request = field(default_factory=Request)
    response: Response | None = None
    timings: Timings = field(default_factory=Timings)
    stream_id: int | None = None
    grpc: GrpcCall | None = None
    notes: list[str] = field(default_factory=list)
    complete: bool = False
    wall_start: float | None = None  # epoch seconds of timings.request_start
    #: WebSocket messages / server-sent events, in the order they happened
    messages: list[Message] = field(default_factory=list)
    #: connection set-up (dns, connect, tls ms) when this is its connection's first exchange
    setup: Phases | None = None

    def snapshot(self) -> Exchange:
        """A copy that later parsing will not change (for Pending records): heads, bodies,
        timings, notes and messages copied; connection and gRPC call shared."""
        req = self.request
        resp = self.response
        return Exchange(
            id=self.id,
            connection=self.connection,
            request=Request(
                method=req.method, scheme=req.scheme, authority=req.authority, path=req.path,
                http_version=req.http_version, headers=list(req.headers),
                body=Body(req.body.data, req.body.size, req.body.truncated),
                trailers=list(req.trailers),
            ),
            response=None if resp is None else Response(
                status=resp.status, reason=resp.reason, http_version=resp.http_version,
                headers=list(resp.headers),
                body=Body(resp.body.data, resp.body.size, resp.body.truncated),
                trailers=list(resp.trailers),
            ),
            timings=Timings(self.timings.request_start, self.timings.request_end,
                            self.timings.response_start, self.timings.response_end),
            stream_id=self.stream_id,
            grpc=self.grpc,
            notes=list(self.notes),
            complete=self.complete,
            wall_start=self.wall_start, setup=self.setup,
            messages=list(self.messages),
        )

    def note(self, text: str) -> None:
        """Add ``text`` to the notes once."""
        if text not in self.notes:
            self.notes.append(text)

    @property
    def proto(self) -> Proto:
        if self.grpc is not None:
            return Proto.GRPC
        return self.connection.protocol

    @property
    def host(self) -> str:
        req = self.request
        host = req.authority or req.header("host") or self.connection.remote
        name = self.connection.hostname
        if name and _is_ip_host(host):  # the request named only an address: the looked-up name
            port = host.rsplit(":", 1)[1] if ":" in host.lstrip("[").split("]")[-1] else ""
            return f"{name}:{port}" if port else name
        return host

    @property
    def url(self) -> str:
        req = self.request
        scheme = "https" if self.connection.tls else req.scheme or "http"
        path = req.path or ""
        if path.startswith(("http://", "https://")):
            return path  # absolute-form (proxy requests)
        return f"{scheme}://{self.host}{path}"

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None

    @property
    def duration_ms(self) -> float | None:
        t = self.timings
        if t.request_start is None or t.response_end is None:
            return None
        return (t.response_end - t.request_start) / 1e6

    @property
    def ttfb_ms(self) -> float | None:
        t = self.timings
        if t.request_start is None or t.response_start is None:
            return None
        return (t.response_start - t.request_start) / 1e6

    @property
    def phases(self) -> Phases:
        """The set-up phases (first exchange of a connection) and send, wait, receive."""
        t = self.timings
        s = self.setup
        return Phases(
            s.dns if s else None, s.connect if s else None, s.tls if s else None,
            _span_ms(t.request_start, t.request_end), _span_ms(t.request_end, t.response_start),
            _span_ms(t.response_start, t.response_end),
        )

    @property
    def size(self) -> int:
        """Response body size on the wire (the network tab's "size")."""
        return self.response.body.size if self.response is not None else 0


def _is_ip_host(host: str) -> bool:
    bare = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.split(":")[0]
    if not bare:
        return False
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return False
    return True


def _span_ms(start: int | None, end: int | None) -> float | None:
    if start is None or end is None:
        return None
    return max(end - start, 0) / 1e6


def find_header(headers: Headers, name: str) -> str | None:
    """First value of ``name`` in ``headers``, compared case-insensitively."""
    lname = name.lower()
    for key, value in headers:
        if key.lower() == lname:
            return value
    return None
