"""HTTP/1.1 captured from real processes, outbound and inbound."""

from __future__ import annotations

from httptap.model import Role

SECRET = "s3cret-token"


def test_outbound_500_keepalive_requests_in_order(http_server, prog, attach):
    client = prog("client.py", str(http_server), "500", "/size/100")
    client.expect("ready")
    cap = attach(client.pid)
    with open(f"/proc/{client.pid}/comm") as fh:
        comm = fh.read().strip()
    client.go()
    client.expect("done", timeout=60)
    got = cap.wait_for(500, timeout=30)
    assert len(got) == 500
    assert [e.request.path for e in got] == [f"/size/100?i={i}" for i in range(500)]
    for e in got:
        assert e.request.method == "GET"
        assert e.status == 200
        assert e.response.body.size == 100
        assert e.response.body.data == b"x" * 100
        assert e.connection.role is Role.CLIENT
        assert e.connection.pid == client.pid
        assert e.connection.comm == comm  # the process name, from /proc
        assert e.connection.remote == f"127.0.0.1:{http_server}"
        assert e.duration_ms is not None and e.duration_ms > 0
        assert e.ttfb_ms is not None and 0 < e.ttfb_ms <= e.duration_ms
        assert e.wall_start is not None
        # secrets are masked at the source
        assert dict(e.request.headers)["Authorization"] == "Bearer ****"
    assert len({e.id for e in got}) == 500
    assert all(SECRET not in str(e.request.headers) for e in got)


def test_inbound_server_side(prog, attach):
    import subprocess

    from tests.live.conftest import PROGS, PY, free_port, wait_port

    port = free_port()
    server = subprocess.Popen([PY, str(PROGS / "server.py"), str(port)])
    try:
        wait_port(port)
        cap = attach(server.pid)
        client = prog("client.py", str(port), "20", "/echo", "POST")
        client.expect("ready")
        client.go()
        client.expect("done")
        got = cap.wait_for(20, pred=lambda e: e.request.path.startswith("/echo"))
        assert len(got) == 20
        for i, e in enumerate(got):
            assert e.connection.role is Role.SERVER
            assert e.request.method == "POST"
            assert e.request.path == f"/echo?i={i}"
            assert e.request.body.data == (b"p%d" % i) * 10
            assert e.response.body.data == e.request.body.data
            assert e.status == 200
            assert e.connection.local == f"127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


def test_connection_open_before_attach(http_server, prog, attach):
    client = prog("client.py", str(http_server), "5", "/size/7", "GET", "--early", "3")
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    client.expect("done")
    got = cap.wait_for(5)
    assert [e.request.path for e in got] == [f"/size/7?i={i}" for i in range(5)]
    assert "joined mid-connection" in got[0].notes
    assert all(e.status == 200 and e.response.body.size == 7 for e in got)


def test_fd_reuse_trap(http_server, prog, attach):
    p = prog("fdreuse.py", str(http_server))
    p.expect("ready")
    cap = attach(p.pid)
    p.go()
    _, file_fd, sock_fd = p.expect("fds").split()
    assert file_fd == sock_fd, "the test needs the socket on the file's old fd"
    p.expect("done")
    got = cap.wait_for(3)
    assert [e.request.path for e in got] == ["/size/10", "/size/11", "/size/12"]
    assert [e.response.body.size for e in got] == [10, 11, 12]


def test_body_over_limit_keeps_sizes_and_sync(http_server, prog, attach):
    cl = prog("client.py", str(http_server), "3", "/size/200000")
    ch = prog("client.py", str(http_server), "3", "/chunked/150000")
    cl.expect("ready")
    ch.expect("ready")
    cap = attach(cl.pid, ch.pid, body_limit=1000)
    cl.go()
    ch.go()
    cl.expect("done")
    ch.expect("done")
    got = cap.wait_for(6)
    by_pid = {cl.pid: [], ch.pid: []}
    for e in got:
        by_pid[e.connection.pid].append(e)
    for pid, size in ((cl.pid, 200000), (ch.pid, 150000)):
        exs = by_pid[pid]
        assert len(exs) == 3
        for i, e in enumerate(exs):
            assert e.request.path.endswith(f"i={i}")
            assert e.status == 200
            assert e.response.body.size == size
            assert e.response.body.truncated
            assert len(e.response.body.data) == 1000


def test_non_http_socket_is_ignored(http_server, prog, attach):
    p = prog("mixed.py", str(http_server))
    p.expect("ready")
    cap = attach(p.pid)
    p.go()
    p.expect("done")
    got = cap.wait_for(10)
    assert [e.request.path for e in got] == [f"/size/{i + 1}" for i in range(10)]
    import time

    time.sleep(1.2)  # one stats interval
    stats = cap.capture.stats()
    assert stats.not_http >= 1
    assert len(cap.exchanges) == 10


def test_every_way_of_moving_socket_bytes(http_server, prog, attach):
    # One request per syscall family the probes dispatch on (send/recv, read/write,
    # sendmsg/recvmsg, writev/readv, sendmmsg/recvmmsg, sendfile) and per way of copying
    # the socket's fd (dup, dup2, dup3, fcntl F_DUPFD) or closing it (close_range): each
    # must show whole.
    client = prog("syscalls.py", str(http_server))
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    client.expect("done")
    vias = ["send", "write", "sendmsg", "writev", "sendmmsg", "sendfile", "dup", "dup2",
            "dup3", "fcntl", "close_range"]
    got = cap.wait_for(len(vias))
    seen = {e.request.path.split("via=")[1]: e for e in got}
    assert sorted(seen) == sorted(vias), [e.request.path for e in got]
    for i, via in enumerate(vias):
        e = seen[via]
        assert e.status == 200 and e.complete, via
        assert e.response.body.size == 100 + i, via
        assert not e.notes or via == "sendfile", (via, e.notes)
    # sendfile's bytes never pass through user memory: their size is known, not their content
    assert seen["sendfile"].request.body.size == 105
    assert seen["sendfile"].notes == ["body not fully captured"]
    assert seen["send"].response.body.data == b"x" * 100
    # the socket closed by close_range() left the allow-list: its fd, reused by a file
    # written with a request, shows nothing (pending ones are flushed at stop)
    cap.stop()
    assert not [e for e in cap.exchanges if "bogus" in e.request.path]
