"""``httptap --otlp`` and ``--metrics`` against real processes: spans into an OTLP/HTTP receiver
(opentelemetry-proto), metrics scraped by a real Prometheus, and collectors that refuse or
stall while the local capture stays complete."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.live.conftest import PROGS, free_port, wait_port

pytest.importorskip("opentelemetry.exporter.otlp.proto.http",
                    reason="needs pip install 'httptap[export]' (make install)")

from tests.otlp_receiver import OtlpReceiver

HTTPTAP = [sys.executable, "-m", "httptap.cli"]
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


class _Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, str(PROGS / "server.py"), str(self.port)])
        wait_port(self.port)

    def get(self, path: str, headers: dict[str, str] | None = None) -> int:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read()
                return resp.status
        except urllib.error.HTTPError as exc:
            exc.read()
            return exc.code

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    srv = _Server()
    yield srv
    srv.close()


def _start(args: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(HTTPTAP + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    line = proc.stderr.readline()
    while line and "attached to PID" not in line:
        line = proc.stderr.readline()
    assert "attached to PID" in line, line + proc.stderr.read()
    return proc


def _stop(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out, err


@pytest.mark.parametrize("via", ["in-process", "helper"])
def test_live_exchanges_become_spans(via, server, prog):
    """Client and server sides of real exchanges, one with a traceparent, through the helper
    too (the exporter runs in the unprivileged front end)."""
    client = prog("client.py", str(server.port), "3", "/size/5")
    client.expect("ready")
    rx = OtlpReceiver()
    try:
        args = ["--pid", str(server.proc.pid), "--pid", str(client.pid), "--jsonl",
                "--otlp", rx.url]
        cli = _start(args + (["--helper"] if via == "helper" else []))
        client.go()
        client.expect("done")
        assert server.get("/size/7", {"traceparent": f"00-{TRACE}-{PARENT}-01"}) == 200
        assert server.get("/users/12345") == 404
        deadline = time.monotonic() + 20
        while len(rx.spans) < 8 and time.monotonic() < deadline:
            time.sleep(0.2)  # spans leave in batches while the capture runs
        out, err = _stop(cli)
        spans = rx.wait_for(8)
    finally:
        rx.close()
    lines = {d["id"]: d for d in map(json.loads, out.splitlines())}
    assert len(lines) == 8 and len(spans) == 8, err
    assert "8 span(s) exported, 0 dropped" in err
    by_kind = {2: [], 3: []}
    for span in spans:
        d = lines[span.attributes["httptap.exchange.id"]]
        by_kind[span.kind].append((span, d))
        assert span.kind == (3 if d["role"] == "client" else 2)
        # the contract has microseconds, the span the kernel's nanoseconds
        assert abs((span.end - span.start) - d["duration_ms"] * 1e6) <= 1000
        assert abs(span.start / 1e9 - _epoch(d["started"])) < 1e-6
        assert span.resource["process.pid"] == d["pid"]
        assert "server.py" in span.resource["process.command_line"] or d["role"] == "client"
        assert span.resource["process.executable.path"] == os.path.realpath(sys.executable)
        assert "s3cret" not in repr(span.attributes)
    assert len(by_kind[3]) == 3 and len(by_kind[2]) == 5
    c, _ = by_kind[3][0]
    assert c.attributes["url.full"].startswith(f"http://127.0.0.1:{server.port}/size/5?i=")
    assert c.name == "GET /size/{id}"
    child = [s for s, d in by_kind[2] if d["path"] == "/size/7"]
    assert child[0].trace_id == TRACE and child[0].parent_span_id == PARENT
    missing = next(s for s, d in by_kind[2] if d["status"] == 404)
    assert missing.attributes["http.route"] == "/users/{id}"
    assert missing.status_code == 0  # a 404 is not a server's error


@pytest.mark.parametrize("collector", ["refuses", "stalls"])
def test_a_bad_collector_loses_nothing_of_the_capture(collector, server, prog):
    """Port closed, or a receiver answering after 10 s: every exchange is printed, the
    capture loses no event, and the spans that could not go are counted."""
    n = 60  # the test server answers in two writes: ~40 ms a request (delayed ACK)
    client = prog("client.py", str(server.port), str(n), "/size/3")
    client.expect("ready")
    rx = OtlpReceiver(stall=10) if collector == "stalls" else None
    url = rx.url if rx else f"http://127.0.0.1:{free_port()}"
    try:
        cli = _start(["--pid", str(client.pid), "--jsonl", "--otlp", url])
        client.go()
        client.expect("done")
        time.sleep(1.0)
        out, err = _stop(cli)
    finally:
        if rx:
            rx.close()
    paths = [json.loads(line)["path"] for line in out.splitlines()]
    assert paths == [f"/size/3?i={i}" for i in range(n)]
    assert " 0 lost event(s)" in err
    summary = next(ln for ln in err.splitlines() if "span(s) exported" in ln)
    exported, dropped, unsent, failed = _numbers(summary)
    # every span accounted for; a collector that answers after 10 s may still get a batch
    assert exported + dropped + unsent + failed == n, summary
    if collector == "refuses":
        assert exported == 0, summary


def _numbers(summary: str) -> list[int]:
    # "OTLP URL: E span(s) exported, D dropped (queue full), U unsent at exit, F not accepted"
    m = re.search(r"(\d+) span\(s\) exported, (\d+) dropped \(queue full\), (\d+) unsent "
                  r"at exit, (\d+) not accepted", summary)
    assert m, summary
    return [int(g) for g in m.groups()]


def test_prometheus_scrapes_counts_by_status_and_route(server, prog, tmp_path: Path):
    prom = shutil.which("prometheus")
    if prom is None:
        pytest.fail("prometheus is not installed (make install installs it)")
    mport, pport = free_port(), free_port()
    ok = prog("client.py", str(server.port), "5", "/size/5")
    bad = prog("client.py", str(server.port), "3", "/missing/12")
    ok.expect("ready")
    bad.expect("ready")
    cli = _start(["--pid", str(server.proc.pid), "--quiet", "--metrics", f"127.0.0.1:{mport}"])
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: httptap
    static_configs: [{{targets: ["127.0.0.1:{mport}"]}}]
""")
    with open(tmp_path / "prometheus.log", "w") as log:
        pr = subprocess.Popen([prom, f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'data'}",
                               f"--web.listen-address=127.0.0.1:{pport}"],
                              stdout=log, stderr=log)
    try:
        wait_port(pport, timeout=30)
        ok.go()
        bad.go()
        ok.expect("done")
        bad.expect("done")
        query = ("sum by (http_response_status_code, http_route) "
                 "(http_server_request_duration_seconds_count)")
        want = {("200", "/size/{id}"): 5.0, ("404", "/missing/{id}"): 3.0}
        got: dict[tuple[str, str], float] = {}
        deadline = time.monotonic() + 40
        while got != want and time.monotonic() < deadline:
            time.sleep(0.5)
            got = {(r["metric"]["http_response_status_code"], r["metric"]["http_route"]):
                   float(r["value"][1]) for r in _query(pport, query)}
        assert got == want, (tmp_path / "prometheus.log").read_text()[-2000:]
        total = _query(pport, "httptap_exchanges_total")
        assert float(total[0]["value"][1]) == 8.0
        lost = _query(pport, "httptap_lost_events_total")
        assert float(lost[0]["value"][1]) == 0.0
    finally:
        pr.terminate()
        pr.wait(10)
    out, err = _stop(cli)
    assert out == ""  # --quiet
    assert "metrics were served on" in err


def _query(port: int, query: str) -> list[dict]:  # type: ignore[type-arg]
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return body["data"]["result"]


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
