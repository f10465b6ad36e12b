"""Phases against curl's own clock: a slow resolver, a slow TLS handshake, a slow first byte,
a trickled body; a new connection and a reused one (``curl URL1 URL2``)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from tests.live.conftest import PY, Prog, free_port

# curl -w: the instants of each transfer, seconds from its start
_W = "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_pretransfer} " \
     "%{time_starttransfer} %{time_total}\\n"
#: agreement with curl's clock, ms (curl's instants come from its own poll loop)
_TOLERANCE_MS = 3.0
_DNS, _HANDSHAKE, _FIRST_BYTE, _TRICKLE = 0.15, 0.1, 0.12, 0.05


@pytest.fixture
def slow_peers(cert, tmp_path: Path):
    """(port, resolv.conf naming the slow resolver)."""
    dns = f"127.{random.randint(1, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"
    port = free_port()
    peers = Prog("slow_peers.py", dns, str(port), *cert,
                 *map(str, (_DNS, _HANDSHAKE, _FIRST_BYTE, _TRICKLE)))
    peers.expect("ready")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {dns}\noptions timeout:5 attempts:1\n")
    yield port, resolv
    peers.close()


def _near(ours: float | None, theirs: float) -> bool:
    return ours is not None and abs(ours - theirs) <= _TOLERANCE_MS


def test_phases_agree_with_curl_new_and_reused_connection(slow_peers, attach):
    port, resolv = slow_peers
    url = f"https://slow-{port}.phases.test:{port}"
    # curl in a mount namespace of its own, where /etc/resolv.conf names the slow resolver
    script = f'mount --bind {resolv} /etc/resolv.conf && read x && exec "$@"'
    sh = subprocess.Popen(
        ["unshare", "-m", "sh", "-c", script, "sh", "curl", "-sk", "--http1.1",
         "-o", "/dev/null", "-o", "/dev/null", "-w", _W, f"{url}/first", f"{url}/second"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        cap = attach(sh.pid)
        out, _ = sh.communicate("go\n", timeout=30)
        got = cap.wait_for(2)
    finally:
        sh.kill()
    assert sh.returncode == 0
    clocks = [[float(x) * 1000 for x in line.split()] for line in out.splitlines()]
    assert [e.request.path for e in got] == ["/first", "/second"]
    first, second = (e.phases for e in got)
    lookup, connect, appconnect, pretransfer, starttransfer, total = clocks[0]
    print("new", first, clocks[0])
    # curl's namelookup counts from the transfer's start, ours is getaddrinfo's own time:
    # the same on a quiet machine (within 1 ms), curl's longer when its resolver thread
    # waits for a CPU
    assert first.dns is not None and _DNS * 1000 <= first.dns <= lookup + _TOLERANCE_MS
    assert _near(first.connect, connect - lookup)
    assert _near(first.tls, appconnect - connect)
    assert _near(first.send + first.wait, starttransfer - pretransfer)  # type: ignore[operator]
    assert _near(first.receive, total - starttransfer)
    assert first.dns >= _DNS * 1000 and first.tls >= _HANDSHAKE * 1000  # type: ignore[operator]
    assert got[0].connection.hostname == f"slow-{port}.phases.test"
    # the reused connection: no set-up, the same server delays
    lookup, connect, appconnect, pretransfer, starttransfer, total = clocks[1]
    print("reused", second, clocks[1])
    assert (second.dns, second.connect, second.tls) == (None, None, None)
    assert _near(second.send + second.wait, starttransfer - pretransfer)  # type: ignore[operator]
    assert _near(second.receive, total - starttransfer)
    assert second.wait >= _FIRST_BYTE * 1000  # type: ignore[operator]


def test_python_client_blocking_connect_and_lookup_in_the_main_thread(http_server, attach):
    """urllib: getaddrinfo in the calling thread, a blocking connect, plain HTTP."""
    code = ("import sys, urllib.request; sys.stdin.readline(); "
            f"urllib.request.urlopen('http://localhost:{http_server}/size/10').read()")
    proc = subprocess.Popen([PY, "-c", code], stdin=subprocess.PIPE, text=True)
    try:
        cap = attach(proc.pid)
        proc.communicate("go\n", timeout=30)
        (ex,) = cap.wait_for(1)
    finally:
        proc.kill()
    p = ex.phases
    assert ex.connection.hostname == "localhost" and ex.host == f"localhost:{http_server}"
    assert p.dns is not None and p.connect is not None and p.tls is None
    assert p.send is not None and p.wait is not None and p.receive is not None


def test_lookup_probes_hit_only_traced_processes(attach):
    """The dns uprobes sit in the libc every process maps: untraced ones never trap."""
    from tests.live.test_tls_live import _own_probe_hits

    lookups = "import socket\nfor _ in range(200): socket.getaddrinfo('localhost', 80)"
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        attach(sleeper.pid)
        subprocess.run([PY, "-c", lookups], check=True, timeout=60)
        assert _own_probe_hits() == 0
    finally:
        sleeper.kill()
        sleeper.wait()
    proc = subprocess.Popen([PY, "-c", f"import sys; sys.stdin.readline()\n{lookups}"],
                            stdin=subprocess.PIPE, text=True)
    try:
        attach(proc.pid)
        proc.communicate("go\n", timeout=60)
    finally:
        proc.kill()
    assert _own_probe_hits() >= 200
