"""The httptap command end to end: output, exit codes, signals, nothing left in the kernel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from httptap import contract
from httptap.engine.api import CaptureOptions, open_capture
from tests.live.conftest import Recorder, bpf_programs, programs_gone, uprobe_definitions

HTTPTAP = [sys.executable, "-m", "httptap.cli"]


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(HTTPTAP + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_attached(proc: subprocess.Popen[str]) -> str:
    line = proc.stderr.readline()
    while line and "attached to PID" not in line:
        line = proc.stderr.readline()
    assert "attached to PID" in line, line
    return line


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "duration"])
def test_stops_cleanly_and_detaches(how, http_server, prog, tmp_path):
    client = prog("client.py", str(http_server), "5", "/size/9")
    client.expect("ready")
    har = tmp_path / "run.har"
    args = ["--pid", str(client.pid), "--jsonl", "--save", str(har)]
    if how == "duration":
        args += ["--duration", "4"]
    cli = _start(args)
    _wait_attached(cli)
    ours = bpf_programs(cli.pid)
    assert len(ours) > 20, "bpftool should see the attached programs"
    assert uprobe_definitions(cli.pid), "the TLS probes of the traced process"
    client.go()
    client.expect("done")
    time.sleep(0.5)
    if how != "duration":
        cli.send_signal(getattr(signal, how))
    out, err = cli.communicate(timeout=30)
    assert cli.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["path"] for d in lines] == [f"/size/9?i={i}" for i in range(5)]
    d = lines[0]
    assert d["v"] == 1 and d["status"] == 200 and d["role"] == "client"
    assert d["fd"] >= 0 and d["stream_id"] is None and d["proto"] == "http/1.1"
    assert set(d["timings"]) == {"request_start", "request_end", "response_start", "response_end"}
    assert d["response"]["body"] == "x" * 9 and d["response"]["body_size"] == 9
    assert ["Authorization", "Bearer ****"] in d["request"]["headers"]
    assert "exchange(s) shown" in err
    assert programs_gone(ours), "BPF programs left in the kernel"
    assert uprobe_definitions(cli.pid) == [], "uprobe events left in tracefs"
    # the HAR file is complete and valid, secrets masked
    from httptap.export.har import load_har

    saved = load_har(str(har))
    assert [e.request.path for e in saved] == [f"/size/9?i={i}" for i in range(5)]
    assert "s3cret" not in har.read_text()


def test_body_limit_zero_keeps_headers_and_true_sizes(http_server, prog):
    client = prog("client.py", str(http_server), "2", "/size/9")
    client.expect("ready")
    cli = _start(["--pid", str(client.pid), "--jsonl", "--count", "2", "--body-limit", "0"])
    _wait_attached(cli)
    client.go()
    out, err = cli.communicate(timeout=30)
    assert cli.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["status"] for d in lines] == [200, 200]
    for d in lines:
        resp = d["response"]
        assert resp["body"] == "" and resp["body_size"] == 9 and resp["body_truncated"] is True
        assert ["Content-Length", "9"] in resp["headers"] or any(
            k.lower() == "content-length" and v == "9" for k, v in resp["headers"])
        req = d["request"]  # a GET: nothing to cut, so not truncated
        assert req["body_size"] == 0 and req["body_truncated"] is False


def test_sigkill_leaves_nothing(http_server, prog):
    client = prog("client.py", str(http_server), "1", "/size/1")
    client.expect("ready")
    cli = _start(["--pid", str(client.pid)])
    _wait_attached(cli)
    ours = bpf_programs(cli.pid)
    assert ours
    cli.kill()
    cli.wait()
    assert programs_gone(ours)


def test_plain_lines_fit_80_columns(http_server, prog):
    client = prog("client.py", str(http_server), "3", "/size/1234" + "/long" * 30)
    client.expect("ready")
    cli = _start(["--pid", str(client.pid), "--count", "3"])
    _wait_attached(cli)
    client.go()
    out, err = cli.communicate(timeout=30)
    assert cli.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert len(line) <= 80
        assert " GET " in line and " 404 " in line


def test_bad_pid_and_usage():
    r = subprocess.run([*HTTPTAP, "--pid", "999999"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "no process with PID 999999" in r.stderr
    r = subprocess.run([*HTTPTAP, "--pid", "abc"], capture_output=True, text=True)
    assert r.returncode == 2
    r = subprocess.run(HTTPTAP, capture_output=True, text=True)
    assert r.returncode == 2


def test_unprivileged_user_gets_a_clear_error(http_server, prog):
    client = prog("client.py", str(http_server), "1", "/size/1")
    client.expect("ready")
    r = subprocess.run(
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
         *HTTPTAP, "--pid", str(client.pid)],
        capture_output=True, text=True, env={**os.environ, "HTTPTAP_HELPER": "/nonexistent"},
        cwd="/",
    )
    assert r.returncode == 1
    assert "httptap:" in r.stderr and "Traceback" not in r.stderr


def test_helper_and_in_process_agree(http_server, prog):
    client = prog("client.py", str(http_server), "20", "/echo", "POST")
    client.expect("ready")
    direct = Recorder(open_capture([client.pid], CaptureOptions(use_helper=False)))
    helper = Recorder(open_capture([client.pid], CaptureOptions(use_helper=True)))
    try:
        client.go()
        client.expect("done")
        a = direct.wait_for(20)
        b = helper.wait_for(20)
    finally:
        direct.stop()
        helper.stop()

    # Each capture has its own probes, which read the clock separately: times may differ by
    # microseconds, everything else must be identical.
    def norm(ex):
        d = contract.to_dict(ex)
        for key in ("started", "duration_ms", "ttfb_ms", "timings", "phases"):
            d.pop(key)
        return d

    assert len(a) == len(b) == 20
    assert [norm(x) for x in a] == [norm(x) for x in b]
    for x, y in zip(a, b, strict=True):
        assert abs(x.duration_ms - y.duration_ms) < 1.0


def test_doctor_all_good():
    r = subprocess.run([*HTTPTAP, "doctor"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    assert "BPF program" in r.stdout and "all good" in r.stdout


def test_help_has_examples():
    r = subprocess.run([*HTTPTAP, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "examples:" in r.stdout
    assert Path("/proc/self").exists()


def test_demo_shows_every_kind_of_call_and_leaves_nothing():
    r = subprocess.run([*HTTPTAP, "demo", "--plain", "--duration", "9", "--interval", "0.2"],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for needle in ("/items?page=1", " 404 ", " 500 ", "/stream", "256.0K", "🔒",
                   "/items?proto=h2", "/demo.Inventor"):
        assert needle in out, f"{needle!r} missing from the demo output:\n{out}"
    assert "Bearer demo-secret-token" not in out
    pids = [int(w) for w in r.stderr.replace(")", " ").replace(";", " ").split() if w.isdigit()]
    time.sleep(0.5)
    assert pids and not [p for p in pids if Path(f"/proc/{p}").exists()
                         and "httptap.demo" in Path(f"/proc/{p}/cmdline").read_text()]
