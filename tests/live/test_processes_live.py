"""Processes: pre-forked workers, forks after attach, exec, and the target exiting."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from httptap.capture import procfs
from httptap.records import Ready
from tests.live.conftest import PROGS, PY, free_port, wait_port


def test_prefork_workers_before_and_after_attach(prog, attach):
    port = free_port()
    server = subprocess.Popen([PY, str(PROGS / "server.py"), str(port), "--fork", "2"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        wait_port(port)
        old_workers = set(procfs.descendants(server.pid))
        assert len(old_workers) == 2
        cap = attach(server.pid)

        c1 = prog("client.py", str(port), "10", "/size/5")
        c1.expect("ready")
        c1.go()
        c1.expect("done")
        first = cap.wait_for(10)
        assert len(first) == 10
        assert {e.connection.pid for e in first} <= old_workers

        server.stdin.write("fork\n")
        server.stdin.flush()
        assert server.stdout.readline().strip() == "forked"
        new_workers = set(procfs.descendants(server.pid)) - old_workers
        assert len(new_workers) == 1
        for pid in old_workers:  # only the worker forked after attach can answer now
            os.kill(pid, signal.SIGKILL)
        c2 = prog("client.py", str(port), "10", "/size/6")
        c2.expect("ready")
        c2.go()
        c2.expect("done")
        second = cap.wait_for(10, pred=lambda e: e.request.path.startswith("/size/6"))
        assert len(second) == 10
        assert {e.connection.pid for e in second} == new_workers
        assert set(cap.exits()) >= old_workers
    finally:
        for pid in procfs.descendants(server.pid):
            os.kill(pid, signal.SIGKILL)
        server.kill()
        server.wait()


_ACCEPT_SYSCALLS = {"43", "288"}  # accept, accept4 (x86-64)


def _in_syscall(pid: int, numbers: set[str], timeout: float = 10.0) -> None:
    """Wait until ``pid``'s main thread is blocked in one of the syscalls ``numbers``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/syscall").read_text().split()[0] in numbers:
            return
        time.sleep(0.01)
    raise AssertionError(f"PID {pid} never blocked in syscall {numbers}")


def _one_connection_server(answers: int) -> tuple[subprocess.Popen[str], int]:
    """A server that accepts one connection with a blocking accept() and answers its first
    ``answers`` requests with a blocking recv() each; returns it and its port."""
    server = subprocess.Popen(
        [PY, "-c", "import socket,sys,time\n"
         "s=socket.create_server(('127.0.0.1',0))\n"
         "print(s.getsockname()[1],flush=True)\n"
         "c,_=s.accept()\n"
         "for _ in range(int(sys.argv[1])):\n"
         "    c.recv(1000)\n"
         "    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n"
         "time.sleep(30)\n", str(answers)],
        stdout=subprocess.PIPE, text=True,
    )
    assert server.stdout is not None
    return server, int(server.stdout.readline())


