"""The language server end to end: the real ``httptap-lsp`` over stdio, attached to replayed
traffic (``HTTPTAP_LSP_REPLAY``), driven by a small JSON-RPC client."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httptap.lsp.client import LspClient, LspError

from httptap.contract import to_dict
from httptap.model import Body, Connection, Exchange, Request, Response, Role, Timings

APP = textwrap.dedent(
    """\
    from fastapi import FastAPI
    from flask import Flask
    import httpx

    app = Flask(__name__)
    api = FastAPI()
    UPSTREAM = "http://localhost:9000/v1"


    @app.route("/users/<int:uid>")
    def user(uid):
        return {"id": uid}


    @api.post("/orders")
    async def create_order():
        return fetch(1)


    def fetch(n):
        return httpx.get(f"{UPSTREAM}/things/{n}")
    """
)
USER_LINE = 9  # 0-based line of @app.route("/users/<int:uid>")
ORDERS_LINE = 14
UPSTREAM_LINE = 6
FETCH_LINE = 20

_T0 = 1_800_000_000.0


def make_exchange(
    n: int,
    method: str,
    path: str,
    status: int | None,
    ms: float,
    *,
    role: Role = Role.SERVER,
    host: str = "127.0.0.1:8000",
    complete: bool = True,
    body: bytes = b'{"ok":true}',
) -> Exchange:
    """An exchange as the engine would report it, ``n`` fixing its id and start time."""
    start = int(1e12) + n * 1_000_000_000
    answered = complete and status is not None
    return Exchange(
        id=f"ex{n}",
        connection=Connection(
            pid=4242, tid=4242, fd=7, role=role, local="127.0.0.1:8000", remote="127.0.0.1:50000"
        ),
        request=Request(method=method, authority=host, path=path, headers=[("Host", host)]),
        response=Response(
            status=status,
            reason="Internal Server Error" if status and status >= 500 else "OK",
            headers=[("Content-Type", "application/json")],
            body=Body(body, len(body)),
        )
        if answered
        else None,
        timings=Timings(
            request_start=start,
            request_end=start + 1000,
            response_start=start + int(ms * 1e6) - 500 if complete else None,
            response_end=start + int(ms * 1e6) if complete else None,
        ),
        complete=complete,
        wall_start=_T0 + n,
    )


def write_session(path: Path, exchanges: list[Exchange], mode: str = "w") -> None:
    """Contract lines, as ``httptap --jsonl`` writes them."""
    with path.open(mode) as fh:
        for ex in exchanges:
            fh.write(json.dumps(to_dict(ex)) + "\n")


def start_server(
    root: Path, session: Path, options: dict[str, Any] | None = None, **caps: Any
) -> LspClient:
    env = {**os.environ, "HTTPTAP_LSP_REPLAY": str(session)}
    client = LspClient([sys.executable, "-m", "httptap.lsp.server"], env=env, cwd=root)
    opts = {"notifyInterval": 0.1, "refreshInterval": 0.1, **(options or {})}
    client.initialize(root, opts, caps.get("capabilities"))
    return client


def percentile(values: list[float], p: float) -> float:
    """Nearest rank, written out independently of the server's."""
    ordered = sorted(values)
    return ordered[math.ceil(p / 100 * len(ordered)) - 1]


