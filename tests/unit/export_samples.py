"""Exchanges for the export tests (OTLP spans, Prometheus metrics)."""

from __future__ import annotations

from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    GrpcMessage,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)

WALL = 1_796_000_000.123456  # epoch seconds of request_start
T0 = 5_000_000_000  # monotonic ns of request_start
PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"


def exchange(i: int = 1, *, role: Role = Role.SERVER, method: str = "GET",
             path: str = "/items/42?x=1", status: int | None = 200, host: str = "api.test:8080",
             tls: bool = False, headers: list[tuple[str, str]] | None = None,
             duration_ns: int = 1_840_000, pid: int = 4321) -> Exchange:
    """One HTTP/1.1 exchange; ``status=None``: no response came."""
    req = Request(method=method, path=path, http_version="1.1",
                  headers=[("Host", host), ("User-Agent", "curl/8"), *(headers or [])],
                  body=Body(b"", 0))
    resp = None
    if status is not None:
        resp = Response(status=status, reason="OK", headers=[("Content-Length", "12")],
                        body=Body(b"hello world!", 12))
    t = Timings(T0, T0 + 210_000, T0 + 1_200_000, T0 + duration_ns)
    if status is None:
        t = Timings(T0, T0 + 210_000, None, None)
    return Exchange(
        id=str(i),
        connection=Connection(pid=pid, tid=pid + 1, fd=7, local="127.0.0.1:8080",
                              remote="127.0.0.1:51544", role=role, tls=tls, comm="svc"),
        request=req, response=resp, timings=t, complete=True, wall_start=WALL,
        notes=[] if status is not None else ["no response before the connection closed"],
    )


def grpc_exchange(*, role: Role = Role.CLIENT, grpc_status: int = 0) -> Exchange:
    """A unary gRPC call over h2c."""
    ex = exchange(7, role=role, method="POST", path="/helloworld.Greeter/SayHello",
                  host="127.0.0.1:50051", headers=[("content-type", "application/grpc")])
    ex.connection.protocol = Proto.H2
    ex.request.http_version = "2"
    assert ex.response is not None
    ex.response.http_version = "2"
    ex.stream_id = 1
    ex.grpc = GrpcCall(service="helloworld.Greeter", method="SayHello", status=grpc_status,
                       message="boom" if grpc_status else "",
                       requests=[GrpcMessage(5, False, b"\n\x03bob")],
                       responses=[GrpcMessage(7, False, b"\n\x05hi bo")])
    return ex
