"""The capture benchmark: traced vs untraced servers under h2load, memory, attach time.

Run as root: ``python bench/run.py`` (``make bench``), ``--quick`` for a short subset,
``--scenario NAME`` (repeatable, prefix match) for some rows only, ``--markdown`` for the
table as it goes into bench/RESULTS.md. Never part of the test suite: figures, not asserts.

Placement (identical for traced and untraced runs, 2-core machine): the server on CPU 0,
the load generator (one h2load thread) on CPU 1, httptap on CPU 1. The kernel side of the
capture runs in the server's syscalls, so on CPU 0.

Method, per scenario: an untraced h2load run, then ``httptap --pid SERVER --jsonl`` is
started (the CLI users run, writing JSON lines to a file), the same h2load run is repeated,
httptap is stopped once it has drained, and its output is counted: completeness is
exchanges with a status / requests h2load completed. httptap's CPU time is read from /proc
over the load period plus the drain; RSS is VmRSS once drained (the peak, VmHWM, includes
the BPF compile). Latency percentiles come from
h2load's per-request log.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
HTTPTAP = [PY, "-m", "httptap.cli"]
SERVER_CPU = "0"
LOAD_CPU = "1"
TAP_CPU = "1"
CLIENTS = 10
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Scenario:
    name: str
    server: str  # nginx | nginx-tls | nginx-h2c | demo
    rate: int | None  # offered req/s; None: unthrottled
    h2: bool = False
    export: bool = False  # also --otlp (to a counting receiver) and --metrics


@dataclass
class LoadResult:
    rps: float = 0.0
    done: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0


@dataclass
class Row:
    scenario: Scenario
    untraced: LoadResult = field(default_factory=LoadResult)
    traced: LoadResult = field(default_factory=LoadResult)
    captured: int = 0
    lost: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    rss_mb: float = 0.0
    peak_mb: float = 0.0
    attach_s: float = 0.0
    export: str = ""  # the exporter's totals line


SCENARIOS = [
    *(Scenario(f"nginx-{r or 'max'}", "nginx", r) for r in (1000, 5000, 20000, None)),
    *(Scenario(f"demo-{r or 'max'}", "demo", r) for r in (1000, 5000, 20000, None)),
    *(Scenario(f"nginx-tls-{r or 'max'}", "nginx-tls", r) for r in (5000, 20000, None)),
    *(Scenario(f"nginx-h2c-{r or 'max'}", "nginx-h2c", r, h2=True) for r in (5000, 20000, None)),
    Scenario("nginx-20000-export", "nginx", 20000, export=True),
    # Go's crypto/tls (uprobes at entry and RETs), the test server of tests/live/progs/go
    Scenario("go-tls-5000", "go-tls", 5000),
]
QUICK = ["nginx-5000", "nginx-20000", "nginx-max", "demo-max", "nginx-tls-max", "nginx-h2c-max"]


# -- servers -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def _cert(tmp: Path) -> tuple[Path, Path]:
    key, crt = tmp / "key.pem", tmp / "cert.pem"
    if not key.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(crt), "-days", "2", "-subj", "/CN=localhost"],
            check=True, capture_output=True,
        )
    return key, crt


# The demo service's HTTP/1.1 server on a port of ours (its CLI picks its own ports).
_DEMO = """
from httptap.demo.server import _Handler, _Server
_Server(("127.0.0.1", {port}), _Handler).serve_forever()
"""


@contextlib.contextmanager
def server(kind: str, tmp: Path) -> Iterator[tuple[int, int, str]]:
    """Start a server pinned to SERVER_CPU; yields (pid to trace, port, url scheme)."""
    port = _free_port()
    scheme = "https" if kind in ("nginx-tls", "go-tls") else "http"
    if kind == "go-tls":
        sys.path.insert(0, str(ROOT))
        from tests.golang_builds import build_all

        binary = str(build_all()["default"]["server"])
        proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, binary],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
    elif kind == "demo":
        proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, PY, "-c", _DEMO.format(port=port)],
            stdout=subprocess.DEVNULL, cwd=ROOT,
        )
    else:
        d = Path(tempfile.mkdtemp(dir=tmp))
        (d / "logs").mkdir()
        listen = f"127.0.0.1:{port}"
        extra = ""
        if kind == "nginx-tls":
            key, crt = _cert(tmp)
            listen += " ssl"
            extra = f"ssl_certificate {crt}; ssl_certificate_key {key};"
        elif kind == "nginx-h2c":
            listen += " http2"
        (d / "nginx.conf").write_text(f"""