def fmt(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


@pytest.fixture
def lsp(workspace: Path) -> Iterator[LspClient]:
    session = workspace / "session.jsonl"
    session.touch()
    client = start_server(workspace, session, {"diagnosticWindow": 2, "slowMs": 100})
    yield client
    client.close()


def _lenses(client: LspClient, uri: str) -> dict[int, str]:
    result = client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
    return {lens["range"]["start"]["line"]: lens["command"]["title"] for lens in result}


def _diagnostics(client: LspClient, uri: str, after: float, pred) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    params = client.wait_for(
        "textDocument/publishDiagnostics",
        lambda p: p["uri"] == uri and pred(p["diagnostics"]),
        after=after,
    )
    return params["diagnostics"]


# -- tests ---------------------------------------------------------------------------------


def test_initialize_advertises_features_and_protocol(lsp: LspClient, workspace: Path) -> None:
    result = lsp.request("httptap/stats")
    assert result["protocol"] == 1 and result["attached"] is False
    assert result["settings"]["slowMs"] == 100 and result["settings"]["diagnosticWindow"] == 2
    with pytest.raises(LspError) as err:
        lsp.request("httptap/exchange", {"id": "nope"})
    assert err.value.code == -32002


def test_processes_finds_workspace_processes(lsp: LspClient, workspace: Path) -> None:
    script = workspace / "serve.py"
    script.write_text(
        "import socket, sys, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "print(s.getsockname()[1], flush=True); time.sleep(60)\n"
    )
    by_cwd = subprocess.Popen([sys.executable, "serve.py"], cwd=workspace, stdout=subprocess.PIPE)
    idle = "import time; time.sleep(60)"
    by_cmdline = subprocess.Popen([sys.executable, "-c", idle, str(workspace / "x")], cwd="/")
    outside = subprocess.Popen(["sleep", "61"], cwd="/")
    try:
        assert by_cwd.stdout is not None
        port = int(by_cwd.stdout.readline())
        procs = {p["pid"]: p for p in lsp.request("httptap/processes", {})["processes"]}
        assert procs[by_cwd.pid]["reason"] == "cwd"
        assert procs[by_cwd.pid]["listening"] == [f"127.0.0.1:{port}"]
        assert "serve.py" in procs[by_cwd.pid]["cmdline"]
        assert procs[by_cmdline.pid]["reason"] == "cmdline"
        assert outside.pid not in procs
        everything = lsp.request("workspace/executeCommand",
                                 {"command": "httptap.processes", "arguments": [{"all": True}]})
        assert outside.pid in {p["pid"] for p in everything["processes"]}
    finally:
        for p in (by_cwd, by_cmdline, outside):
            p.kill()
            p.wait()


def test_attach_list_detail_lenses_hover(lsp: LspClient, workspace: Path) -> None:
    session = workspace / "session.jsonl"
    user_ms = [3.0, 5.0, 4.0, 8.0, 2.5, 40.0, 6.0, 7.0, 9.0, 5.5, 4.5, 12.0]
    traffic = [
        make_exchange(i, "GET", f"/users/{i}", 500 if i == 9 else 200, ms)
        for i, ms in enumerate(user_ms)
    ]
    traffic += [make_exchange(20, "POST", "/orders", 201, 30.0)]
    traffic += [make_exchange(21, "POST", "/orders", None, 0, complete=False)]  # pending
    traffic += [
        make_exchange(30 + i, "GET", f"/v1/things/{i}", 200, 15.0 + i,
                      role=Role.CLIENT, host="127.0.0.1:9000")
        for i in range(3)
    ]
    traffic += [make_exchange(40, "GET", "/elsewhere", 404, 1.0)]  # matches no line
    write_session(session, traffic)
    uri = lsp.open(workspace / "app.py")

    state = lsp.request("httptap/attach", {"pid": 4242})
    assert state["attached"] is True and state["pid"] == 4242
    assert state["replay"] == str(session)
    # the panel learns about all of it from the notification, pending request included
    seen: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    while len(seen) < len(traffic) and time.monotonic() < deadline:
        for params in lsp.received("httptap/didCapture"):
            seen.update({s["id"]: s for s in params["exchanges"]})
        time.sleep(0.05)
    assert len(seen) == len(traffic)
    assert seen["ex21"]["pending"] is True and seen["ex21"]["status"] is None
    assert seen["ex9"]["status"] == 500 and seen["ex9"]["latency_ms"] == 5.5

    page = lsp.request("httptap/exchanges", {"offset": 0, "limit": 5})
    assert page["total"] == len(traffic) and page["stored"] == len(traffic)
    assert [s["id"] for s in page["exchanges"]] == ["ex40", "ex32", "ex31", "ex30", "ex21"]
    first = page["exchanges"][1]
    assert first["url"] == "http://127.0.0.1:9000/v1/things/2" and first["role"] == "client"
    assert first["time"] == "2027-01-15T08:00:32.000Z"
    failed = lsp.request("httptap/exchanges", {"filter": "status>=500"})
    assert [s["id"] for s in failed["exchanges"]] == ["ex9"]
    with pytest.raises(LspError) as err:
        lsp.request("httptap/exchanges", {"filter": "status>="})
    assert err.value.code == -32602 and "^ expected" in err.value.message

    d = lsp.request("httptap/exchange", {"id": "ex9"})
    assert d["status"] == 500 and d["response"]["body_kind"] == "json"
    assert d["response"]["body"] == '{\n  "ok": true\n}'
    assert d["response"]["body_encoding"] == "display"
    assert "HTTP/1.1 500 Internal Server Error" in d["text"]
    assert d["summary"]["id"] == "ex9"

    lenses = _lenses(lsp, uri)
    p50, p95 = percentile(user_ms, 50), percentile(user_ms, 95)
    assert lenses[USER_LINE] == f"GET ×12 · 200 ×11 500 ×1 · p50 {fmt(p50)} p95 {fmt(p95)}"
    assert lenses[USER_LINE] == "GET ×12 · 200 ×11 500 ×1 · p50 5.5 ms p95 40 ms"
    assert lenses[ORDERS_LINE] == "POST ×2 · 201 ×1 pending ×1 · p50 30 ms p95 30 ms"
    assert lenses[FETCH_LINE] == "GET ×3 · 200 ×3 · p50 16 ms p95 17 ms"
    assert lenses[UPSTREAM_LINE] == lenses[FETCH_LINE]  # the constant is a prefix of both
    assert len(lenses) == 4

    hover = lsp.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": USER_LINE, "character": 3}},
    )
    md = hover["contents"]["value"]
    assert hover["contents"]["kind"] == "markdown"
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| time | method | path")
    assert [r.split("|")[3].strip() for r in rows[1:]] == [
        f"`/users/{i}`" for i in (11, 10, 9, 8, 7)
    ]
    assert "| 500 |" in rows[3] and "5.5 ms" in rows[3]
    assert "… and 7 earlier" in md
    nothing = lsp.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
    )
    assert nothing is None

    # what running the lens does, for clients without a panel of their own
    shown = lsp.request(
        "workspace/executeCommand",
        {"command": "httptap.showExchanges", "arguments": [{"uri": uri, "line": ORDERS_LINE}]},
    )
    assert [s["id"] for s in shown["exchanges"]] == ["ex21", "ex20"]
    assert ("workspace/codeLens/refresh", None) in lsp.server_requests

    stats = lsp.request("httptap/stats")
    assert stats["exchanges"] == len(traffic) and stats["pending"] == 1 and stats["ready"]
    done = lsp.request("httptap/detach")
    assert done["detached"] is True and done["attached"] is False
    assert lsp.wait_for("httptap/didChangeState", lambda s: s["attached"] is False)
    assert lsp.request("httptap/exchanges", {})["total"] == len(traffic)  # kept for browsing


