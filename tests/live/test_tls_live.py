"""TLS in the clear: OpenSSL uprobes in Python, curl, nginx and Node.js processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from httptap.model import Role
from httptap.records import Ready
from tests.live.conftest import PROGS, PY, free_port, nginx_binary, nginx_config, wait_port


@pytest.fixture
def tls_server(cert):
    port = free_port()
    proc = subprocess.Popen([PY, str(PROGS / "tls_server.py"), str(port), *cert])
    wait_port(port)
    yield proc, port
    proc.kill()
    proc.wait()


def _only_tls(cap, got):
    assert all(e.connection.tls for e in got)
    assert all(e.url.startswith("https://") for e in got)
    # ciphertext never becomes an exchange of its own
    assert len(cap.exchanges) == len(got)


def test_urllib_first_request_after_ssl_import(tls_server, prog, attach):
    _, port = tls_server
    client = prog("tls_client.py", str(port), "5", "urllib")
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    client.expect("done")
    got = cap.wait_for(5)
    assert [e.request.path for e in got] == [f"/size/{i + 1}" for i in range(5)]
    assert [e.response.body.data for e in got] == [b"x" * (i + 1) for i in range(5)]
    assert all(e.connection.role is Role.CLIENT for e in got)
    assert [e.connection.remote for e in got] == [f"127.0.0.1:{port}"] * 5
    _only_tls(cap, got)


def test_httpx_post_bodies(tls_server, prog, attach):
    _, port = tls_server
    client = prog("tls_client.py", str(port), "10", "httpx")
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    client.expect("done")
    got = cap.wait_for(10)
    assert [e.request.body.data for e in got] == [b"tls-body-%d" % i for i in range(10)]
    assert [e.response.body.data for e in got] == [b"tls-body-%d" % i for i in range(10)]
    _only_tls(cap, got)


def test_200_requests_one_keepalive_connection(tls_server, prog, attach):
    _, port = tls_server
    client = prog("tls_client.py", str(port), "200", "keepalive")
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    client.expect("done", timeout=60)
    got = cap.wait_for(200, timeout=30)
    assert [e.request.path for e in got] == [f"/size/{i % 50 + 1}?i={i}" for i in range(200)]
    assert all(e.response.body.size == i % 50 + 1 for i, e in enumerate(got))
    assert len({e.connection.fd for e in got}) == 1
    _only_tls(cap, got)


def test_python_tls_server_side(tls_server, attach):
    proc, port = tls_server
    cap = attach(proc.pid)
    for i in range(3):
        subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://127.0.0.1:{port}/size/{i + 4}"],
                       check=True, timeout=20)
    got = cap.wait_for(3)
    assert [e.request.path for e in got] == ["/size/4", "/size/5", "/size/6"]
    assert all(e.connection.role is Role.SERVER for e in got)
    assert got[0].request.header("user-agent").startswith("curl/")
    _only_tls(cap, got)


@pytest.fixture
def nginx_tls(tmp_path: Path, cert):
    port = free_port()
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_text("hello over tls\n")
    conf = nginx_config(tmp_path, port, root, cert=cert)
    proc = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(tmp_path)])
    wait_port(port)
    yield proc, port
    proc.terminate()
    proc.wait(10)


def _curl_tls(port: int) -> list[str]:
    url = f"https://127.0.0.1:{port}/index.html"
    return ["curl", "-sk", "--http1.1", "-o", "/dev/null", "-o", "/dev/null", url, url]


def test_curl_to_nginx_tls_from_nginx(nginx_tls, attach):
    proc, port = nginx_tls
    cap = attach(proc.pid)
    subprocess.run(_curl_tls(port), check=True, timeout=20)
    got = cap.wait_for(2)
    assert [e.request.path for e in got] == ["/index.html", "/index.html"]
    assert [e.status for e in got] == [200, 200]
    assert all(e.connection.role is Role.SERVER for e in got)
    _only_tls(cap, got)


def test_curl_to_nginx_tls_from_curl(nginx_tls, attach):
    _, port = nginx_tls
    sh = subprocess.Popen(["sh", "-c", 'read x; exec "$@"', "sh", *_curl_tls(port)],
                          stdin=subprocess.PIPE, text=True)
    try:
        cap = attach(sh.pid)
        sh.stdin.write("go\n")
        sh.stdin.flush()
        sh.wait(20)
        got = cap.wait_for(2)
        assert [e.response.body.data for e in got] == [b"hello over tls\n"] * 2
        assert all(e.connection.role is Role.CLIENT for e in got)
        _only_tls(cap, got)
    finally:
        sh.kill()


def test_node_https_keepalive(tls_server, attach, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (make install installs nodejs)")
    _, port = tls_server
    script = tmp_path / "client.js"
    script.write_text(textwrap.dedent(f"""
        const https = require('https');
        const agent = new https.Agent({{keepAlive: true, maxSockets: 1}});
        process.stdin.once('data', async () => {{
          for (let i = 0; i < 20; i++) {{
            await new Promise((ok, fail) => https.get(
              {{host: '127.0.0.1', port: {port}, path: '/size/' + (i + 1), agent,
                rejectUnauthorized: false}},
              (res) => {{ res.resume(); res.on('end', ok); }}).on('error', fail));
          }}
          console.log('done');
          process.exit(0);
        }});
        console.log('ready');
    """))
    proc = subprocess.Popen([node, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        cap = attach(proc.pid)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "done"
        got = cap.wait_for(20)
        assert [e.request.path for e in got] == [f"/size/{i + 1}" for i in range(20)]
        assert [e.response.body.size for e in got] == list(range(1, 21))
        _only_tls(cap, got)
    finally:
        proc.kill()


def test_go_binary_without_crypto_tls_says_so(attach):
    # fzf (Debian's package) is a Go program without crypto/tls; with --filter it waits on
    # stdin (Go programs with TLS: test_go_tls_live.py)
    fzf = shutil.which("fzf")
    if fzf is None:
        pytest.fail("fzf is not installed (scripts/install-system.sh installs it)")
    proc = subprocess.Popen([fzf, "--filter", "x"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    try:
        cap = attach(proc.pid)
        ready = next(r for r in cap.capture.records(timeout=10) if isinstance(r, Ready))
        assert f"PID {proc.pid} (fzf): Go 1." in ready.message
        assert "crypto/tls not hooked: crypto/tls is not linked in" in ready.message
        assert proc.pid not in cap.capture.go_tls.hooked
        hooked = cap.capture.tls_libraries
        assert all(not lib.go and "fzf" not in lib.path for lib in hooked)
    finally:
        proc.kill()
        proc.wait()


def _own_probe_hits() -> int:
    """Hits of this process's uprobe events (``httptap.capture.uprobes``), from tracefs."""
    profile = Path("/sys/kernel/tracing/uprobe_profile").read_text()
    mine = f"p{os.getpid()}_"
    return sum(int(parts[2]) for parts in map(str.split, profile.splitlines())
               if len(parts) == 3 and parts[1].startswith(mine))


def test_probes_hit_only_traced_processes_and_the_children_they_fork(tls_server, prog, attach):
    _, port = tls_server
    traced = prog("tls_client.py", str(port), "2", "fork")
    bystander = prog("tls_client.py", str(port), "20", "urllib")
    traced.expect("ready")
    bystander.expect("ready")
    cap = attach(traced.pid)
    bystander.go()  # maps libssl after the probes exist, and uses it: no breakpoint for it
    bystander.expect("done")
    assert _own_probe_hits() == 0
    traced.go()
    child = int(traced.expect("done").split()[1])
    got = cap.wait_for(3)
    by_pid: dict[int, list[str]] = {}
    for e in got:
        by_pid.setdefault(e.connection.pid, []).append(e.request.path)
    # the child's first request follows the fork at once: seen through the inherited probe
    assert by_pid == {traced.pid: ["/size/1"], child: ["/size/2", "/size/3"]}
    assert all(e.status == 200 for e in got)
    assert _own_probe_hits() > 0
    _only_tls(cap, got)
