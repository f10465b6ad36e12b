"""Exchange → OpenTelemetry span: kinds, semantic-convention attributes, timing, parent, rpc.*."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("opentelemetry.sdk", reason="needs pip install 'httptap[export]'")

from opentelemetry.trace import SpanKind, StatusCode

from httptap import __version__
from httptap.export.otlp_spans import SpanBuilder, mask_args, span_times, split_host_port
from httptap.model import Role
from tests.unit.export_samples import (
    PARENT_SPAN,
    PARENT_TRACE,
    TRACEPARENT,
    WALL,
    exchange,
    grpc_exchange,
)


def _build(ex, **kw):  # type: ignore[no-untyped-def]
    return SpanBuilder(live=False, **kw).build(ex)


def test_server_span_attributes_and_name() -> None:
    span = _build(exchange(role=Role.SERVER, path="/items/42?x=1"))
    assert span.kind is SpanKind.SERVER
    assert span.name == "GET /items/{id}"
    a = dict(span.attributes)
    assert a["http.request.method"] == "GET"
    assert a["url.path"] == "/items/42" and a["url.query"] == "x=1"
    assert a["url.scheme"] == "http"
    assert a["http.route"] == "/items/{id}"
    assert a["http.response.status_code"] == 200
    assert a["server.address"] == "api.test" and a["server.port"] == 8080
    assert a["client.address"] == "127.0.0.1" and a["client.port"] == 51544
    assert a["network.protocol.version"] == "1.1"
    assert a["user_agent.original"] == "curl/8"
    assert a["http.response.body.size"] == 12
    assert "url.full" not in a  # clients only
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None


def test_client_span_has_url_full_and_default_port() -> None:
    span = _build(exchange(role=Role.CLIENT, host="example.com", tls=True, path="/a?b=c"))
    assert span.kind is SpanKind.CLIENT
    a = dict(span.attributes)
    assert a["url.full"] == "https://example.com/a?b=c"
    assert a["url.scheme"] == "https"
    assert a["server.address"] == "example.com" and a["server.port"] == 443
    assert "client.address" not in a


@pytest.mark.parametrize(("role", "status", "error"), [
    (Role.SERVER, 200, False), (Role.SERVER, 404, False), (Role.SERVER, 503, True),
    (Role.CLIENT, 404, True), (Role.CLIENT, 500, True), (Role.CLIENT, 302, False),
])
def test_status_by_role(role: Role, status: int, error: bool) -> None:
    span = _build(exchange(role=role, status=status))
    assert (span.status.status_code is StatusCode.ERROR) == error
    assert (span.attributes.get("error.type") == str(status)) == error


def test_no_response_is_an_error_and_ends_at_the_last_instant_seen() -> None:
    ex = exchange(status=None)
    span = _build(ex)
    assert span.status.status_code is StatusCode.ERROR
    assert "http.response.status_code" not in span.attributes
    assert span.end_time - span.start_time == ex.timings.request_end - ex.timings.request_start
    assert list(span.attributes["httptap.notes"]) == ex.notes


def test_times_are_the_exchange_s_own() -> None:
    ex = exchange(duration_ns=1_840_000)
    span = _build(ex)
    assert span.start_time == round(WALL * 1e9)
    assert span.end_time - span.start_time == 1_840_000
    assert span_times(ex) == (span.start_time, span.end_time)


def test_traceparent_makes_the_span_a_child() -> None:
    ex = exchange(headers=[("traceparent", TRACEPARENT), ("tracestate", "k=v")])
    span = _build(ex)
    assert span.parent is not None and span.parent.is_remote
    assert format(span.parent.span_id, "016x") == PARENT_SPAN
    assert format(span.context.trace_id, "032x") == PARENT_TRACE
    assert span.context.span_id != span.parent.span_id
    assert span.parent.trace_state.get("k") == "v"


@pytest.mark.parametrize("bad", ["garbage", "00-" + "0" * 32 + "-" + PARENT_SPAN + "-01",
                                 "00-abc-def-01"])
def test_invalid_traceparent_starts_a_new_trace(bad: str) -> None:
    span = _build(exchange(headers=[("traceparent", bad)]))
    assert span.parent is None
    assert span.context.trace_id != 0


def test_grpc_span_has_rpc_attributes() -> None:
    span = _build(grpc_exchange(role=Role.CLIENT))
    assert span.name == "helloworld.Greeter/SayHello"
    assert span.kind is SpanKind.CLIENT
    a = dict(span.attributes)
    assert a["rpc.system"] == "grpc"
    assert a["rpc.service"] == "helloworld.Greeter" and a["rpc.method"] == "SayHello"
    assert a["rpc.grpc.status_code"] == 0
    assert a["network.protocol.version"] == "2"
    assert span.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize(("role", "code", "error"), [
    (Role.CLIENT, 5, True), (Role.SERVER, 5, False), (Role.SERVER, 13, True),
    (Role.CLIENT, 0, False),
])
def test_grpc_status_by_role(role: Role, code: int, error: bool) -> None:
    span = _build(grpc_exchange(role=role, grpc_status=code))
    assert (span.status.status_code is StatusCode.ERROR) == error


def test_unknown_method_is_other() -> None:
    a = _build(exchange(method="PROPFIND")).attributes
    assert a["http.request.method"] == "_OTHER"
    assert a["http.request.method_original"] == "PROPFIND"


def test_no_header_values_are_exported() -> None:
    ex = exchange(headers=[("Authorization", "Bearer ****"), ("Cookie", "a=****")])
    flat = repr(dict(_build(ex).attributes))
    assert "Bearer" not in flat and "Cookie" not in flat and "a=****" not in flat


def test_resource_names_the_process_and_httptap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    builder = SpanBuilder(live=True)
    res = dict(builder.resource_for(os.getpid()).attributes)
    assert res["process.pid"] == os.getpid()
    assert res["process.executable.path"] == os.readlink("/proc/self/exe")
    assert "python" in res["process.command_line"]
    assert res["host.name"] == os.uname().nodename
    assert res["httptap.version"] == __version__
    assert res["service.name"] == res["process.executable.name"]


def test_replayed_resource_does_not_read_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    res = dict(SpanBuilder(live=False).resource_for(os.getpid(), "svc").attributes)
    assert res["process.pid"] == os.getpid()
    assert "process.executable.path" not in res and "process.command_line" not in res
    assert res["service.name"] == "svc"


def test_environment_overrides_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,host.name=node-7")
    span = _build(exchange())
    res = dict(span.resource.attributes)
    assert res["service.name"] == "checkout"
    assert res["deployment.environment"] == "prod" and res["host.name"] == "node-7"


def test_command_line_secrets_are_masked() -> None:
    assert mask_args(["srv", "--password=hunter2", "--api-key", "k1", "--port", "80"]) == [
        "srv", "--password=****", "--api-key", "****", "--port", "80"]


@pytest.mark.parametrize(("text", "want"), [
    ("a.test:8080", ("a.test", 8080)), ("a.test", ("a.test", 80)),
    ("[::1]:9000", ("::1", 9000)), ("[::1]", ("::1", 80)), ("::1", ("::1", 80)),
    ("", ("", 0)), ("h:bad", ("h", 80)),
])
def test_split_host_port(text: str, want: tuple[str, int]) -> None:
    assert split_host_port(text, 80) == want
