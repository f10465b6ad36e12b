"""Exchange → OpenTelemetry span (``ReadableSpan`` of the official SDK), by the HTTP and RPC
semantic conventions. Needs ``pip install 'httptap[export]'``.

Spans are built directly, not through a tracer: their start and end are the exchange's own
instants, their parent comes from a captured ``traceparent``, and their resource is the traced
process (one per pid), none of which a tracer of this process would know.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from typing import Any

from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    get_current_span,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from httptap import __version__
from httptap.export.routes import RouteTemplates
from httptap.model import Exchange, Proto, Role, find_header
from httptap.secrets import DEFAULT_QUERY_PATTERN, MASK

SCOPE = InstrumentationScope("httptap", __version__)

_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"}
)
# gRPC codes that are a server's fault (RPC semantic conventions); any non-zero one is a
# client's error
_GRPC_SERVER_ERRORS = frozenset({2, 4, 12, 13, 14, 15})
_PROPAGATOR = TraceContextTextMapPropagator()
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SECRET_ARG = re.compile(DEFAULT_QUERY_PATTERN, re.IGNORECASE)


class SpanBuilder:
    """``build(exchange)``: one finished ``ReadableSpan``; resources cached per traced pid.

    ``live``: the pids are running now, so /proc describes them (not for a replayed file).
    """

    def __init__(self, *, live: bool, show_secrets: bool = False,
                 routes: RouteTemplates | None = None) -> None:
        self.live = live
        self.show_secrets = show_secrets
        self.routes = routes or RouteTemplates()
        self._ids = RandomIdGenerator()
        self._resources: dict[tuple[int, str], Resource] = {}
        self._lock = threading.Lock()
        self._host = socket.gethostname()

    def build(self, ex: Exchange) -> ReadableSpan:
        """The span of ``ex`` (complete, or closed without an answer)."""
        req = ex.request
        grpc = ex.grpc
        role = ex.connection.role
        kind = SpanKind.CLIENT if role is Role.CLIENT else SpanKind.SERVER
        route = self.routes.route(req.path or "/")
        attrs = _http_attributes(ex, route)
        if grpc is not None:
            attrs.update(_rpc_attributes(ex))
            name = f"{grpc.service}/{grpc.method}" if grpc.service else route
        else:
            name = f"{attrs['http.request.method']} {route}"
        status = _status(ex, attrs)
        parent = _parent(ex)
        trace_id = parent.trace_id if parent is not None else self._ids.generate_trace_id()
        context = SpanContext(trace_id, self._ids.generate_span_id(), False, _SAMPLED)
        start, end = span_times(ex)
        return ReadableSpan(
            name=name, context=context, parent=parent, resource=self._resource(ex),
            attributes=attrs, kind=kind, status=status, start_time=start, end_time=end,
            instrumentation_scope=SCOPE,
        )

    def _resource(self, ex: Exchange) -> Resource:
        key = (ex.connection.pid, ex.connection.comm)
        res = self._resources.get(key)
        if res is None:
            res = self.resource_for(*key)
            with self._lock:
                if len(self._resources) >= 1024:  # pids come and go (forking servers)
                    self._resources.clear()
                self._resources[key] = res
        return res

    def resource_for(self, pid: int, comm: str = "") -> Resource:
        """The traced process as a resource; ``OTEL_RESOURCE_ATTRIBUTES`` and
        ``OTEL_SERVICE_NAME`` override what httptap found."""
        attrs: dict[str, Any] = {"host.name": self._host, "httptap.version": __version__,
                                 "telemetry.distro.name": "httptap",
                                 "telemetry.distro.version": __version__}
        if pid:
            attrs["process.pid"] = pid
        exe_name = comm
        if self.live and pid:
            info = _proc_info(pid)
            exe_name = info.pop("name", "") or comm
            if "process.command_args" in info:
                args = info.pop("process.command_args")
                if not self.show_secrets:
                    args = mask_args(args)
                attrs["process.command_args"] = args
                attrs["process.command_line"] = " ".join(args)
            attrs.update(info)
        if exe_name:
            attrs["process.executable.name"] = exe_name
        attrs["service.name"] = exe_name or "unknown_service"
        env = _env_resource()
        return Resource.create({**attrs, **env})


def span_times(ex: Exchange) -> tuple[int, int]:
    """(start, end) in epoch nanoseconds: the exchange's first and last seen instants."""
    t = ex.timings
    seen = [n for n in (t.request_start, t.request_end, t.response_start, t.response_end)
            if n is not None]
    if ex.wall_start is None or not seen:
        import time

        now = time.time_ns()
        return now, now
    anchor = t.request_start if t.request_start is not None else seen[0]
    start = round(ex.wall_start * 1e9) + (min(seen) - anchor)
    return start, start + (max(seen) - min(seen))


