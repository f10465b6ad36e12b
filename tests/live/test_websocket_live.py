"""WebSocket and server-sent events end to end: real peers traced by ``httptap --jsonl``,
their messages printed as message lines while the connection is still open."""

from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.live.conftest import PROGS, Prog, free_port, tracking

HTTPTAP = [sys.executable, "-m", "httptap.cli"]
BIG = "".join(f"line {i:06d} of a big message\n" for i in range(5000))


class _Cli:
    """``httptap --jsonl`` on some PIDs, its stdout lines read as they come."""

    def __init__(self, *pids: int, extra: tuple[str, ...] = ()) -> None:
        args = [a for pid in pids for a in ("--pid", str(pid))]
        self.proc = subprocess.Popen([*HTTPTAP, *args, "--jsonl", *extra], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[dict] = queue.Queue()
        line = self.proc.stderr.readline()
        while line and "attached to PID" not in line:
            line = self.proc.stderr.readline()
        assert "attached to PID" in line, line
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def take(self, pred, timeout: float = 20.0) -> list[dict]:  # type: ignore[no-untyped-def]
        """Lines until one satisfies ``pred`` (that one included)."""
        out: list[dict] = []
        while True:
            d = self.lines.get(timeout=timeout)
            out.append(d)
            if pred(d):
                return out

    def stop(self) -> list[dict]:
        self.proc.send_signal(signal.SIGINT)
        _out, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, err
        rest: list[dict] = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return rest


def _seq(lines: list[dict], pid: int) -> list[tuple]:
    return [(d["direction"], d["opcode"], d["size"]) for d in lines
            if d["type"] == "message" and d["pid"] == pid]


@pytest.fixture(scope="session")
def node_ws(tmp_path_factory: pytest.TempPathFactory) -> str:
    """NODE_PATH of the `ws` package, installed from npm for this session."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):  # make test installs nodejs and npm: no skipping there
            pytest.fail("node and npm are missing: scripts/install-system.sh --test-peers")
        pytest.skip("node and npm are needed for the Node `ws` client")
    d = tmp_path_factory.mktemp("node-ws")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "ws@8"], cwd=d,
                   check=True, capture_output=True, timeout=300)
    return str(d / "node_modules")


class _Node(Prog):
    """A Node.js test program (same stdin/stdout protocol as the Python ones)."""

    def __init__(self, script: str, *args: str, node_path: str) -> None:
        self.proc = subprocess.Popen(
            ["node", str(PROGS / script), *args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env={**os.environ, "NODE_PATH": node_path},
        )
        self.pid = self.proc.pid


@pytest.fixture
def node() -> Iterator[type[_Node]]:
    yield from tracking(_Node)


@pytest.mark.parametrize(("mode", "tls"), [("deflate", False), ("none", False),
                                           ("deflate", True)])
def test_websockets_peers_both_sides_traced(mode: str, tls: bool, prog, request) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    keys = list(request.getfixturevalue("cert")) if tls else []
    server = prog("ws_server.py", str(port), mode, *keys)
    server.expect("ready")
    client = prog("ws_client.py", str(port), mode, *(["tls"] if tls else []))
    _chat(server, client, mode, tls)


@pytest.mark.parametrize("mode", ["deflate", "none"])
def test_node_ws_client_python_server(mode: str, prog, node, node_ws: str) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    server = prog("ws_server.py", str(port), mode)
    server.expect("ready")
    client = node("ws_client.js", str(port), mode, node_path=node_ws)
    _chat(server, client, mode, False)


def _chat(server: Prog, client: Prog, mode: str, tls: bool) -> None:
    """The client's chat with the echo server, both traced: every message, both views."""
    client.expect("ready")
    cli = _Cli(client.pid, server.pid)
    try:
        client.go()
        client.expect("echoed")
        # live: the big echo and the pong are printed while the connection is open
        lines = cli.take(lambda d: d.get("type") == "message" and d["opcode"] == "pong"
                         and d["pid"] == client.pid)
        client.go()
        client.expect("done")
        lines += cli.take(lambda d: d.get("type") == "message" and d["opcode"] == "close"
                          and d["pid"] == client.pid and d["direction"] == "received")
    finally:
        lines += cli.stop()
    exchanges = {d["id"]: d for d in lines if d["type"] == "exchange"}
    assert sorted(d["role"] for d in exchanges.values()) == ["client", "server"]
    assert all(d["tls"] is tls for d in exchanges.values())
    assert all(d["status"] == 101 for d in exchanges.values())
    big = len(BIG.encode())
    sent = [("sent", "text", 5), ("sent", "binary", 3), ("sent", "text", big)]
    echoed = [("received", "text", 5), ("received", "binary", 3), ("received", "text", big)]
    mine = _seq(lines, client.pid)
    assert [m for m in mine if m[0] == "sent"] == [*sent, ("sent", "ping", 13),
                                                   ("sent", "close", 3)]
    assert [m for m in mine if m[0] == "received"][:3] == echoed
    theirs = _seq(lines, server.pid)
    assert [m for m in theirs if m[0] == "received"][:3] == [("received", o, s)
                                                            for _, o, s in sent]
    messages = [d for d in lines if d["type"] == "message"]
    for d in messages:
        assert exchanges[d["exchange_id"]]["pid"] == d["pid"]
        assert d["proto"] == "websocket" and d["time"].endswith("Z")
    hello = next(d for d in messages if d["size"] == 5)
    assert hello["data"] == "hello" and hello["data_encoding"] == "utf-8"
    raw = next(d for d in messages if d["opcode"] == "binary")
    assert (raw["data"], raw["data_encoding"]) == ("//4A", "base64")
    long = [d for d in messages if d["size"] == big]
    assert len(long) == 4 and all(d["truncated"] for d in long)
    # a prefix up to the body limit; less where the capture copied less: one large iovec of
    # a writev (Node's) gets its first 16 KiB copied, the rest is a gap the reader counts
    assert all(BIG.startswith(d["data"]) and 16384 <= len(d["data"]) <= 65536 for d in long)
    assert sum(len(d["data"]) == 65536 for d in long) >= 3
    assert all(d["compressed"] is (mode == "deflate") for d in long)
    close = next(d for d in messages if d["opcode"] == "close" and d["pid"] == client.pid)
    assert (close["close_code"], close["close_reason"]) == (1000, "bye")


def test_sse_events_show_with_their_own_times(prog) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    server = prog("sse_server.py", str(port))
    server.expect("ready")
    client = prog("sse_client.py", str(port))
    client.expect("ready")
    cli = _Cli(client.pid)
    try:
        client.go()
        # the first event is printed before the response (and its exchange line) ends
        first = cli.take(lambda d: d.get("type") == "message")
        assert [d["type"] for d in first] == ["message"]
        client.expect("done")
        lines = first + cli.take(lambda d: d.get("type") == "exchange")
    finally:
        lines += cli.stop()
    events = [d for d in lines if d["type"] == "message"]
    assert [(d["proto"], d["opcode"], d["data"], d["sse"]["id"], d["sse"]["event"])
            for d in events] == [("sse", "event", f"tick {i}", str(i), "tick") for i in range(3)]
    assert all(d["direction"] == "received" for d in events)
    (ex,) = [d for d in lines if d["type"] == "exchange"]
    assert {d["exchange_id"] for d in events} == {ex["id"]}
    times = [datetime.fromisoformat(d["time"].replace("Z", "+00:00")) for d in events]
    # the server sleeps a second between events: each shows its own arrival time
    assert all((b - a).total_seconds() >= 0.9 for a, b in itertools.pairwise(times))


def test_saved_har_holds_the_messages_and_ws_filters_select_the_chat(prog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    server = prog("ws_server.py", str(port), "none")
    server.expect("ready")
    client = prog("ws_client.py", str(port), "none")
    client.expect("ready")
    har = tmp_path / "chat.har"
    cli = _Cli(client.pid, extra=("--save", str(har)))
    # a capture filter on messages: the chat shows from the message that makes it match
    filtered = _Cli(client.pid, extra=("--filter", 'ws.text~"^hello$"'))
    chat: list[dict] = []
    try:
        client.go()
        client.expect("echoed")
        client.go()
        client.expect("done")
        cli.take(lambda d: d.get("type") == "message" and d["opcode"] == "close"
                 and d["direction"] == "received")
        chat += filtered.take(lambda d: d.get("type") == "message" and d["opcode"] == "close"
                             and d["direction"] == "received")
    finally:
        cli.stop()
        chat += filtered.stop()
    assert chat[0]["type"] == "exchange" and chat[0]["status"] == 101
    assert (chat[1]["type"], chat[1]["data"]) == ("message", "hello")
    assert {d["exchange_id"] for d in chat[1:]} == {chat[0]["id"]}
    doc = json.loads(har.read_text())
    (entry,) = [e for e in doc["log"]["entries"] if e["response"]["status"] == 101]
    items = entry["_webSocketMessages"]
    assert {(m["type"], m["opcode"]) for m in items} >= {("send", 2), ("receive", 2),
                                                           ("send", 9), ("receive", 10)}
    hello = [m for m in items if m["opcode"] == 1 and m["data"] == "hello"]
    assert {m["type"] for m in hello} == {"send", "receive"}
    assert any(m["opcode"] == 8 for m in items) and all(m["time"] > 1e9 for m in items)
    # the saved file opens with the message fields of the filter language
    for flt, want in (('ws.text~"^hello$"', 1), ("ws.opcode=binary", 1),
                      ("ws.text~nothing-like-this", 0)):
        res = subprocess.run([*HTTPTAP, "--open", str(har), "--jsonl", "--filter", flt],
                             capture_output=True, text=True, timeout=60, check=True)
        got = [json.loads(line) for line in res.stdout.splitlines()]
        assert len([d for d in got if d["type"] == "exchange"]) == want, (flt, got)
        if want:
            assert any(d["type"] == "message" and d["data"] == "hello" for d in got)
