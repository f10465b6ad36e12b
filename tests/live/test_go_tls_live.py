"""Go's crypto/tls in the clear: real Go clients and servers (tests/live/progs/go), built
four ways (default, stripped, PIE, stripped PIE), HTTP/1.1 and HTTP/2, both roles.

One capture follows a spawner process for the whole module: every Go program is its
child (fork, then exec), so these tests also prove that Go executables started after
attach are found and hooked. The Go programs report the fd and addresses of the socket
each request used; every exchange must carry them.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from httptap.engine.api import CaptureOptions, open_capture
from httptap.model import Exchange, Role
from tests import golang_builds
from tests.live.conftest import PROGS, PY, Recorder

_serial = itertools.count()


@pytest.fixture(scope="module")
def go_builds() -> dict[str, dict[str, Path]]:
    try:
        return golang_builds.build_all()
    except golang_builds.GoMissing as exc:
        pytest.fail(str(exc))


class Spawner:
    """tests/live/progs/spawner.py: starts programs as its children, on request."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([PY, str(PROGS / "spawner.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        assert self._reply() == "ready"

    def _reply(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def _send(self, cmd: dict) -> str:  # type: ignore[type-arg]
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._reply()

    def spawn(self, argv: list[str], env: dict[str, str], stdin: Path, stdout: Path) -> int:
        return int(self._send({"argv": argv, "env": env, "stdin": str(stdin),
                               "stdout": str(stdout)}).split()[1])

    def wait(self, pid: int) -> int:
        return int(self._send({"wait": pid}).split()[1])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


class GoProc:
    """A Go test program: stdin through a FIFO, stdout into a file read line by line."""

    def __init__(self, spawner: Spawner, tmp: Path, argv: list[str],
                 env: dict[str, str] | None = None) -> None:
        n = next(_serial)
        fifo, out = tmp / f"in{n}", tmp / f"out{n}"
        os.mkfifo(fifo)
        out.touch()
        self._in: int | None = os.open(fifo, os.O_RDWR)  # a writer first: the child's open
        self.spawner = spawner                           # of the read end never blocks
        self.pid = spawner.spawn(argv, env or {}, fifo, out)
        self._out = open(out, "rb")  # noqa: SIM115
        self._partial = b""

    def readline(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._partial:
            chunk = self._out.read()
            if chunk:
                self._partial += chunk
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"Go program {self.pid} said nothing")
            time.sleep(0.02)
        line, _, self._partial = self._partial.partition(b"\n")
        return line.decode()

    def send(self, line: str) -> None:
        assert self._in is not None
        os.write(self._in, line.encode() + b"\n")

    def finish(self) -> int:
        """Close its stdin and return its exit status."""
        if self._in is not None:
            os.close(self._in)
            self._in = None
        self._out.close()
        return self.spawner.wait(self.pid)


@dataclass
class Session:
    spawner: Spawner
    rec: Recorder
    builds: dict[str, dict[str, Path]]
    tmp: Path

    def wait_hooked(self, pid: int, timeout: float = 30.0) -> None:
        hooks = self.rec.capture.go_tls  # type: ignore[attr-defined]
        deadline = time.monotonic() + timeout
        while pid not in hooks.hooked:
            assert time.monotonic() < deadline, f"PID {pid} not hooked: {self.rec.capture.notes}"  # type: ignore[attr-defined]
            time.sleep(0.02)


@pytest.fixture(scope="module")
def go_session(go_builds, tmp_path_factory) -> Iterator[Session]:
    spawner = Spawner()
    rec = Recorder(open_capture([spawner.pid],
                                CaptureOptions(use_helper=False, ring_kib=32 * 1024)))
    try:
        yield Session(spawner, rec, go_builds, tmp_path_factory.mktemp("go"))
    finally:
        rec.stop()
        spawner.close()


@dataclass
class Run:
    port: int
    server_pid: int
    client_pid: int
    sent: dict[str, tuple[int, str]]  # marker -> (client fd, client local address)
    exchanges: list[Exchange]


def _run(s: Session, variant: str, h2: bool, n: int, c: int, req: int, resp: int,
         extra: tuple[str, ...] = ()) -> Run:
    builds = s.builds[variant]
    server = GoProc(s.spawner, s.tmp, [str(builds["server"])])
    port = int(server.readline().split()[1])
    s.wait_hooked(server.pid)
    marker = f"{variant}{'h2' if h2 else 'h1'}x{next(_serial)}"
    argv = [str(builds["client"]), "-url", f"https://127.0.0.1:{port}", "-n", str(n),
            "-c", str(c), "-req", str(req), "-resp", str(resp), "-marker", marker, *extra]
    client = GoProc(s.spawner, s.tmp, [*argv, "-h2"] if h2 else argv,
                    env={} if h2 else {"GODEBUG": "http2client=0"})
    assert client.readline() == "ready"
    s.wait_hooked(client.pid)
    client.send("go")
    sent: dict[str, tuple[int, str]] = {}
    while not (line := client.readline()).startswith("done"):
        assert line.startswith("ex "), line
        _ex, m, fd, local = line.split()
        sent[m] = (int(fd), local)
    assert client.finish() == 0  # the probes never harm the Go program
    pids = {server.pid, client.pid}
    got = s.rec.wait_for(2 * n, timeout=120, pred=lambda e: e.connection.pid in pids
                         and e.status is not None)
    assert server.finish() == 0
    time.sleep(0.2)  # connections closed by the exits: their unanswered requests arrive
    mine = [e for e in s.rec.exchanges if e.connection.pid in pids]
    assert len(got) == 2 * n
    return Run(port, server.pid, client.pid, sent, mine)


def _marker(e: Exchange) -> str:
    return dict(e.request.headers).get("X-Marker") or dict(e.request.headers)["x-marker"]


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next(v for k, v in headers if k.lower() == name.lower())


def _check(run: Run, h2: bool, req: int, resp: int, n: int) -> None:
    proto = "h2" if h2 else "http/1.1"
    assert len(run.sent) == n
    done = [e for e in run.exchanges if e.status is not None]
    # the rest: requests Go's HTTP/1 transport wrote on a connection that then closed,
    # and sent again on another (it retries those); they are shown, unanswered
    for e in run.exchanges:
        if e.status is None:
            assert not h2 and e.connection.role is Role.CLIENT, e
            assert any("no response" in note for note in e.notes)
    by_side: dict[tuple[Role, str], Exchange] = {}
    for e in done:
        key = (e.connection.role, _marker(e))
        assert key not in by_side, f"{key} twice"
        by_side[key] = e
    assert set(by_side) == {(role, m) for role in (Role.SERVER, Role.CLIENT) for m in run.sent}
    for m, (client_fd, client_local) in run.sent.items():
        srv, cli = by_side[(Role.SERVER, m)], by_side[(Role.CLIENT, m)]
        assert (srv.connection.pid, cli.connection.pid) == (run.server_pid, run.client_pid)
        for e in (srv, cli):
            assert e.connection.tls
            assert e.connection.protocol.value == proto
            assert e.request.method == "POST"
            assert e.request.path == f"/path-{m}?size={resp}"  # h2: :path decoded
            assert e.request.body.size == req
            assert e.request.body.data.startswith(f"req-{m}|".encode())
            assert e.status == 200
            assert e.response.body.size == resp
            assert e.response.body.data.startswith(f"resp-{m}|".encode())
            assert _header(e.response.headers, "X-Echo-Marker") == m
            assert _header(e.response.headers, "X-Got-Bytes") == str(req)
            # the socket Go says the request went over
            assert _header(e.response.headers, "X-Peer") == client_local
        assert srv.connection.fd == int(_header(srv.response.headers, "X-Server-Fd"))
        assert srv.connection.remote == client_local
        assert cli.connection.fd == client_fd
        assert cli.connection.remote == f"127.0.0.1:{run.port}"


VARIANTS = list(golang_builds.VARIANTS)


@pytest.mark.parametrize("h2", [False, True], ids=["http1", "h2"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_go_client_and_server_in_the_clear(go_session, variant, h2):
    # bodies over 16 KiB (several TLS records, several Read calls) and over 64 KiB
    req, resp, n = 20_000, 70_000, 12
    run = _run(go_session, variant, h2, n=n, c=3, req=req, resp=resp)
    _check(run, h2, req, resp, n)
    notes = go_session.rec.capture.notes  # type: ignore[attr-defined]
    assert any("Go 1." in note and "crypto/tls Read" in note for note in notes)


@pytest.mark.parametrize("h2", [False, True], ids=["http1", "h2"])
def test_a_thousand_requests_at_concurrency_50(go_session, h2):
    run = _run(go_session, "stripped-pie", h2, n=1000, c=50, req=300, resp=300)
    _check(run, h2, 300, 300, 1000)


def test_grpc_over_tls_from_go(go_session):
    # gRPC's wire format over Go's net/http h2 (trailers, length-prefixed protobuf)
    run = _run(go_session, "stripped-pie", True, n=5, c=2, req=100, resp=100,
               extra=("-grpc",))
    done = {(e.connection.role, _marker(e)): e for e in run.exchanges}
    assert len(done) == len(run.exchanges) == 10
    for m, (client_fd, client_local) in run.sent.items():
        for role in (Role.SERVER, Role.CLIENT):
            e = done[(role, m)]
            assert e.connection.tls and e.proto.value == "grpc"
            assert e.request.path == "/test.Echo/Say"
            assert e.grpc is not None
            assert (e.grpc.service, e.grpc.method, e.grpc.status) == ("test.Echo", "Say", 0)
            assert [msg.data for msg in e.grpc.requests] == [b"\x0a" + bytes([len(m)]) + m.encode()]
            assert m.encode() in e.grpc.responses[0].data
            assert b"pong-" in e.grpc.responses[0].data
            assert _header(e.response.headers, "X-Peer") == client_local
        assert done[(Role.CLIENT, m)].connection.fd == client_fd
        srv = done[(Role.SERVER, m)]
        assert srv.connection.fd == int(_header(srv.response.headers, "X-Server-Fd"))


def test_no_ciphertext_is_shown(go_session):
    # every exchange of every Go program in this module came from the TLS probes: the
    # sockets' handshakes and records never became exchanges of their own
    _run(go_session, "stripped", False, n=3, c=1, req=100, resp=100)
    mine = [e for e in go_session.rec.exchanges if e.connection.pid != go_session.spawner.pid]
    assert len(mine) >= 6
    assert all(e.connection.tls for e in mine)
    for e in mine:
        assert e.request.method.isalpha(), e.request.method
        assert not e.request.body.data.startswith(b"\x16\x03")
        assert e.response is None or not e.response.body.data.startswith(b"\x17\x03")


class _Direct:
    """A Go test program started by the test itself (traced only once attached)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env={**os.environ, **(env or {})})
        self.pid = self.proc.pid

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def round(self) -> dict[str, tuple[int, str]]:
        self.send("go")
        sent: dict[str, tuple[int, str]] = {}
        while not (line := self.readline()).startswith("done"):
            _ex, m, fd, local = line.split()
            sent[m] = (int(fd), local)
        return sent


def test_connections_open_at_attach_are_joined(go_builds, attach):
    """Each client makes its connection and a first round of requests before httptap
    attaches; the second round, on the same connection, is seen from both sides (with the
    addresses of the socket, from /proc: the client is kept alive for a third round)."""
    pairs: list[tuple[_Direct, _Direct, int, bool]] = []
    try:
        for h2 in (False, True):
            builds = go_builds["pie"]
            server = _Direct([str(builds["server"])])
            port = int(server.readline().split()[1])
            argv = [str(builds["client"]), "-url", f"https://127.0.0.1:{port}", "-n", "3",
                    "-c", "1", "-rounds", "3", "-req", "30000", "-resp", "100",
                    "-marker", f"join{int(h2)}"]
            client = _Direct([*argv, "-h2"] if h2 else argv,
                             env={} if h2 else {"GODEBUG": "http2client=0"})
            assert client.readline() == "ready"
            first = client.round()
            pairs.append((server, client, port, h2))
        cap = attach(*[p.pid for s, c, _, _ in pairs for p in (s, c)])
        hooked = cap.capture.go_tls.hooked
        assert {p.pid for s, c, _, _ in pairs for p in (s, c)} <= hooked, cap.capture.notes
        for server, client, port, h2 in pairs:
            second = client.round()
            assert {fd for fd, _ in second.values()} == {fd for fd, _ in first.values()}
            pids = {server.pid, client.pid}
            # h2: headers the peer's HPACK encoder indexed before attach stay undecodable,
            # said in a note; :path (new on every request) and :status decode
            def ok(e: Exchange, h2: bool = h2) -> bool:
                return e.status is not None and all(h2 and "not decodable" in n for n in e.notes)

            got = cap.wait_for(4, timeout=30, pred=lambda e, pids=pids, ok=ok: e.connection.pid
                               in pids and ok(e))
            assert len(got) >= 4, (h2, [(e.connection, e.request.path, e.status, e.notes)
                                        for e in cap.exchanges if e.connection.pid in pids])
            time.sleep(0.5)
            got = [e for e in cap.exchanges if e.connection.pid in pids]
            # A Read in progress at attach (each side waits in one for the next message)
            # returns bytes whose buffer was never seen: the first exchange of the round is
            # shown with what is missing said; the following ones are whole, on both sides.
            first_m = min(second)
            for e in got:
                if first_m in e.request.path or not e.request.path:
                    assert e.notes, e
            for m, (fd, local) in second.items():
                if m == first_m:
                    continue
                mine = [e for e in got if e.request.path == f"/path-{m}?size=100"]
                assert sorted(e.connection.role.value for e in mine) == ["client", "server"], [
                    (e.connection.role, e.request.path, e.status, e.notes) for e in got]
                for e in mine:
                    assert e.connection.tls and ok(e), e.notes
                    assert e.connection.protocol.value == ("h2" if h2 else "http/1.1")
                    assert e.status == 200
                    assert e.request.body.size == 30000
                    assert e.request.body.data.startswith(f"req-{m}|".encode())
                    if e.connection.role is Role.CLIENT:
                        assert e.connection.fd == fd
                        assert e.connection.remote == f"127.0.0.1:{port}"
                    else:
                        assert e.connection.remote == local
                        if not h2:
                            assert _header(e.response.headers, "X-Peer") == local
                            assert e.connection.fd == int(
                                _header(e.response.headers, "X-Server-Fd"))
            client.round()  # the third: kept alive until here, so /proc has its sockets
            assert client.proc.wait(timeout=30) == 0
    finally:
        for server, client, _, _ in pairs:
            for p in (client, server):
                if p.proc.poll() is None:
                    p.proc.kill()
                p.proc.wait()


def _own_probe_hits() -> int:
    """Hits of this process's uprobe events (``httptap.capture.uprobes``), from tracefs."""
    profile = Path("/sys/kernel/tracing/uprobe_profile").read_text()
    mine = f"p{os.getpid()}_"
    return sum(int(parts[2]) for parts in map(str.split, profile.splitlines())
               if len(parts) == 3 and parts[1].startswith(mine))


def test_untraced_go_programs_never_hit_the_probes(go_session):
    # the same executables as the traced ones, started outside the traced tree
    builds = go_session.builds["default"]
    _run(go_session, "default", False, n=2, c=1, req=100, resp=100)  # probes on these files
    before = _own_probe_hits()
    assert before > 0
    server = _Direct([str(builds["server"])])
    try:
        port = int(server.readline().split()[1])
        client = _Direct([str(builds["client"]), "-url", f"https://127.0.0.1:{port}", "-n",
                          "20", "-c", "2"], env={"GODEBUG": "http2client=0"})
        assert client.readline() == "ready"
        assert len(client.round()) == 20
        assert client.proc.wait(timeout=30) == 0
    finally:
        server.proc.kill()
        server.proc.wait()
    assert _own_probe_hits() == before
    bystanders = {server.pid, client.pid}
    assert not [e for e in go_session.rec.exchanges if e.connection.pid in bystanders]
