"""The demo service's HTTP server: a few endpoints with every kind of answer."""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LARGE = bytes(range(256)) * 1024  # 256 KiB, over the default body limit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep the demo's terminal for httptap
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/items"):
            self._send(200, json.dumps({"items": [1, 2, 3], "path": self.path}).encode())
        elif path == "/error":
            self._send(500, b'{"error": "something broke"}')
        elif path == "/large":
            self._send(200, LARGE, "application/octet-stream")
        elif path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(5):
                part = f"line {i}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self._send(201, json.dumps({"created": True, "received": len(body)}).encode())


def serve(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="httptap demo server")
    p.add_argument("--port", type=int, default=0)
    serve(p.parse_args(argv).port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
