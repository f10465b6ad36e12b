"""HTTP/2 and gRPC from real peers: curl, nginx, hypercorn, httpx and grpcio."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
from pathlib import Path

import pytest

from httptap.model import Proto, Role
from tests.live.conftest import PROGS, PY, free_port, nginx_binary, nginx_config, wait_port

HYPERCORN = str(Path(PY).parent / "hypercorn")


def _hypercorn(port: int, *extra: str) -> subprocess.Popen[bytes]:
    # its own session: hypercorn's worker is a multiprocessing child, killed with the group
    proc = subprocess.Popen([HYPERCORN, "--bind", f"127.0.0.1:{port}", *extra, "asgi_app:app"],
                            cwd=PROGS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_port(port)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture
def h2c_server():
    port = free_port()
    proc = _hypercorn(port)
    yield proc, port
    _stop(proc)


def _run_after_attach(attach, argv: list[str]):
    """Start argv under `sh` that waits, attach to it, let it exec argv; returns the recorder."""
    sh = subprocess.Popen(["sh", "-c", 'read x; exec "$@"', "sh", *argv],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    cap = attach(sh.pid)
    sh.stdin.write("go\n")
    sh.stdin.flush()
    sh.wait(60)
    return cap


def test_100_multiplexed_streams_h2c_prior_knowledge(h2c_server, attach):
    proc, port = h2c_server
    cap = attach(proc.pid)
    urls = [f"http://127.0.0.1:{port}/size/{i + 1}" for i in range(100)]
    # h2load: one connection, 100 concurrent streams (curl 7.88's --parallel trips on
    # hypercorn's flow control)
    out = subprocess.run(["h2load", "-n", "100", "-c", "1", "-m", "100", *urls],
                         check=True, timeout=60, capture_output=True, text=True).stdout
    assert "100 succeeded" in out
    got = cap.wait_for(100)
    assert len(got) == 100
    assert sorted(e.request.path for e in got) == sorted(f"/size/{i + 1}" for i in range(100))
    for e in got:
        n = int(e.request.path.rsplit("/", 1)[1])
        assert e.status == 200 and e.response.body.data == b"h" * n
        assert e.proto is Proto.H2 and e.connection.role is Role.SERVER
        assert e.stream_id % 2 == 1
    assert len({e.stream_id for e in got}) == 100
    assert len({e.connection.remote for e in got}) == 1


def test_server_sent_events_over_h2c_arrive_with_their_own_times(h2c_server, attach):
    proc, port = h2c_server
    cap = attach(proc.pid)
    subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                    f"http://127.0.0.1:{port}/events"], check=True, timeout=30)
    (ex,) = cap.wait_for(1)
    assert ex.proto is Proto.H2 and ex.request.path == "/events"
    assert [(m.proto, m.sse_event, m.sse_id, m.data) for m in ex.messages] == [
        ("sse", "tick", str(i), f"tick {i}".encode()) for i in range(3)]
    times = [m.time_ns for m in ex.messages]
    # hypercorn sends each event 0.3 s after the previous one: parsed as each DATA arrived
    assert all(b - a >= 250_000_000 for a, b in itertools.pairwise(times))


def test_trailers_on_plain_h2_response(h2c_server, attach):
    _, port = h2c_server
    cap = _run_after_attach(attach, ["curl", "-s", "--http2-prior-knowledge", "-H",
                                     "te: trailers", "-o", "/dev/null",
                                     f"http://127.0.0.1:{port}/trailers"])
    got = cap.wait_for(1)
    assert len(got) == 1
    assert got[0].response is not None, (got[0].request, got[0].notes)
    assert got[0].response.body.data == b"with trailers"
    assert ("x-checksum", "abc123") in got[0].response.trailers
    assert got[0].connection.role is Role.CLIENT


def test_httpx_h2_over_tls_to_hypercorn(cert, attach, prog):
    port = free_port()
    server = _hypercorn(port, "--certfile", cert[0], "--keyfile", cert[1])
    try:
        client = prog("h2_client.py", f"https://127.0.0.1:{port}", "10")
        client.expect("ready")
        cap = attach(client.pid)
        client.go()
        client.expect("done")
        got = cap.wait_for(10)
        assert [e.request.path for e in got] == [f"/echo?i={i}" for i in range(10)]
        assert [e.response.body.data for e in got] == [b"h2-body-%d" % i for i in range(10)]
        assert all(e.connection.tls and e.proto is Proto.H2 for e in got)
        assert all(e.url.startswith("https://") for e in got)
    finally:
        _stop(server)


def test_curl_http2_to_nginx_tls(cert, attach, tmp_path):
    port = free_port()
    root = tmp_path / "www"
    root.mkdir()
    (root / "a.txt").write_text("nginx h2\n")
    conf = nginx_config(tmp_path, port, root, cert=cert, http2=True)
    nginx = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(tmp_path)])
    try:
        wait_port(port)
        cap = attach(nginx.pid)
        url = f"https://127.0.0.1:{port}/a.txt"
        subprocess.run(["curl", "-sk", "--http2", "-o", "/dev/null", "-o", "/dev/null", url, url],
                       check=True, timeout=20)
        got = cap.wait_for(2)
        assert [e.request.path for e in got] == ["/a.txt", "/a.txt"]
        assert all(e.proto is Proto.H2 and e.connection.tls for e in got)
        assert all(e.status == 200 and e.response.body.size == 9 for e in got)
    finally:
        nginx.terminate()
        nginx.wait(10)


def test_mid_connection_join(h2c_server, prog, attach):
    _, port = h2c_server
    client = prog("h2_client.py", f"http://127.0.0.1:{port}", "5", "--early", "3")
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    client.expect("done")
    got = cap.wait_for(5)
    assert len(got) == 5
    assert [e.request.body.data for e in got] == [b"h2-body-%d" % i for i in range(5)]
    assert [e.request.path for e in got] == [f"/echo?i={i}" for i in range(5)]
    assert all(e.status == 200 for e in got)
    assert any("joined mid-connection" in n for n in got[0].notes)


@pytest.fixture
def grpc_server():
    port = free_port()
    proc = subprocess.Popen([PY, str(PROGS / "grpc_server.py"), str(port)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield proc, port
    proc.kill()
    proc.wait()


def _check_grpc(got):
    by_method = {e.grpc.method: e for e in got}
    assert set(by_method) == {"Unary", "ServerStream", "ClientStream", "Bidi"} or len(got) == 5
    calls = [(e.grpc.service, e.grpc.method, e.grpc.status) for e in got]
    assert calls == [("demo.Echo", "Unary", 0), ("demo.Echo", "Unary", 3),
                     ("demo.Echo", "ServerStream", 0), ("demo.Echo", "ClientStream", 0),
                     ("demo.Echo", "Bidi", 0)]
    ok, fail, stream, client, bidi = got
    assert [m.data for m in ok.grpc.requests] == [b"hello"]
    assert [m.data for m in ok.grpc.responses] == [b"echo:hello"]
    assert fail.grpc.message == "bad input"
    assert len(stream.grpc.responses) == 50
    assert stream.grpc.responses[49].data == b"msg-49"
    assert [m.data for m in client.grpc.requests] == [b"a", b"b", b"c", b"d", b"e"]
    assert [m.data for m in bidi.grpc.responses] == [b"re:x", b"re:y", b"re:z"]
    assert all(e.proto is Proto.GRPC for e in got)


def test_grpc_client_side(grpc_server, prog, attach):
    _, port = grpc_server
    client = prog("grpc_client.py", str(port))
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    client.expect("done")
    got = cap.wait_for(5)
    _check_grpc(got)
    assert all(e.connection.role is Role.CLIENT for e in got)


def test_grpc_server_side(grpc_server, prog, attach):
    proc, port = grpc_server
    cap = attach(proc.pid)
    client = prog("grpc_client.py", str(port))
    client.expect("ready")
    client.go()
    client.expect("done")
    got = cap.wait_for(5)
    _check_grpc(got)
    assert all(e.connection.role is Role.SERVER for e in got)
