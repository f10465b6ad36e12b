"""curl and nginx, both real, from Debian; nginx serves a large file with sendfile()."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.live.conftest import free_port, nginx_binary, nginx_config, wait_port

BIG = 1024 * 1024


@pytest.fixture
def nginx(tmp_path: Path):
    binary = nginx_binary()
    port = free_port()
    root = tmp_path / "www"
    root.mkdir()
    (root / "big.bin").write_bytes(b"B" * BIG)
    (root / "small.txt").write_bytes(b"hello from nginx\n")
    conf = nginx_config(tmp_path, port, root, sendfile=True)
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp_path)])
    wait_port(port)
    time.sleep(0.2)
    yield proc, port
    proc.terminate()
    proc.wait(10)


def _curl_args(port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    # one curl, one keep-alive connection: small, big (sendfile on the server), small, small
    return ["curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
            "-o", "/dev/null", f"{base}/small.txt", f"{base}/big.bin", f"{base}/small.txt",
            f"{base}/missing"]


def _check(got, *, sendfile: bool):
    assert [e.request.path for e in got] == ["/small.txt", "/big.bin", "/small.txt", "/missing"]
    assert [e.status for e in got] == [200, 200, 200, 404]
    assert [e.response.body.size for e in got[:3]] == [17, BIG, 17]
    assert got[1].response.body.truncated
    if sendfile:
        # seen from nginx, static files leave by sendfile(): sizes only, never bytes
        assert got[0].response.body.data == b"" and got[0].response.body.truncated
    else:
        assert got[0].response.body.data == b"hello from nginx\n"
        assert got[2].response.body.data == b"hello from nginx\n"
    assert b"404" in got[3].response.body.data
    assert len({e.connection.local + e.connection.remote for e in got}) == 1


def test_nginx_side_with_sendfile(nginx, attach):
    proc, port = nginx
    cap = attach(proc.pid)  # the master; its worker is found in /proc
    subprocess.run(_curl_args(port), check=True, timeout=30)
    got = cap.wait_for(4)
    _check(got, sendfile=True)
    assert all(e.connection.role.value == "server" for e in got)


def test_curl_side(nginx, attach):
    _proc, port = nginx
    # sh waits for attach, then execs curl in the same pid
    sh = subprocess.Popen(["sh", "-c", 'read x; exec "$@"', "sh", *_curl_args(port)],
                          stdin=subprocess.PIPE, text=True)
    try:
        cap = attach(sh.pid)
        sh.stdin.write("go\n")
        sh.stdin.flush()
        sh.wait(30)
        got = cap.wait_for(4)
        _check(got, sendfile=False)
        assert all(e.connection.role.value == "client" for e in got)
        assert got[0].request.header("user-agent").startswith("curl/")
    finally:
        sh.kill()