def mask_args(args: list[str]) -> list[str]:
    """Command-line arguments with the values of secret-looking options masked."""
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        name, eq, _value = arg.partition("=")
        if arg.startswith("-") and _SECRET_ARG.search(name.lstrip("-")):
            if eq:
                out.append(f"{name}={MASK}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(arg)
    return out


def _http_attributes(ex: Exchange, route: str) -> dict[str, Any]:
    req = ex.request
    conn = ex.connection
    method = req.method.upper() if req.method else ""
    attrs: dict[str, Any] = {}
    if method in _METHODS:
        attrs["http.request.method"] = method
    else:
        attrs["http.request.method"] = "_OTHER"
        if method:
            attrs["http.request.method_original"] = req.method
    target = req.path or "/"
    if target.startswith(("http://", "https://")):
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    path, _, query = target.partition("?")
    attrs["url.path"] = path.split("#", 1)[0] or "/"
    if query:
        attrs["url.query"] = query.split("#", 1)[0]
    scheme = "https" if conn.tls else (req.scheme or "http")
    attrs["url.scheme"] = scheme
    attrs["http.route"] = route
    if conn.role is Role.CLIENT:
        attrs["url.full"] = ex.url
    host, port = split_host_port(ex.host, 443 if scheme == "https" else 80)
    if host:
        attrs["server.address"] = host
        attrs["server.port"] = port
    # Each attribute costs the SDK's encoder ~4 µs a span: those the conventions leave
    # optional and that say nothing new (network.peer.* = client.*, protocol name "http",
    # thread ids) are left out.
    if conn.role is Role.SERVER:
        peer, peer_port = split_host_port(conn.remote, 0)
        if peer:
            attrs["client.address"] = peer
            if peer_port:
                attrs["client.port"] = peer_port
    attrs["network.protocol.version"] = (
        "2" if ex.proto in (Proto.H2, Proto.GRPC) else req.http_version or "1.1"
    )
    if ex.status is not None:
        attrs["http.response.status_code"] = ex.status
    agent = find_header(req.headers, "user-agent")
    if agent:
        attrs["user_agent.original"] = agent
    if req.body.size:
        attrs["http.request.body.size"] = req.body.size
    if ex.response is not None:
        attrs["http.response.body.size"] = ex.response.body.size
    attrs["httptap.exchange.id"] = ex.id
    if ex.notes:
        attrs["httptap.notes"] = list(ex.notes)
    return attrs


def _rpc_attributes(ex: Exchange) -> dict[str, Any]:
    g = ex.grpc
    assert g is not None
    attrs: dict[str, Any] = {"rpc.system": "grpc", "rpc.service": g.service,
                             "rpc.method": g.method}
    if g.status is not None:
        attrs["rpc.grpc.status_code"] = g.status
    if g.message:
        attrs["rpc.grpc.status_message"] = g.message
    attrs["rpc.grpc.request.message_count"] = len(g.requests)
    attrs["rpc.grpc.response.message_count"] = len(g.responses)
    return attrs


def _status(ex: Exchange, attrs: dict[str, Any]) -> Status:
    """ERROR for 5xx (server) / 4xx and 5xx (client), gRPC errors by role, and no answer."""
    client = ex.connection.role is Role.CLIENT
    code = ex.status
    if code is None:
        attrs["error.type"] = "no response"
        return Status(StatusCode.ERROR, ex.notes[0] if ex.notes else "no response")
    if code >= 500 or (client and code >= 400):
        attrs["error.type"] = str(code)
        return Status(StatusCode.ERROR)
    g = ex.grpc
    if g is not None and g.status and (client or g.status in _GRPC_SERVER_ERRORS):
        attrs["error.type"] = str(g.status)
        return Status(StatusCode.ERROR, g.message or None)
    return Status(StatusCode.UNSET)


def _parent(ex: Exchange) -> SpanContext | None:
    """The context of a captured W3C ``traceparent`` (with ``tracestate``), if valid."""
    headers = ex.request.headers
    value = find_header(headers, "traceparent")
    if not value:
        return None
    carrier = {"traceparent": value}
    state = find_header(headers, "tracestate")
    if state:
        carrier["tracestate"] = state
    ctx = get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
    return ctx if ctx.is_valid else None


def split_host_port(hostport: str, default_port: int) -> tuple[str, int]:
    """``("host", port)`` of ``host``, ``host:port``, ``[v6]:port``; ``("", 0)`` if empty."""
    if not hostport:
        return "", 0
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
    else:
        host, port = hostport, ""  # a bare IPv6 address, or no port
    try:
        return host, int(port) if port else default_port
    except ValueError:
        return host, default_port


def _proc_info(pid: int) -> dict[str, Any]:
    """What /proc says about ``pid`` (whatever this user may read; nothing if it is gone)."""
    info: dict[str, Any] = {}
    base = f"/proc/{pid}"
    with contextlib.suppress(OSError), open(f"{base}/comm", encoding="utf-8",
                                            errors="replace") as fh:
        info["name"] = fh.read().strip()
    with contextlib.suppress(OSError):
        info["process.executable.path"] = os.readlink(f"{base}/exe")
    with contextlib.suppress(OSError), open(f"{base}/cmdline", "rb") as fh:
        raw = fh.read()
        if raw:
            info["process.command_args"] = [
                a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0")
            ]
    return info


def _env_resource() -> dict[str, Any]:
    """``OTEL_RESOURCE_ATTRIBUTES`` and ``OTEL_SERVICE_NAME``, read by the SDK's own detector."""
    return dict(OTELResourceDetector().detect().attributes)
