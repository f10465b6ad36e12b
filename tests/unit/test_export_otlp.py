"""The OTLP exporter: bounded queue off the capture's thread, endpoint rules, and
``httptap --open FILE --otlp URL`` into a receiver built on opentelemetry-proto."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.exporter.otlp.proto.http",
                    reason="needs pip install 'httptap[export]'")

from opentelemetry.sdk.trace.export import SpanExportResult

from httptap import contract
from httptap.cli.main import Environment, main
from httptap.export.otlp import OtlpConfigError, OtlpExporter, traces_endpoint
from httptap.model import Role
from tests.otlp_receiver import OtlpReceiver
from tests.unit.export_samples import PARENT_SPAN, PARENT_TRACE, TRACEPARENT, exchange


class _Blocking:
    """A span exporter stuck until released: a collector that does not answer."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.got: list[object] = []

    def export(self, spans):  # type: ignore[no-untyped-def]
        self.entered.set()
        self.release.wait(10)
        self.got.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


def test_a_stuck_collector_never_blocks_submit_and_drops_are_counted() -> None:
    stuck = _Blocking()
    exp = OtlpExporter("http://x/v1/traces", live=False, queue_size=10, batch_size=5,
                       interval=0.01, span_exporter=stuck)
    exp.submit([exchange(i) for i in range(5)])
    assert stuck.entered.wait(5)  # the worker holds the first batch in the stuck export
    exp.submit([exchange(i) for i in range(100)])  # returns at once: the queue is bounded
    assert exp.queued == 10 and exp.dropped == 90
    stuck.release.set()
    exp.close(timeout=5)
    assert exp.exported == 15 == len(stuck.got)
    assert exp.submitted == 105 and exp.dropped == 90 and exp.failed == 0


def test_queue_is_bounded_in_bytes_too() -> None:
    stuck = _Blocking()
    exp = OtlpExporter("http://x/v1/traces", live=False, queue_bytes=4000, interval=60,
                       span_exporter=stuck)
    big = exchange(1)
    big.request.body.data = b"x" * 2000
    exp.submit([big, big, exchange(2)])  # ~2.5 kB each, then ~0.5 kB
    assert exp.queued == 2 and exp.dropped == 1  # the second big one did not fit
    stuck.release.set()
    exp.close(timeout=5)


def test_failed_exports_are_counted() -> None:
    class _Refusing(_Blocking):
        def export(self, spans):  # type: ignore[no-untyped-def]
            return SpanExportResult.FAILURE

    exp = OtlpExporter("http://x/v1/traces", live=False, interval=0.01,
                       span_exporter=_Refusing())
    exp.submit([exchange(i) for i in range(3)])
    exp.close(timeout=5)
    assert exp.failed == 3 and exp.exported == 0
    assert "0 unsent at exit, 3 not accepted" in exp.summary()


@pytest.mark.parametrize(("url", "env", "want"), [
    ("http://c:4318", {}, "http://c:4318/v1/traces"),
    ("http://c:4318/", {}, "http://c:4318/v1/traces"),
    ("https://c/otlp/v1/traces", {}, "https://c/otlp/v1/traces"),
    (None, {}, "http://localhost:4318/v1/traces"),
    (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://e:4318"}, "http://e:4318/v1/traces"),
    (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://e:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:1/x"}, "http://t:1/x"),
    ("http://c:1", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://e:4318"}, "http://c:1/v1/traces"),
])
def test_endpoint(url: str | None, env: dict[str, str], want: str) -> None:
    assert traces_endpoint(url, env) == want


@pytest.mark.parametrize("bad", ["ftp://c", "c:4318", "http://", "http://c:99999", "http://c:0",
                                 "http://c d:1"])
def test_bad_endpoint(bad: str) -> None:
    with pytest.raises(OtlpConfigError):
        traces_endpoint(bad, {})


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdout_isatty=False, install_signals=False)
    code = main(argv, env)
    return code, out.getvalue(), err.getvalue()


def _session(tmp_path: Path) -> Path:
    exchanges = [
        exchange(1, role=Role.SERVER, path="/users/1", headers=[("traceparent", TRACEPARENT)]),
        exchange(2, role=Role.SERVER, path="/users/2", status=503),
        exchange(3, role=Role.CLIENT, path="/v1/pay?token=****", host="pay.test"),
    ]
    path = tmp_path / "run.jsonl"
    path.write_text("".join(contract.to_json(ex) + "\n" for ex in exchanges))
    return path


def test_open_replays_into_otlp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "replayed")
    rx = OtlpReceiver()
    try:
        code, out, err = _run(["--open", str(_session(tmp_path)), "--jsonl",
                               "--otlp", rx.url])
        spans = rx.wait_for(3)
    finally:
        rx.close()
    assert code == 0, err
    assert len(out.splitlines()) == 3
    assert "3 span(s) exported, 0 dropped" in err
    by_id = {s.attributes["httptap.exchange.id"]: s for s in spans}
    assert sorted(by_id) == ["1", "2", "3"]
    lines = {d["id"]: d for d in map(json.loads, out.splitlines())}
    for sid, span in by_id.items():
        d = lines[sid]
        # timing equal to the exchange's (started is µs-rounded ISO; duration exact)
        assert span.end - span.start == round(d["duration_ms"] * 1e6)
        assert abs(span.start / 1e9 - _epoch(d["started"])) < 1e-6
        assert span.resource["service.name"] == "replayed"
        assert span.resource["process.pid"] == d["pid"]
        assert span.scope == "httptap"
    s1, s2, s3 = by_id["1"], by_id["2"], by_id["3"]
    assert s1.kind == 2 and s3.kind == 3  # SERVER, CLIENT
    assert s1.trace_id == PARENT_TRACE and s1.parent_span_id == PARENT_SPAN
    assert s2.parent_span_id == "" and s2.trace_id != PARENT_TRACE
    assert s1.name == "GET /users/{id}" and s1.attributes["http.route"] == "/users/{id}"
    assert s2.status_code == 2 and s1.status_code == 0
    assert s3.attributes["url.full"] == "http://pay.test/v1/pay?token=****"


def test_filter_applies_to_the_export(tmp_path: Path) -> None:
    rx = OtlpReceiver()
    try:
        code, _out, err = _run(["--open", str(_session(tmp_path)), "--quiet",
                                "--filter", "status>=500", "--otlp", rx.url])
        spans = rx.wait_for(1)
    finally:
        rx.close()
    assert code == 0, err
    assert [s.attributes["httptap.exchange.id"] for s in spans] == ["2"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--otlp", "ftp://x"], "not an http(s) URL"),
    (["--metrics", "nonsense"], "not ADDR:PORT"),
    (["--metrics", "::1:80"], "brackets"),
])
def test_bad_export_settings_are_usage_errors(tmp_path: Path, argv: list[str],
                                              message: str) -> None:
    code, out, err = _run(["--pid", "1", *argv])  # never attaches: checked first
    assert code == 2 and message in err and out == ""


def test_quiet_excludes_jsonl() -> None:
    code, _out, err = _run(["--pid", "1", "--quiet", "--jsonl"])
    assert code == 2 and "not allowed with" in err


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
