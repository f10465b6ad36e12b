"""The language server against a real traced process: a Flask-style service started from a
workspace file, real requests (inbound, and outbound to another server), the real
``httptap-lsp`` attaching through ``httptap/attach`` with the in-process engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from httptap.lsp.client import LspClient

from tests.live.conftest import free_port, wait_port

# A Flask-style service on http.server: the route finder reads its decorators like Flask's.
SHOP = textwrap.dedent(
    '''\
    import json, re, sys, urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    UPSTREAM = "http://127.0.0.1:{upstream}"


    class MiniApp:
        def __init__(self):
            self.routes = []

        def route(self, path, methods=("GET",)):
            pattern = re.sub("<int:([a-z]+)>", lambda m: "(?P<%s>[0-9]+)" % m.group(1), path)
            def deco(fn):
                self.routes.append((set(methods), re.compile(f"^{{pattern}}$"), fn))
                return fn
            return deco

        def get(self, path):
            return self.route(path, ["GET"])

        def post(self, path):
            return self.route(path, ["POST"])


    app = MiniApp()


    @app.get("/users/<int:uid>")
    def user(uid):
        return 200, {{"id": int(uid)}}


    @app.get("/boom")
    def boom():
        return 500, {{"error": "boom"}}


    @app.post("/orders")
    def order():
        with urllib.request.urlopen(f"{{UPSTREAM}}/size/10") as r:
            r.read()
        return 200, {{"ok": True}}


    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_one(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            for methods, rx, fn in app.routes:
                m = rx.match(self.path.split("?")[0])
                if m and self.command in methods:
                    status, body = fn(**m.groupdict())
                    break
            else:
                status, body = 404, {{}}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = handle_one


    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    '''
)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if needle in line)


#: sent by the real client with every call: neither may reach an LSP response
SECRET_TOKEN, SECRET_COOKIE = "lsp-s3cret-token", "lsp-s3cret-session"


def _call(port: int, method: str, path: str) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=b"{}" if method == "POST" else None,
                                 headers={"Authorization": f"Bearer {SECRET_TOKEN}",
                                          "Cookie": f"sid={SECRET_COOKIE}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def shop(
    tmp_path: Path, http_server: int
) -> Iterator[tuple[Path, int, subprocess.Popen[bytes], int]]:
    src = SHOP.format(upstream=http_server)
    (tmp_path / "shop.py").write_text(src)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "shop.py", str(port)], cwd=tmp_path)
    try:
        wait_port(port)
        yield tmp_path, port, proc, http_server
    finally:
        proc.kill()
        proc.wait()


def test_lenses_hover_diagnostics_from_real_traffic(shop) -> None:  # type: ignore[no-untyped-def]
    root, port, proc, upstream = shop
    src = (root / "shop.py").read_text()
    env = {k: v for k, v in os.environ.items() if k != "HTTPTAP_LSP_REPLAY"}
    client = LspClient([sys.executable, "-m", "httptap.lsp.server"], env=env, cwd=root,
                       stderr=None)
    try:
        client.initialize(root, {"notifyInterval": 0.1, "refreshInterval": 0.1})
        uri = client.open(root / "shop.py")

        procs = {p["pid"]: p for p in client.request("httptap/processes", {})["processes"]}
        assert procs[proc.pid]["reason"] == "cwd"
        assert f"127.0.0.1:{port}" in procs[proc.pid]["listening"]

        # attach (bcc compiles for seconds) while other requests keep being answered
        result: list[dict] = []
        t = time.monotonic()
        attaching = threading.Thread(
            target=lambda: result.append(
                client.request("httptap/attach", {"pid": proc.pid}, timeout=60)
            )
        )
        attaching.start()
        waits = []
        while attaching.is_alive():
            t1 = time.monotonic()
            client.request("httptap/stats")
            waits.append(time.monotonic() - t1)
            time.sleep(0.05)
        attaching.join()
        attach_s = time.monotonic() - t
        assert result, "attach failed"
        state = result[0]
        assert len(waits) > 3, waits  # answered again and again while attach went on
        assert state["attached"] and state["pid"] == proc.pid
        client.wait_for("httptap/didChangeState", lambda s: s["ready"], timeout=10)
        # the server answers while attached and capturing
        assert client.request("httptap/stats")["attached"]

        statuses = [_call(port, "GET", f"/users/{i}") for i in range(5)]
        statuses += [_call(port, "GET", "/boom")]
        statuses += [_call(port, "POST", "/orders") for _ in range(2)]
        assert statuses == [200] * 5 + [500] + [200, 200]

        deadline = time.monotonic() + 20
        lenses: dict[int, str] = {}
        want = {
            _line_of(src, '@app.get("/users/<int:uid>")'): "GET ×5 · 200 ×5 · p50 ",
            _line_of(src, '@app.get("/boom")'): "GET ×1 · 500 ×1 · p50 ",
            _line_of(src, '@app.post("/orders")'): "POST ×2 · 200 ×2 · p50 ",
            _line_of(src, 'f"{UPSTREAM}/size/10"'): "GET ×2 · 200 ×2 · p50 ",
            _line_of(src, 'UPSTREAM = "http'): "GET ×2 · 200 ×2 · p50 ",
        }
        while time.monotonic() < deadline:
            result = client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
            lenses = {lens["range"]["start"]["line"]: lens["command"]["title"] for lens in result}
            if all(lenses.get(line, "").startswith(text) for line, text in want.items()):
                break
            time.sleep(0.2)
        for line, text in want.items():
            assert lenses.get(line, "").startswith(text), (line, lenses)
        assert set(lenses) == set(want)

        page = client.request("httptap/exchanges", {"filter": "role=client"})
        assert [s["url"] for s in page["exchanges"]] == [f"http://127.0.0.1:{upstream}/size/10"] * 2

        boom = _line_of(src, '@app.get("/boom")')
        diag = client.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and any(d["code"] == "http-5xx" for d in p["diagnostics"]),
        )
        (d,) = [d for d in diag["diagnostics"] if d["code"] == "http-5xx"]
        assert d["range"]["start"]["line"] == boom

        users = _line_of(src, '@app.get("/users/<int:uid>")')
        hover = client.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": users, "character": 5}},
        )
        md = hover["contents"]["value"]
        assert "| GET | `/users/4` | 200 |" in md and "`/users/0`" in md

        one = client.request("httptap/exchanges", {"filter": "path=/boom"})["exchanges"][0]
        detail = client.request("httptap/exchange", {"id": one["id"]})
        assert detail["response"]["body"] == '{\n  "error": "boom"\n}'
        assert detail["pid"] == proc.pid and detail["role"] == "server"
        # secrets masked at the source: no response carries what the real client sent
        everything = client.request("httptap/exchanges", {})
        assert len(everything["exchanges"]) == 10
        details = [client.request("httptap/exchange", {"id": e["id"]})
                   for e in everything["exchanges"]]
        for answer in [everything, detail, hover, *details]:
            text = json.dumps(answer)
            assert SECRET_TOKEN not in text and SECRET_COOKIE not in text, text[:400]
        assert "Bearer ****" in json.dumps(detail) and "sid=****" in json.dumps(detail)

        done = client.request("httptap/detach", timeout=20)
        assert done["detached"] and not done["attached"]
        print(f"\nattach took {attach_s:.2f} s; {len(waits)} requests meanwhile, "
              f"slowest answer {max(waits) * 1000:.0f} ms")
    finally:
        client.close()