def test_live_updates_diagnostics_appear_and_clear(lsp: LspClient, workspace: Path) -> None:
    session = workspace / "session.jsonl"
    write_session(session, [make_exchange(1, "GET", "/users/1", 200, 3.0)])
    uri = lsp.open(workspace / "app.py")
    lsp.request("workspace/executeCommand", {"command": "httptap.attach", "arguments": [4242]})
    lsp.wait_for("httptap/didCapture", lambda p: any(s["id"] == "ex1" for s in p["exchanges"]))
    assert _lenses(lsp, uri) == {USER_LINE: "GET ×1 · 200 ×1 · p50 3.0 ms p95 3.0 ms"}

    # a pending request shows at once and is replaced by its answer, a 500
    t = time.monotonic()
    write_session(session, [make_exchange(2, "GET", "/users/2", None, 0, complete=False)], "a")
    lsp.wait_for("httptap/didCapture",
                 lambda p: any(s["id"] == "ex2" and s["pending"] for s in p["exchanges"]), after=t)
    write_session(session, [make_exchange(2, "GET", "/users/2", 500, 9.0)], "a")
    lsp.wait_for("httptap/didCapture",
                 lambda p: any(s["id"] == "ex2" and s["status"] == 500 for s in p["exchanges"]),
                 after=t)
    diags = _diagnostics(lsp, uri, t, lambda ds: len(ds) == 1)
    (d,) = diags
    assert d["severity"] == 2 and d["code"] == "http-5xx" and d["source"] == "httptap"
    assert d["range"]["start"] == {"line": USER_LINE, "character": 1}
    assert "1 of the last 2 requests to /users/<int:uid> returned 5xx" in d["message"]
    assert "GET /users/2 → 500 Internal Server Error" in d["message"]

    # one good answer is not enough with diagnosticWindow=2; two are: the warning clears
    t = time.monotonic()
    write_session(session, [make_exchange(3, "GET", "/users/3", 200, 2.0)], "a")
    lsp.wait_for("httptap/didCapture", lambda p: any(s["id"] == "ex3" for s in p["exchanges"]),
                 after=t)
    time.sleep(0.3)
    assert lsp.received("textDocument/publishDiagnostics")[-1]["diagnostics"][0]["code"] == (
        "http-5xx"
    )
    write_session(session, [make_exchange(4, "GET", "/users/4", 200, 2.0)], "a")
    _diagnostics(lsp, uri, t, lambda ds: ds == [])

    # slow outbound calls (slowMs=100) get an information diagnostic on the URL line
    t = time.monotonic()
    write_session(
        session,
        [make_exchange(5, "GET", "/v1/things/1", 200, 250.0, role=Role.CLIENT,
                       host="localhost:9000")],
        "a",
    )
    diags = _diagnostics(lsp, uri, t, lambda ds: len(ds) == 2)
    slow = {d["range"]["start"]["line"]: d for d in diags}
    assert set(slow) == {UPSTREAM_LINE, FETCH_LINE}
    assert slow[FETCH_LINE]["severity"] == 3 and slow[FETCH_LINE]["code"] == "slow"
    assert "took longer than 100 ms (slowest 250 ms" in slow[FETCH_LINE]["message"]

    # editing moves the diagnostics with the code
    lsp.change(uri, "\n\n" + APP, 2)
    diags = _diagnostics(lsp, uri, t, lambda ds: len(ds) == 2 and ds[0]["range"]["start"]["line"]
                         in (UPSTREAM_LINE + 2, FETCH_LINE + 2))
    assert {d["range"]["start"]["line"] for d in diags} == {UPSTREAM_LINE + 2, FETCH_LINE + 2}


