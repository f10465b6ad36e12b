"""Faults, as root with real processes: httptap SIGKILLed then re-attached, two captures on one
PID, a forced ring-buffer overrun, and the helper leaving when its stdin closes.

(Already covered elsewhere: SIGKILL leaves no programs — test_cli_live; the target exiting
with a request unanswered and exec being followed — test_processes_live.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from httptap.records import Error, Ready
from tests.live.conftest import bpf_programs, programs_gone, uprobe_definitions
from tests.live.test_cli_live import _start, _wait_attached


def test_sigkill_mid_capture_then_a_new_httptap_attaches_at_once(http_server, prog):
    client = prog("client.py", str(http_server), "3", "/size/5", "--early", "2")
    client.expect("ready")
    first = _start(["--pid", str(client.pid), "--jsonl"])
    _wait_attached(first)
    ours = bpf_programs(first.pid)
    assert ours
    first.kill()
    first.wait()
    assert programs_gone(ours), "BPF programs left behind by a SIGKILLed httptap"
    assert uprobe_definitions(first.pid), "definitions outlive a SIGKILL (no probe in them)"
    started = time.monotonic()
    second = _start(["--pid", str(client.pid), "--jsonl", "--count", "3", "--duration", "30"])
    _wait_attached(second)
    assert time.monotonic() - started < 20
    assert uprobe_definitions(first.pid) == [], "the next httptap removes stale definitions"
    client.go()
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["status"] for d in lines] == [200, 200, 200], out


def test_two_captures_on_one_pid_work_independently(http_server, prog, attach):
    client = prog("client.py", str(http_server), "4", "/size/7")
    client.expect("ready")
    a = attach(client.pid)
    b = attach(client.pid)
    client.go()
    client.expect("done")
    paths = [f"/size/7?i={i}" for i in range(4)]
    assert [e.request.path for e in a.wait_for(4)] == paths
    assert [e.request.path for e in b.wait_for(4)] == paths
    a.stop()  # one ending must not disturb the other
    assert all(e.response.body.data == b"x" * 7 for e in b.exchanges)


# One keep-alive connection: a burst of 256 KiB responses (the ring overflows), 'burst', then
# after the test's pause small requests on the same connection, 'done'.
_BURST_THEN_SMALL = """
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
def get(path):
    conn.request("GET", path)
    conn.getresponse().read()
print("ready", flush=True)
sys.stdin.readline()
for i in range(30):
    get(f"/size/262144?i={i}")
print("burst", flush=True)
sys.stdin.readline()
for j in range(10):
    get(f"/size/{100 + j}?j={j}")
