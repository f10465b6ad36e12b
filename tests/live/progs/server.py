"""Test server: keep-alive HTTP/1.1 with endpoints whose answers the tests can predict.

GET /size/N        N bytes (Content-Length)
GET /chunked/N     N bytes, chunked in 1000-byte chunks
POST /echo         the request body back
anything else      404
argv: port [--fork N]  (pre-fork N workers sharing the listening socket)
"""

import os
import socketserver
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[0] == "size" and len(parts) == 2:
            self._send(200, b"x" * int(parts[1]))
        elif parts[0] == "chunked" and len(parts) == 2:
            n = int(parts[1])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            body = b"y" * n
            for i in range(0, n, 1000):
                part = body[i : i + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, b"not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        self._send(200, body, self.headers.get("Content-Type") or "application/octet-stream")


class Threaded(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    port = int(sys.argv[1])
    server = Threaded(("127.0.0.1", port), Handler)
    if "--fork" in sys.argv:
        workers = int(sys.argv[sys.argv.index("--fork") + 1])
        for _ in range(workers):
            if os.fork() == 0:
                server.serve_forever()
                os._exit(0)
        print("ready", flush=True)
        for line in sys.stdin:  # 'fork' adds one more worker after attach
            if line.strip() == "fork":
                if os.fork() == 0:
                    server.serve_forever()
                    os._exit(0)
                print("forked", flush=True)
        os._exit(0)
    server.serve_forever()


if __name__ == "__main__":
    main()