def test_filter_at_attach_and_errors(workspace: Path) -> None:
    session = workspace / "session.jsonl"
    write_session(session, [make_exchange(i, "GET", f"/users/{i}", 200 + 300 * (i % 2), 1.0)
                            for i in range(10)])
    client = start_server(workspace, session)
    try:
        with pytest.raises(LspError) as err:
            client.request("httptap/attach", {"pid": "abc"})
        assert err.value.code == -32602
        with pytest.raises(LspError) as err:
            client.request("httptap/attach", {"pid": 1, "filter": "status>>1"})
        assert err.value.code == -32602 and err.value.data == {"column": 7}
        client.request("httptap/attach", {"pid": 4242, "filter": "status>=500"})
        client.wait_for("httptap/didCapture")
        stats = client.wait_for("httptap/didChangeState", lambda s: s["ready"])
        assert stats["filter"] == "status>=500"
        deadline = time.monotonic() + 5
        while client.request("httptap/stats")["filtered_out"] < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = client.request("httptap/stats")
        assert (stats["stored"], stats["filtered_out"]) == (5, 5)
    finally:
        client.close()
    missing = start_server(workspace, workspace / "missing.jsonl")
    try:
        with pytest.raises(LspError) as err:
            missing.request("httptap/attach", {"pid": 4242})
        assert err.value.code == -32001
        assert "no such file" in err.value.message
        assert "HTTPTAP_LSP_REPLAY" in err.value.data["remedy"]
    finally:
        missing.close()