print("done", flush=True)
sys.stdin.readline()
"""


def test_ring_overrun_is_counted_and_noted(http_server, prog, attach, tmp_path):
    """A tiny ring and a burst of 256 KiB responses: losses are counted; no exchange is
    silently wrong (a lost body carries a note); after a pause, the small requests made on
    the same keep-alive connection parse exactly (parsing resynchronised after the gap)."""
    script = tmp_path / "burst_then_small.py"
    script.write_text(_BURST_THEN_SMALL)
    client = prog(str(script), str(http_server))  # an absolute path: PROGS / it is itself
    client.expect("ready")
    cap = attach(client.pid, ring_kib=16, body_limit=1 << 20)
    client.go()
    client.expect("burst", timeout=60)
    time.sleep(1.0)  # the ring drains
    client.go()
    client.expect("done", timeout=30)
    small = [f"/size/{100 + j}?j={j}" for j in range(10)]
    cap.wait_for(10, timeout=20, pred=lambda e: e.request.path in small)
    time.sleep(0.5)
    cap.stop()
    stats = cap.capture.stats()
    assert stats.lost > 0, "a 16 KiB ring should overflow with 30 × 256 KiB"
    burst = [e for e in cap.exchanges if e.request.path not in small]
    after = [e for e in cap.exchanges if e.request.path in small]
    assert any(ex.notes for ex in burst), "losses were counted but no exchange says so"
    assert [e.request.path for e in after] == small  # every request after the gap is seen
    assert len({e.connection.fd for e in cap.exchanges}) == 1  # all on one connection
    print(f"\nlost {stats.lost} events; {len(burst)} of 30 burst exchanges seen, "
          f"{sum(1 for e in burst if e.notes)} with a note", file=sys.stderr)
    # KNOWN BUG (see RELIABILITY.md): a response-side gap that arrives while the HTTP/1 parser
    # hunts for the next response (state _DESYNC/_IGNORE) is dropped without settling the
    # requests waiting for an answer (Http1Parser._gap), so the responses after the pause
    # pair with burst requests whose answers were lost: silently wrong, no note.
    wrong = []
    for ex in burst:
        body = ex.response.body if ex.response is not None else None
        intact = (ex.status == 200 and body is not None and body.size == 262144
                  and body.data == b"x" * len(body.data) and not body.truncated)
        if not (intact or ex.notes):
            wrong.append((ex.request.path, ex.status, body and body.size))
    for j, ex in enumerate(after):
        right = (ex.request.method == "GET" and ex.status == 200
                 and ex.response.body.size == 100 + j
                 and ex.response.body.data == b"x" * (100 + j))
        if not (right or (j == 0 and ex.notes)):  # the first after the gap may carry a note
            wrong.append((ex.request.path, ex.status, ex.response and ex.response.body.size))
    assert not wrong, f"responses paired with the wrong requests after a gap: {wrong[:4]}"


def test_helper_exits_soon_after_stdin_closes(http_server, prog):
    client = prog("client.py", str(http_server), "1", "/size/1")
    client.expect("ready")
    helper = subprocess.Popen(
        [sys.executable, "-m", "httptap.engine.helper_main", "--pid", str(client.pid)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        from httptap.engine.protocol import from_json

        assert helper.stdout is not None and helper.stdin is not None
        for line in helper.stdout:
            if isinstance(from_json(line), Ready):
                break
        ours = bpf_programs(helper.pid)
        assert ours
        started = time.monotonic()
        helper.stdin.close()
        helper.wait(10)
        took = time.monotonic() - started
        # The helper decides to leave 0.5 s after EOF; the kernel then releases the probes
        # as its fds close (measured 1.0-1.2 s: two raw tracepoints, one sched tracepoint
        # and the TLS uprobes; it was 4 s with a tracepoint per syscall).
        assert took < 5.0, f"the helper took {took:.2f} s to leave"
        assert programs_gone(ours, 2.0)
    finally:
        if helper.poll() is None:
            helper.kill()


def test_random_bytes_next_to_http_make_no_bogus_exchanges(http_server, prog, attach):
    """Three sockets of the traced process spray os.urandom both ways (one starting "GET ",
    one answered "HTTP/1.1 200 " + garbage) between 12 real requests on another connection:
    exactly those 12 exchanges come out, right, and nothing else (no error either)."""
    n = 12
    client = prog("random_bytes.py", str(http_server), str(n))
    client.expect("ready")
    cap = attach(client.pid)
    client.go()
    bodies = [bytes.fromhex(h) for h in client.expect("done", timeout=60)[5:].split(",") if h]
    got = cap.wait_for(n, timeout=20)
    time.sleep(1.0)  # the random sockets closed before 'done': their flush would be in by now
    records = list(cap.records)
    assert not [r for r in records if isinstance(r, Error)], records
    exchanges = cap.exchanges
    paths = [e.request.path for e in exchanges]
    want = [f"/size/{i + 1}?i={i}" if i % 2 == 0 else f"/echo?i={i}" for i in range(n)]
    assert paths == want, paths
    assert got == exchanges[:n]
    assert {e.request.path for e in cap.pending} <= set(want)
    posted = iter(bodies)
    for i, ex in enumerate(exchanges):
        assert ex.status == 200 and not ex.notes, (ex.request.path, ex.notes)
        assert ex.connection.pid == client.pid
        if i % 2 == 0:
            assert ex.request.method == "GET" and ex.response.body.data == b"x" * (i + 1)
        else:
            body = next(posted)
            assert ex.request.method == "POST"
            assert ex.request.body.data == body and ex.response.body.data == body
    stats = cap.capture.stats()
    assert stats.lost == 0 and stats.not_http >= 3, stats
