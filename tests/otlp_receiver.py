"""An OTLP/HTTP trace receiver for tests, built on the official ``opentelemetry-proto`` messages.

``OtlpReceiver(stall=0)`` listens on a free loopback port; every POST to ``/v1/traces`` is
decoded as an ``ExportTraceServiceRequest`` and its spans kept (with their resource
attributes). ``stall`` seconds are waited before each answer: a slow collector.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def any_value(v: AnyValue) -> Any:
    """The Python value of an OTLP ``AnyValue``."""
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind is None:
        return None
    return getattr(v, kind)


@dataclass
class ReceivedSpan:
    name: str
    kind: int  # opentelemetry.proto.trace.v1.Span.SpanKind: 2 SERVER, 3 CLIENT
    trace_id: str
    span_id: str
    parent_span_id: str
    start: int
    end: int
    status_code: int  # 0 unset, 1 ok, 2 error
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str = ""
    scope_version: str = ""


@dataclass
class OtlpReceiver:
    stall: float = 0.0
    #: only count the spans (bench/: decoding each one would load the machine)
    count_only: bool = False
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    count: int = 0

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.stall:
                    time.sleep(receiver.stall)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver._take(body, self.headers.get("Content-Type", ""))
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up on a stalled answer: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _take(self, body: bytes, content_type: str) -> None:
        assert content_type == "application/x-protobuf", content_type
        req = ExportTraceServiceRequest()
        req.ParseFromString(body)
        if self.count_only:
            n = sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
            with self._cond:
                self.requests += 1
                self.count += n
            return
        got = []
        for rs in req.resource_spans:
            resource = {kv.key: any_value(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    got.append(ReceivedSpan(
                        name=s.name, kind=s.kind, trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(), parent_span_id=s.parent_span_id.hex(),
                        start=s.start_time_unix_nano, end=s.end_time_unix_nano,
                        status_code=s.status.code,
                        attributes={kv.key: any_value(kv.value) for kv in s.attributes},
                        resource=resource, scope=ss.scope.name, scope_version=ss.scope.version,
                    ))
        with self._cond:
            self.requests += 1
            self.count += len(got)
            self.spans.extend(got)
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float = 20.0) -> list[ReceivedSpan]:
        """The spans received once there are ``n`` (or when ``timeout`` runs out)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.spans) < n and time.monotonic() < deadline:
                self._cond.wait(0.1)
            return list(self.spans)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