def test_worker_blocked_in_accept_at_attach_is_followed(attach):
    # A pre-fork worker sits in a blocking accept() when httptap attaches: the syscall's
    # entry was never seen, and the connection it returns must still be followed.
    server, port = _one_connection_server(1)
    try:
        _in_syscall(server.pid, _ACCEPT_SYSCALLS)
        cap = attach(server.pid)
        with socket.create_connection(("127.0.0.1", port)) as conn:
            client_port = conn.getsockname()[1]
            conn.sendall(b"GET /blocked HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(1000).endswith(b"ok")
        got = cap.wait_for(1)
        assert [(e.request.path, e.status) for e in got] == [("/blocked", 200)]
        assert got[0].connection.pid == server.pid
        assert got[0].connection.remote.endswith(f":{client_port}")
    finally:
        server.kill()
        server.wait()


def test_request_read_in_flight_at_attach_is_said(attach):
    # A thread already blocked in recv() on a keep-alive connection when httptap attaches:
    # the request it returns with was never seen. Its response is shown, and says so; the
    # later requests on the connection are whole.
    server, port = _one_connection_server(3)
    try:
        with socket.create_connection(("127.0.0.1", port)) as conn:
            _in_syscall(server.pid, {"45"})  # recvfrom
            cap = attach(server.pid)
            for i in range(3):
                conn.sendall(b"GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
                assert conn.recv(1000).endswith(b"ok")
            got = cap.wait_for(3)
        assert [(e.request.path, e.status) for e in got] == [("", 200), ("/r1", 200),
                                                             ("/r2", 200)]
        assert "response without a captured request" in got[0].notes
        assert not got[1].notes and not got[2].notes
    finally:
        server.kill()
        server.wait()


def test_target_exit_reports_unanswered_request(attach):
    # A server that reads a request and exits without answering.
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(1000)  # never answer

    threading.Thread(target=serve, daemon=True).start()
    client = subprocess.Popen(
        [PY, "-c", "import socket,sys,time\n"
         f"s=socket.create_connection(('127.0.0.1',{port}))\n"
         "sys.stdin.readline()\n"
         "s.sendall(b'GET /never HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
         "time.sleep(0.5)\n"],
        stdin=subprocess.PIPE, text=True,
    )
    try:
        cap = attach(client.pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        client.wait(10)
        assert cap.capture.wait(10), "the capture ends when its only target exits"
        got = cap.exchanges
        assert [e.request.path for e in got] == ["/never"]
        assert got[0].status is None
        assert not got[0].complete
        assert got[0].notes
        assert cap.exits() == [client.pid]
    finally:
        client.kill()
        listener.close()


def test_exec_is_followed(http_server, attach):
    # sh waits, then execs a Python client: the same pid, a new image, still traced.
    script = (f"import http.client;c=http.client.HTTPConnection('127.0.0.1',{http_server});"
              "[(c.request('GET','/size/3?e=%d'%i),c.getresponse().read()) for i in range(3)]")
    sh = subprocess.Popen(["sh", "-c", f'read x; exec {PY} -c "{script}"'],
                          stdin=subprocess.PIPE, text=True)
    try:
        cap = attach(sh.pid)
        sh.stdin.write("go\n")
        sh.stdin.flush()
        sh.wait(20)
        got = cap.wait_for(3)
        assert [e.request.path for e in got] == [f"/size/3?e={i}" for i in range(3)]
        assert all(e.connection.pid == sh.pid for e in got)
    finally:
        sh.kill()


def test_sockets_made_right_after_exec_stay_listed(http_server, attach):
    # curl connects within milliseconds of exec, before the engine has handled the exec
    # event; its later requests (--rate: one each half second, one connection) must be seen.
    url = f"http://127.0.0.1:{http_server}/size/4"
    sh = subprocess.Popen(["sh", "-c", 'read x; exec "$@"', "sh", "curl", "-s", "--rate", "2/s",
                           "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                           url, url, url], stdin=subprocess.PIPE, text=True)
    try:
        cap = attach(sh.pid)
        sh.stdin.write("go\n")
        sh.stdin.flush()
        sh.wait(20)
        got = cap.wait_for(3)
        assert [e.request.path for e in got] == ["/size/4"] * 3
        assert all(e.status == 200 and e.response.body.size == 4 for e in got)
        assert len({e.connection.local for e in got}) == 1
        cap.stop()
        # nothing orphaned: a request cut from its socket's entry would end unanswered here
        assert len(cap.exchanges) == 3, [(e.request.path, e.notes) for e in cap.exchanges]
    finally:
        sh.kill()


def _elf32_pause_loop(path: Path) -> None:
    """A minimal 32-bit x86 executable that calls pause() (ia32 syscall 29) forever."""
    base, entry = 0x08048000, 52 + 32
    code = bytes([0xB8, 29, 0, 0, 0, 0xCD, 0x80, 0xEB, 0xF7])  # mov eax,29; int 0x80; jmp
    size = entry + len(code)
    elf_header = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack(
        "<HHIIIIIHHHHHH", 2, 3, 1, base + entry, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    program_header = struct.pack("<8I", 1, 0, base, base, size, size, 5, 0x1000)
    path.write_bytes(elf_header + program_header + code)
    path.chmod(0o755)


def test_a_32_bit_process_is_said_not_seen(attach, tmp_path):
    # The probes follow x86-64 syscalls; a 32-bit program's use another table. Attaching
    # to one must say so rather than show an empty capture as if it made no requests.
    exe = tmp_path / "pause32"
    _elf32_pause_loop(exe)
    try:
        proc = subprocess.Popen([str(exe)])
    except OSError as exc:  # ENOEXEC: a kernel without IA32 emulation runs no such program
        pytest.skip(f"this kernel runs no 32-bit x86 programs ({exc}): nothing to note")
    try:
        _in_syscall(proc.pid, {"29"})  # its own table's pause: the kernel runs it
        cap = attach(proc.pid)
        ready = next(r for r in cap.capture.records(timeout=10) if isinstance(r, Ready))
        assert f"PID {proc.pid} (pause32) is a 32-bit program" in ready.message
    finally:
        proc.kill()
        proc.wait()
