"""Prometheus metrics of exchanges: histograms by role, labels, counters, /metrics over HTTP."""

from __future__ import annotations

import io
import signal
import threading
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client", reason="needs pip install 'httptap[export]'")

from prometheus_client.parser import text_string_to_metric_families

from httptap import contract
from httptap.cli.main import Environment, main
from httptap.export.metrics import MetricsExporter
from httptap.export.sinks import ExportSetupError, ExportSinks, open_sinks, parse_listen
from httptap.model import Role
from httptap.records import Completed, Lost, Pending, Stats
from tests.unit.export_samples import exchange


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _key(name: str, method: str, status: str, route: str, **extra: str):  # type: ignore[no-untyped-def]
    labels = {"http_request_method": method, "http_response_status_code": status,
              "http_route": route, **extra}
    return (name, tuple(sorted(labels.items())))


def test_histograms_by_role_method_status_route() -> None:
    m = MetricsExporter()
    m.observe([exchange(1, path="/users/1"), exchange(2, path="/users/2?x"),
               exchange(3, path="/users/3", status=500),
               exchange(4, role=Role.CLIENT, method="POST", path="/pay", duration_ns=20_000_000),
               exchange(5, status=None)])  # no response: counted, no duration
    s = _samples(m.text())
    srv = "http_server_request_duration_seconds"
    assert s[_key(srv + "_count", "GET", "200", "/users/{id}")] == 2
    assert s[_key(srv + "_count", "GET", "500", "/users/{id}")] == 1
    assert s[_key(srv + "_sum", "GET", "200", "/users/{id}")] == pytest.approx(2 * 0.00184)
    cli = "http_client_request_duration_seconds"
    assert s[_key(cli + "_count", "POST", "200", "/pay")] == 1
    assert s[_key(cli + "_bucket", "POST", "200", "/pay", le="0.01")] == 0
    assert s[_key(cli + "_bucket", "POST", "200", "/pay", le="0.025")] == 1
    assert s[("httptap_exchanges_total", ())] == 5
    assert s[("httptap_lost_events_total", ())] == 0


def test_route_label_cardinality_is_bounded() -> None:
    m = MetricsExporter(max_routes=10)
    m.observe([exchange(i, path=f"/p{i}/x") for i in range(50)])
    routes = {dict(k[1])["http_route"] for k in _samples(m.text())
              if k[0] == "http_server_request_duration_seconds_count"}
    assert len(routes) == 11 and "{other}" in routes


def test_sinks_feed_metrics_from_records_and_count_lost_once() -> None:
    m = MetricsExporter()
    sinks = ExportSinks(metrics=m, keep=lambda ex: ex.status != 404)
    sinks([Completed(exchange(1)), Pending(exchange(2)), Completed(exchange(3, status=404)),
           Lost(3), Stats(lost=3)])
    sinks([Stats(lost=5), Lost(1)])
    s = _samples(m.text())
    assert s[("httptap_exchanges_total", ())] == 1  # the pending and the filtered one are not
    assert s[("httptap_lost_events_total", ())] == 5


@pytest.mark.parametrize(("text", "want"), [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)), (":9464", ("0.0.0.0", 9464)),
    ("[::1]:0", ("::1", 0)), ("localhost:80", ("localhost", 80)),
])
def test_parse_listen(text: str, want: tuple[str, int]) -> None:
    assert parse_listen(text) == want


@pytest.mark.parametrize("bad", ["9464", "host:", "host:x", "h:70000", "::1:80"])
def test_parse_listen_rejects(bad: str) -> None:
    with pytest.raises(ExportSetupError):
        parse_listen(bad)


def test_served_over_http_and_busy_port_is_a_setup_error() -> None:
    sinks = open_sinks(None, "127.0.0.1:0", live=False, otlp_enabled=False)
    try:
        assert sinks.metrics is not None
        sinks([Completed(exchange(1))])
        with urllib.request.urlopen(sinks.metrics_url, timeout=10) as resp:
            text = resp.read().decode()
        assert "text/plain" in resp.headers["Content-Type"]
        assert _samples(text)[("httptap_exchanges_total", ())] == 1
        port = sinks.metrics_url.rsplit(":", 1)[1].split("/")[0]
        with pytest.raises(ExportSetupError, match="cannot listen"):
            open_sinks(None, f"127.0.0.1:{port}", live=False, otlp_enabled=False)
    finally:
        sinks.close()


def test_open_with_metrics_serves_until_stopped(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("".join(contract.to_json(exchange(i, path=f"/u/{i}")) + "\n"
                            for i in range(4)))
    err = _Lines()
    env = Environment(stdout=io.StringIO(), stderr=err, stdout_isatty=False)
    # main() runs on this (the main) thread, where its SIGINT handler goes; a helper scrapes
    url_box: list[str] = []

    def scrape_then_stop() -> None:
        line = err.wait_for("serving metrics until")
        assert line
        url = err.wait_for("serving metrics on").split(" on ", 1)[1].strip()
        url_box.append(urllib.request.urlopen(url, timeout=10).read().decode())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    helper = threading.Thread(target=scrape_then_stop)
    helper.start()
    code = main(["--open", str(path), "--quiet", "--metrics", "127.0.0.1:0"], env)
    helper.join(10)
    assert code == 0
    s = _samples(url_box[0])
    assert s[_key("http_server_request_duration_seconds_count", "GET", "200", "/u/{id}")] == 4
    assert "metrics were served on" in err.getvalue()


class _Lines(io.StringIO):
    """A stderr that can be waited on for a line."""

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()

    def write(self, s: str) -> int:
        with self._cond:
            n = super().write(s)
            self._cond.notify_all()
            return n

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        with self._cond:
            self._cond.wait_for(lambda: text in self.getvalue(), timeout)
            return next((ln for ln in self.getvalue().splitlines() if text in ln), "")


def test_export_outcomes_are_served_beside_the_otlp_exporter() -> None:
    sinks = open_sinks("http://127.0.0.1:9", "127.0.0.1:0", live=False)
    try:
        assert sinks.metrics is not None and sinks.otlp is not None
        sinks.otlp.dropped = 3  # as if the queue had been full
        s = _samples(sinks.metrics.text())
        assert s[("httptap_export_spans_total", (("outcome", "dropped"),))] == 3
        assert s[("httptap_export_spans_total", (("outcome", "exported"),))] == 0
    finally:
        sinks.close(0.1)
