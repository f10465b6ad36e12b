"""Live tests: real processes, real sockets, the real kernel side. Root and eBPF required."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from httptap.engine.api import Capture, CaptureOptions, open_capture
from httptap.model import Exchange
from httptap.records import Completed, Pending, ProcessExit, Record

PROGS = Path(__file__).parent / "progs"
PY = sys.executable


def _why_not_live() -> str | None:
    if os.geteuid() != 0:
        return "live eBPF tests need root (run `sudo make test`)"
    try:
        import bcc  # noqa: F401
    except ImportError:
        return "bcc is not importable (run `make install`)"
    if not Path("/sys/kernel/tracing/events/syscalls").exists():
        return "tracefs with syscall tracepoints is not mounted (run `make install`)"
    return None


_REASON = _why_not_live()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live_dir = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(live_dir):
            item.add_marker(pytest.mark.live)
            if _REASON:
                if os.environ.get("CI"):
                    pytest.fail(f"CI must run live tests: {_REASON}", pytrace=False)
                item.add_marker(pytest.mark.skip(reason=_REASON))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class Recorder:
    """Collects a capture's records from its subscriber callback."""

    def __init__(self, capture: Capture) -> None:
        self.capture = capture
        self.records: list[Record] = []
        self._cond = threading.Condition()
        capture.subscribe(self._on_batch)

    def _on_batch(self, batch: list[Record]) -> None:
        with self._cond:
            self.records.extend(batch)
            self._cond.notify_all()

    @property
    def exchanges(self) -> list[Exchange]:
        return [r.exchange for r in self.records if isinstance(r, Completed)]

    @property
    def pending(self) -> list[Exchange]:
        return [r.exchange for r in self.records if isinstance(r, Pending)]

    def exits(self) -> list[int]:
        return [r.pid for r in self.records if isinstance(r, ProcessExit)]

    def wait_for(self, n: int, timeout: float = 20.0, pred=None) -> list[Exchange]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [e for e in self.exchanges if pred is None or pred(e)]
                if len(got) >= n or time.monotonic() >= deadline:
                    return got
                self._cond.wait(0.1)

    def stop(self) -> None:
        self.capture.stop()


class Prog:
    """A test program that waits for 'go' on stdin, prints 'done' when finished."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [PY, str(PROGS / script), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env={**os.environ, **(env or {})},
        )
        self.pid = self.proc.pid

    def readline(self, timeout: float = 20.0) -> str:
        assert self.proc.stdout is not None
        result: list[str] = []
        t = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()))
        t.start()
        t.join(timeout)
        if not result:
            raise TimeoutError("test program said nothing")
        return result[0].strip()

    def expect(self, word: str, timeout: float = 30.0) -> str:
        line = self.readline(timeout)
        assert line.startswith(word), f"expected {word!r}, got {line!r}"
        return line

    def go(self, word: str = "go") -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


P = TypeVar("P", bound=Prog)


def tracking(cls: type[P]) -> Iterator[type[P]]:
    """For a fixture: ``cls``, subclassed so that every program a test starts is closed."""
    started: list[Prog] = []

    class _Tracked(cls):  # type: ignore[valid-type,misc]
        def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*a, **kw)
            started.append(self)

    yield _Tracked
    for p in started:
        p.close()


@pytest.fixture(scope="session")
def cert(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate and key for localhost (cert path, key path)."""
    d = tmp_path_factory.mktemp("cert")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(crt), "-days", "1", "-subj", "/CN=localhost"],
        check=True, capture_output=True,
    )
    return str(crt), str(key)


@pytest.fixture
def prog() -> Iterator[type[Prog]]:
    yield from tracking(Prog)


@pytest.fixture
def attach() -> Iterator:  # type: ignore[type-arg]
    """``attach(pid, ...)`` opens an in-process capture, stopped at teardown."""
    caps: list[Recorder] = []

    def _attach(*pids: int, **options: object) -> Recorder:
        rec = Recorder(open_capture(list(pids), CaptureOptions(use_helper=False, **options)))
        caps.append(rec)
        return rec

    yield _attach
    for rec in caps:
        rec.stop()


@pytest.fixture(scope="session")
def http_server() -> Iterator[int]:
    """A keep-alive HTTP/1.1 server (tests/live/progs/server.py) on a free port."""
    port = free_port()
    proc = subprocess.Popen([PY, str(PROGS / "server.py"), str(port)])
    wait_port(port)
    yield port
    proc.kill()
    proc.wait()


def bpftool() -> str:
    path = shutil.which("bpftool") or "/usr/sbin/bpftool"
    return path


def bpf_programs(pid: int) -> set[int]:
    """Ids of the BPF programs process ``pid`` holds open (from its fds' fdinfo)."""
    ids: set[int] = set()
    for fdinfo in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            text = fdinfo.read_text()
        except OSError:
            continue
        ids.update(int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("prog_id:"))
    return ids


def uprobe_definitions(pid: int) -> list[str]:
    """tracefs uprobe events defined by the httptap process ``pid`` (capture.uprobes)."""
    text = Path("/sys/kernel/tracing/uprobe_events").read_text()
    return [ln for ln in text.splitlines() if f":httptap/p{pid}_" in ln]


def all_bpf_programs() -> set[int]:
    """Ids of every BPF program loaded in the kernel (bpftool)."""
    import json

    out = subprocess.run([bpftool(), "prog", "show", "-j"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"] for p in json.loads(out)}


def programs_gone(ids: set[int], timeout: float = 5.0) -> bool:
    """Whether the BPF programs ``ids`` leave the kernel within ``timeout``: the kernel
    frees them asynchronously (programs in a tail-call array after a workqueue pass)."""
    deadline = time.monotonic() + timeout
    while ids & all_bpf_programs():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def nginx_config(tmp_path: Path, port: int, root: Path, *, cert: tuple[str, str] | None = None,
                 http2: bool = False, sendfile: bool = False) -> Path:
    """An nginx.conf for a foreground master + one worker serving ``root`` on ``port``."""
    listen = f"127.0.0.1:{port}" + (" ssl" if cert else "") + (" http2" if http2 else "")
    tls = (f"ssl_certificate {cert[0]};\n        ssl_certificate_key {cert[1]};"
           if cert else "")
    conf = tmp_path / "nginx.conf"
    (tmp_path / "logs").mkdir(exist_ok=True)
    conf.write_text(f"""
daemon off;
user root;
master_process on;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile {"on" if sendfile else "off"};
    keepalive_timeout 30;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen {listen};
        {tls}
        root {root};
    }}
}}
""")
    return conf


def nginx_binary() -> str:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is not installed (make install installs nginx-light)")
    return binary