def test_flood_is_batched_bounded_and_server_stays_responsive(workspace: Path) -> None:
    session = workspace / "session.jsonl"
    n = 6000
    write_session(session, [make_exchange(i, "GET", f"/users/{i}", 200, 1.0) for i in range(n)])
    client = start_server(workspace, session, {"historySize": 1000, "notifyInterval": 0.25})
    try:
        uri = client.open(workspace / "app.py")
        client.request("httptap/attach", {"pid": 4242})
        t0 = time.monotonic()
        answered = 0
        while True:
            t = time.monotonic()
            stats = client.request("httptap/stats")  # answered while the flood goes on
            answered += 1
            if stats["exchanges"] == n or t - t0 > 60:
                break
        assert stats["exchanges"] == n and answered >= 1
        assert stats["stored"] == 1000 and stats["evicted"] == n - 1000
        time.sleep(0.6)  # let the last notification out
        elapsed = time.monotonic() - t0
        notes = [(t, p) for m, p, t in client.notifications if m == "httptap/didCapture"]
        assert sum(len(p["exchanges"]) + p["skipped"] for _t, p in notes) == n
        assert all(len(p["exchanges"]) <= 500 for _t, p in notes)
        # batched: one notification per 0.25 s interval at most, whatever the machine's speed
        # (how long requests wait during a flood is measured in bench/, not asserted here)
        assert len(notes) <= elapsed / 0.25 + 2, (len(notes), elapsed)
        assert _lenses(client, uri)[USER_LINE].startswith("GET ×1000 · 200 ×1000")
    finally:
        client.close()


def test_har_of_stored_exchanges(lsp: LspClient, workspace: Path) -> None:
    from httptap.export.har import load_har
    from tests.unit.test_har import VALIDATOR

    session = workspace / "session.jsonl"
    traffic = [
        make_exchange(i, "GET", f"/users/{i}", 500 if i == 2 else 200, 3.0 + i) for i in range(4)
    ]
    traffic += [make_exchange(5, "POST", "/orders", None, 0, complete=False)]  # pending
    traffic += [make_exchange(6, "GET", "/bin", 200, 1.0, body=b"\x00\xff\x10")]
    write_session(session, traffic)
    uri = lsp.open(workspace / "app.py")
    lsp.request("httptap/attach", {"pid": 4242})
    deadline = time.monotonic() + 10
    while lsp.request("httptap/stats")["stored"] < len(traffic) and time.monotonic() < deadline:
        time.sleep(0.05)

    har = lsp.request("httptap/har")
    VALIDATOR.validate(har)
    log = har["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "httptap"
    entries = log["entries"]
    assert [e["_httptap"]["id"] for e in entries] == [ex.id for ex in traffic]  # oldest first
    assert [e["response"]["status"] for e in entries] == [200, 200, 500, 200, 0, 200]
    assert entries[0]["request"]["url"] == "http://127.0.0.1:8000/users/0"
    # bodies as captured, not the display text of httptap/exchange
    binary = entries[5]["response"]["content"]
    assert binary["encoding"] == "base64" and binary["text"] == "AP8Q"
    # it is a file httptap itself opens again
    path = workspace / "panel.har"
    path.write_text(json.dumps(har))
    assert [ex.id for ex in load_har(path)] == [ex.id for ex in traffic]

    failed = lsp.request("httptap/har", {"filter": "status>=500"})["log"]["entries"]
    assert [e["_httptap"]["id"] for e in failed] == ["ex2"]
    picked = lsp.request("httptap/har", {"ids": ["ex6", "ex1", "gone"]})["log"]["entries"]
    assert [e["_httptap"]["id"] for e in picked] == ["ex1", "ex6"]
    lens = lsp.request("httptap/har", {"uri": uri, "line": ORDERS_LINE})["log"]["entries"]
    assert [e["_httptap"]["id"] for e in lens] == ["ex5"]
    by_command = lsp.request(
        "workspace/executeCommand", {"command": "httptap.har", "arguments": [{"ids": ["ex0"]}]}
    )
    assert [e["_httptap"]["id"] for e in by_command["log"]["entries"]] == ["ex0"]
    with pytest.raises(LspError) as err:
        lsp.request("httptap/har", {"filter": "status>>1"})
    assert err.value.code == -32602 and err.value.data == {"column": 7}
    with pytest.raises(LspError) as err:
        lsp.request("httptap/har", {"ids": "ex1"})
    assert err.value.code == -32602