daemon off; user root; master_process on; worker_processes 1; pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off; keepalive_timeout 60; keepalive_requests 1000000;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    server {{
        listen {listen}; {extra}
        location / {{ default_type text/plain; return 200 "hello from nginx\\n"; }}
    }}
}}
""")
        proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, shutil.which("nginx") or "/usr/sbin/nginx",
             "-c", str(d / "nginx.conf"), "-p", str(d)],
        )
    try:
        _wait_port(port)
        time.sleep(0.2)
        yield proc.pid, port, scheme
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- load ----------------------------------------------------------------------------------


def h2load(url: str, rate: int | None, seconds: float, h2: bool, log: Path) -> LoadResult:
    """h2load on LOAD_CPU: CLIENTS keep-alive connections, a fixed rate or as fast as it can."""
    cmd = ["taskset", "-c", LOAD_CPU, "h2load", "-t", "1", "-c", str(CLIENTS),
           "-D", str(max(1, round(seconds))), "--log-file", str(log)]
    if not h2:
        cmd.append("--h1")
    else:
        cmd += ["-m", "10"]
    if rate is not None:
        # --rps is per client; -m 1 so a slow server cannot be hidden by pipelining
        cmd += ["--rps", str(max(1, rate // CLIENTS))]
        if not h2:
            cmd += ["-m", "1"]
    cmd.append(url)
    log.unlink(missing_ok=True)  # h2load appends to an existing log
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = proc.stdout
    res = LoadResult()
    if "succeeded" not in out:
        print(f"h2load failed: {out[-500:]} {proc.stderr[-500:]}", file=sys.stderr)
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    if m:
        res.rps = float(m.group(3))
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    if m:
        res.done = int(m.group(2))
    durations = []
    with contextlib.suppress(OSError):
        for line in log.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1].startswith("2"):
                durations.append(int(parts[2]))
    if durations:
        durations.sort()
        res.p50_ms = durations[len(durations) // 2] / 1000
        res.p99_ms = durations[min(len(durations) - 1, int(len(durations) * 0.99))] / 1000
    return res


# -- httptap ---------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Tap:
    """``httptap --pid PID --jsonl`` on TAP_CPU, output to a file."""

    def __init__(self, pid: int, out: Path, extra: list[str] | None = None) -> None:
        self.out = out
        self.err = out.with_suffix(".err")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            ["taskset", "-c", TAP_CPU, *HTTPTAP, "--pid", str(pid), "--jsonl", *(extra or [])],
            stdout=out.open("wb"), stderr=self.err.open("wb"), cwd=ROOT,
        )
        while "attached" not in self.err.read_text():
            if self.proc.poll() is not None:
                raise RuntimeError(f"httptap failed: {self.err.read_text()}")
            if time.monotonic() - started > 60:
                raise RuntimeError("httptap did not attach in 60 s")
            time.sleep(0.02)
        self.attach_s = time.monotonic() - started

    def cpu(self) -> float:
        return _cpu_seconds(self.proc.pid)

    def stop(self) -> tuple[float, int, int]:
        """Stop after the output stops growing; returns (RSS MB, peak RSS MB, exchanges,
        lost)."""
        size = -1
        for _ in range(100):  # drained when the output stops growing for 0.3 s
            time.sleep(0.3)
            now = self.out.stat().st_size
            if now == size:
                break
            size = now
        rss = _status_mb(self.proc.pid, "VmRSS")
        peak = _status_mb(self.proc.pid, "VmHWM")
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        captured = 0
        with self.out.open() as f:
            for line in f:
                with contextlib.suppress(ValueError):
                    if json.loads(line).get("status") is not None:
                        captured += 1
        m = re.search(r"(\d+) lost event", self.err.read_text())
        return rss, peak, captured, int(m.group(1)) if m else -1


def run_scenario(sc: Scenario, seconds: float, tmp: Path) -> Row:
    row = Row(sc)
    with server(sc.server, tmp) as (pid, port, scheme):
        url = f"{scheme}://127.0.0.1:{port}/" + ("items" if sc.server == "demo" else "")
        row.untraced = h2load(url, sc.rate, seconds, sc.h2, tmp / "untraced.log")
        rx, extra = None, []
        if sc.export:
            sys.path.insert(0, str(ROOT))
            from tests.otlp_receiver import OtlpReceiver

            rx = OtlpReceiver(count_only=True)
            extra = ["--otlp", rx.url, "--metrics", "127.0.0.1:0"]
        tap = Tap(pid, tmp / f"{sc.name}.jsonl", extra)
        row.attach_s = tap.attach_s
        cpu0 = tap.cpu()
        t0 = time.monotonic()
        row.traced = h2load(url, sc.rate, seconds, sc.h2, tmp / "traced.log")
        # CPU over the load and the drain that follows it (the work it caused)
        size = -1
        while True:
            time.sleep(0.3)
            now = tap.out.stat().st_size
            if now == size:
                break
            size = now
        row.cpu_s = tap.cpu() - cpu0
        row.wall_s = time.monotonic() - t0
        row.rss_mb, row.peak_mb, row.captured, row.lost = tap.stop()
        if rx is not None:
            row.export = next((ln for ln in tap.err.read_text().splitlines()
                               if "span(s) exported" in ln), "no export totals")
            row.export += f"; the receiver got {rx.count} span(s)"
            rx.close()
    return row


# -- the other measurements ------------------------------------------------------------------


def untraced_cost(seconds: float, tmp: Path) -> list[tuple[str, float, float]]:
    """Throughput of processes httptap does not trace, with httptap attached elsewhere."""
    out = []
    bystander = subprocess.Popen(["sleep", "3600"])
    try:
        for kind in ("nginx", "nginx-tls", "demo"):
            with server(kind, tmp) as (_pid, port, scheme):
                url = f"{scheme}://127.0.0.1:{port}/"
                alone = h2load(url, None, seconds, False, tmp / "alone.log").rps
                tap = Tap(bystander.pid, tmp / "bystander.jsonl")
                beside = h2load(url, None, seconds, False, tmp / "beside.log").rps
                tap.stop()
                out.append((kind, alone, beside))
    finally:
        bystander.kill()
        bystander.wait()
    return out


_LOOKUPS = """
import socket, sys, time
sys.stdin.readline()
n = {n}
t = time.perf_counter()
for _ in range(n):
    socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
