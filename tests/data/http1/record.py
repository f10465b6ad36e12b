"""Record real HTTP/1.x byte streams for the parser tests (run by hand, not by pytest).

A relay sits between a real client (curl, httpx) and a local http.server and writes what
it sees, chunk by chunk and in order, to ``<name>.jsonl``: a first line ``{"meta": ...}``,
then ``{"dir": "request"|"response", "data": base64}`` per recv(). Usage:

    .venv/bin/python tests/data/http1/record.py
"""

from __future__ import annotations

import base64
import contextlib
import json
import select
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).parent


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _small(self, head_only: bool = False) -> None:
        body = b'{"ok": true, "items": [1, 2, 3]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._small(head_only=True)

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x;part=1\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Checksum: 42\r\n\r\n")
        elif self.path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
            else:
                self._small()
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the connection closes\n" * 3)
            self.close_connection = True
        elif self.path == "/empty":
            self.send_response(204)
            self.end_headers()
        else:
            self._small()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(201)
        self.send_header(
            "Content-Type", self.headers.get("Content-Type", "application/octet-stream")
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def relay_one(listener: socket.socket, upstream: int, out: list[tuple[str, bytes]]) -> None:
    """Relay a single client connection to ``upstream``, recording both directions."""
    client, _ = listener.accept()
    server = socket.create_connection(("127.0.0.1", upstream))
    peers = {client: (server, "request"), server: (client, "response")}
    open_ = {client, server}
    while open_:
        ready, _, _ = select.select(list(open_), [], [], 5)
        if not ready:
            break
        for sock in ready:
            data = sock.recv(65536)
            other, direction = peers[sock]
            if not data:
                open_.discard(sock)
                with contextlib.suppress(OSError):
                    other.shutdown(socket.SHUT_WR)
                continue
            out.append((direction, data))
            other.sendall(data)
    client.close()
    server.close()


def record(
    name: str, description: str, exchanges: int, client_cmd: list[str], port_holder: dict
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    out: list[tuple[str, bytes]] = []
    t = threading.Thread(target=relay_one, args=(listener, port_holder["server"], out))
    t.start()
    cmd = [c.replace("PORT", str(port)) for c in client_cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)
    t.join(30)
    listener.close()
    with open(HERE / f"{name}.jsonl", "w") as f:
        meta = {"description": description, "exchanges": exchanges, "client": cmd[0]}
        f.write(json.dumps({"meta": meta}) + "\n")
        for direction, data in out:
            f.write(json.dumps({"dir": direction, "data": base64.b64encode(data).decode()}) + "\n")
    print(name, len(out), "chunks")


HTTPX_SCRIPT = """
import httpx, sys
base = f"http://127.0.0.1:{sys.argv[1]}"
with httpx.Client() as c:
    c.post(base + "/echo", json={"name": "widget", "price": 9.99})
    c.get(base + "/chunked")
    c.get(base + "/etag", headers={"If-None-Match": '"v1"'})
    c.head(base + "/small")
    c.get(base + "/empty")
    c.get(base + "/small")
"""


def main() -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ports = {"server": srv.server_address[1]}
    url = "http://127.0.0.1:PORT"
    record(
        "curl_keepalive",
        "curl reusing one connection: GET, chunked GET with trailers, HEAD, 304, 204",
        5,
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            f"{url}/small",
            f"{url}/chunked",
            "--next",
            "-s",
            "-I",
            "-o",
            "/dev/null",
            f"{url}/small",
            "--next",
            "-s",
            "-o",
            "/dev/null",
            "-H",
            'If-None-Match: "v1"',
            f"{url}/etag",
            "--next",
            "-s",
            "-o",
            "/dev/null",
            f"{url}/empty",
        ],
        ports,
    )
    record(
        "curl_expect_100",
        "curl POST with Expect: 100-continue (100 Continue, then the body, then 201)",
        1,
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-H",
            "Expect: 100-continue",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            "x" * 3000,
            f"{url}/echo",
        ],
        ports,
    )
    record(
        "curl_close_delimited",
        "HTTP/1.0 request; response without a length, ended by the server's close",
        1,
        ["curl", "-s", "--http1.0", "-o", "/dev/null", f"{url}/close"],
        ports,
    )
    record(
        "httpx_session",
        "httpx keep-alive session: POST json, chunked GET, 304, HEAD, 204, GET",
        6,
        [sys.executable, "-c", HTTPX_SCRIPT, "PORT"],
        ports,
    )
    srv.shutdown()


if __name__ == "__main__":
    main()