print(n / (time.perf_counter() - t), flush=True)
"""


def lookup_cost(tmp: Path, n: int = 20_000) -> list[tuple[str, float]]:
    """getaddrinfo calls per second (the phases' dns probes): alone, while httptap traces
    another process (the probes sit in the same libc), and traced itself."""
    def run(traced: bool) -> float:
        proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, PY, "-c", _LOOKUPS.format(n=n)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        tap = Tap(proc.pid, tmp / "lookups.jsonl") if traced else None
        out, _ = proc.communicate("go\n", timeout=300)
        if tap is not None:
            tap.stop()
        return float(out)

    alone = run(False)
    bystander = subprocess.Popen(["sleep", "3600"])
    try:
        tap = Tap(bystander.pid, tmp / "bystander.jsonl")
        beside = run(False)
        tap.stop()
    finally:
        bystander.kill()
        bystander.wait()
    return [("alone", alone), ("httptap traces another process", beside),
            ("traced (uprobe + uretprobe per lookup)", run(True))]


def memory_1m(total: int = 1_000_000, history: int = 10_000) -> list[tuple[int, float]]:
    """RSS while ``total`` small exchanges pass through streams → parser → masking → a
    history of ``history`` (httptap.store), fed synthetic kernel events in this process."""
    code = f"""
import resource, sys
from httptap.capture.events import Dir, Event, Kind, SockFlag, encode
from httptap.engine.inprocess import InProcessCapture
from httptap.engine.api import CaptureOptions
from httptap.store import CaptureState, History

def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024

class _P:
    def disable_socket(self, *a): pass
cap = InProcessCapture.offline(CaptureOptions(), _P())
state = CaptureState(History({history}))
req = b'GET /items?id=1 HTTP/1.1\\r\\nHost: 127.0.0.1:8080\\r\\nUser-Agent: h2load\\r\\n\\r\\n'
resp = (b'HTTP/1.1 200 OK\\r\\nServer: nginx\\r\\nContent-Type: text/plain\\r\\n'
        b'Content-Length: 17\\r\\n\\r\\nhello from nginx\\n')
conns = 10
ts = 0
done = 0
step = {total} // 4
marks = []
batch = 500
while done < {total}:
    raws = []
    for i in range(batch):
        c = i % conns
        ts += 1000
        raws.append(encode(Event(Kind.DATA, ts, 1000 + c, 7, 7, 10 + c, len(req), 0,
                                 Dir.INGRESS, SockFlag.SERVER, 0, req)))
        raws.append(encode(Event(Kind.DATA, ts + 500, 1000 + c, 7, 7, 10 + c, len(resp), 0,
                                 Dir.EGRESS, SockFlag.SERVER, 0, resp)))
    state.apply(cap.drain(raws))  # as the UI does with each batch
    done += batch
    if done % step == 0:
        marks.append((done, rss()))
print(marks)
"""
    res = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return ast.literal_eval(res.stdout.strip())


def engine_cost() -> float:
    """CPU µs per small exchange of the engine alone (decode → streams → parser → masking →
    publish), fed encoded ring-buffer records in this process: no kernel, no CLI output."""
    code = """
import time
from httptap.capture.events import Dir, Event, Kind, SockFlag, encode
from httptap.engine.api import CaptureOptions
from httptap.engine.inprocess import InProcessCapture
class _P:
    def disable_socket(self, *a): pass
cap = InProcessCapture.offline(CaptureOptions(), _P())
req = (b'GET / HTTP/1.1\\r\\nHost: 127.0.0.1:18080\\r\\nUser-Agent: h2load nghttp2/1.52.0\\r\\n'
       b'Accept: */*\\r\\n\\r\\n')
resp = (b'HTTP/1.1 200 OK\\r\\nServer: nginx/1.22.1\\r\\nDate: Mon, 30 Nov 2026 01:55:50 GMT\\r\\n'
        b'Content-Type: text/plain\\r\\nContent-Length: 17\\r\\nConnection: keep-alive\\r\\n'
        b'\\r\\nhello from nginx\\n')
flags = SockFlag.SERVER | SockFlag.SEEN
raws = []
for i in range(400):
    c, ts = i % 10, i * 1000
    raws.append(encode(Event(Kind.DATA, ts, 1000 + c, 7, 7, 10 + c, len(req), 0, Dir.INGRESS,
                             flags, 0, req)))
    raws.append(encode(Event(Kind.DATA, ts + 500, 1000 + c, 7, 7, 10 + c, len(resp), 0,
                             Dir.EGRESS, flags, 0, resp)))
def go(n):
    for _ in range(n):
        cap.drain(raws)
go(5)
t = time.process_time()
go(100)
print((time.process_time() - t) / 40000 * 1e6)
"""
    res = subprocess.run(["taskset", "-c", TAP_CPU, PY, "-c", code], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    return float(res.stdout.strip())


def jsonl_cost() -> tuple[float, float]:
    """CPU µs to print one small exchange (nginx's, as the capture above sees it) as a JSON
    line: the contract object through the JSON encoder, and ``contract.to_json``."""
    code = """
import json, time
from httptap import contract
ex = contract.from_dict({
    "v": 1, "id": "1", "pid": 26342, "tid": 26342, "role": "server", "proto": "http/1.1",
    "tls": False, "local": "127.0.0.1:52215", "remote": "127.0.0.1:57788", "method": "GET",
    "url": "http://127.0.0.1:52215/", "host": "127.0.0.1:52215", "path": "/", "status": 200,
    "started": "2026-11-30T03:46:14.844886Z",
    "timings": {"request_start": 0.0, "request_end": 0.0, "response_start": 0.06,
                "response_end": 0.06},
    "fd": 17, "complete": True,
    "request": {"http_version": "1.1", "headers": [["Host", "127.0.0.1:52215"],
                                                   ["user-agent", "h2load nghttp2/1.52.0"]]},
    "response": {"http_version": "1.1", "status": 200, "reason": "OK",
                 "headers": [["Server", "nginx/1.22.1"],
                             ["Date", "Mon, 30 Nov 2026 03:46:14 GMT"],
                             ["Content-Type", "text/plain"], ["Content-Length", "17"],
                             ["Connection", "keep-alive"]],
                 "body": "hello from nginx\\n", "body_size": 17},
})
enc = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
def per(f, n=20000):
    best = 1e9
    for _ in range(10):
        t = time.process_time()
        for _ in range(n):
            f(ex)
        best = min(best, (time.process_time() - t) / n * 1e6)
    return best
print(per(lambda e: enc(contract.to_dict(e))), per(contract.to_json))
"""
    res = subprocess.run(["taskset", "-c", TAP_CPU, PY, "-c", code], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    before, after = res.stdout.split()
    return float(before), float(after)


def attach_times(tmp: Path, n: int = 3) -> list[float]:
    """PID given → probes live, in-process (bcc compile included), ``n`` times."""
    code = """
import subprocess, sys, time
from httptap.engine.api import CaptureOptions
from httptap.engine.inprocess import InProcessCapture
p = subprocess.Popen(['sleep', '60'])
cap = InProcessCapture([p.pid], CaptureOptions())
cap.attach()
print(cap.attach_seconds)
cap._program.close()
p.kill()
"""
    out = []
    for _ in range(n):
        res = subprocess.run(["taskset", "-c", TAP_CPU, PY, "-c", code], capture_output=True,
                             text=True, cwd=ROOT, check=True)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return out


# -- output --------------------------------------------------------------------------------


def _fmt_row(r: Row) -> list[str]:
    sc = r.scenario
    ratio = r.traced.rps / r.untraced.rps if r.untraced.rps else 0.0
    compl = 100.0 * r.captured / r.traced.done if r.traced.done else 0.0
    cpu_pct = 100.0 * r.cpu_s / r.wall_s if r.wall_s else 0.0
    us_per = 1e6 * r.cpu_s / r.captured if r.captured else 0.0
    return [
        sc.name,
        f"{sc.rate:,}" if sc.rate else "max",
        f"{r.untraced.rps:,.0f}",
        f"{r.traced.rps:,.0f}",
        f"{ratio:.2f}",
        f"{compl:.1f} ({r.captured:,}/{r.traced.done:,})",
        str(r.lost),
        f"{cpu_pct:.0f}",
        f"{us_per:.0f}",
        f"{r.rss_mb:.0f} ({r.peak_mb:.0f})",
        f"{r.untraced.p50_ms:.2f}/{r.untraced.p99_ms:.2f}",
        f"{r.traced.p50_ms:.2f}/{r.traced.p99_ms:.2f}",
        f"{r.attach_s:.1f}",
    ]


HEADERS = ["scenario", "offered req/s", "untraced req/s", "traced req/s", "traced/untraced",
           "completeness % (captured/done)", "kernel lost", "httptap CPU %", "CPU µs/exchange",
           "RSS (peak) MB", "p50/p99 ms untraced", "p50/p99 ms traced", "CLI attach s"]


def table(rows: list[list[str]], headers: list[str]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    h2 = subprocess.run(["h2load", "--version"], capture_output=True, text=True).stdout.split()
    ngx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB, kernel {platform.release()}, "
            f"Python {platform.python_version()}, {' '.join(h2[:2])}, {ngx}; "
            f"load average {os.getloadavg()[0]:.2f} at start")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a short subset (3 s per run)")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="only scenarios whose name starts with NAME (repeatable); "
                   "also: untraced-cost, memory, engine, attach, websocket, lookups")
    p.add_argument("--seconds", type=float, default=None, help="duration of each load run")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/run.py attaches eBPF probes: run it as root", file=sys.stderr)
        return 2
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    extras = ["untraced-cost", "memory", "engine", "attach", "websocket", "lookups"]
    wanted = args.scenario or ([*QUICK, *extras] if args.quick
                               else [*(s.name for s in SCENARIOS), *extras])

    def want(name: str) -> bool:
        return any(name == w or (args.scenario and name.startswith(w)) for w in wanted)

    print(f"machine: {machine()}")
    print(f"placement: server taskset -c {SERVER_CPU}; h2load -t1 -c{CLIENTS} taskset -c "
          f"{LOAD_CPU}; httptap taskset -c {TAP_CPU}; {seconds:g} s per run", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="httptap-bench-") as t:
        tmp = Path(t)
        for sc in SCENARIOS:
            if want(sc.name):
                r = run_scenario(sc, seconds, tmp)
                rows.append(_fmt_row(r))
                print(" | ".join(rows[-1]), flush=True)
                if r.export:
                    print(f"  {sc.name}: {r.export}", flush=True)
        if rows:
            print()
            print(table(rows, HEADERS))
        if want("untraced-cost"):
            cost = untraced_cost(seconds, tmp)
            print("\nuntraced processes (httptap attached to another process):")
            print(table([[k, f"{a:,.0f}", f"{b:,.0f}", f"{b / a:.3f}" if a else "-"]
                         for k, a, b in cost],
                        ["server (untraced)", "req/s alone", "req/s, httptap elsewhere",
                         "ratio"]))
        if want("lookups"):
            rates = lookup_cost(tmp)
            print("\ngetaddrinfo('localhost') per second (the phases' dns uprobes):")
            print(table([[k, f"{r:,.0f}", f"{r / rates[0][1]:.3f}"] for k, r in rates],
                        ["process", "lookups/s", "ratio"]))
        if want("memory"):
            marks = memory_1m(100_000 if args.quick else 1_000_000)
            print("\nmemory, synthetic events through streams/parser/masking into a 10k history:")
            print(table([[f"{n:,}", f"{mb:.0f}"] for n, mb in marks],
                        ["exchanges passed", "RSS MB"]))
        if want("engine"):
            print(f"\nengine alone (synthetic records, no kernel, no output): "
                  f"{engine_cost():.1f} CPU µs per exchange")
            dict_enc, fast = jsonl_cost()
            print(f"a JSON line (--jsonl) per small exchange: {dict_enc:.1f} CPU µs as "
                  f"to_dict + JSON encoder, {fast:.1f} CPU µs as contract.to_json")
        if want("websocket"):
            from websocket_echo import engine_message_cost, websocket_echo  # bench/ is on path

            cost, _n = engine_message_cost()
            print(f"\nengine alone: {cost:.1f} CPU µs per WebSocket message")
            print(websocket_echo(10_000, seconds).line())
        if want("attach"):
            times = attach_times(tmp, 2 if args.quick else 3)
            print("\nattach (in-process, PID given → probes live): "
                  + ", ".join(f"{x:.2f} s" for x in times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
