"""The demo service's servers: HTTP/1.1, HTTPS, HTTP/2 (h2c) and gRPC, on loopback.

Prints one JSON line with the ports once everything listens. HTTPS uses a self-signed
certificate made at start-up (``openssl``); gRPC needs grpcio. Whatever cannot start is
reported in that line rather than failing the demo.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LARGE = bytes(range(256)) * 1024  # 256 KiB, over the default body limit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # head and body go out in two writes: with Nagle, the body of every keep-alive response
    # waited for the client's delayed ACK (~40 ms, ~22 requests/s per connection)
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:  # keep the demo's terminal for httptap
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=demo-session-id; HttpOnly")
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # a client leaving mid-response (a load generator stopping) is not the demo's error
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _http(tls_dir: Path | None) -> tuple[int, str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    if tls_dir is not None:
        key, cert = tls_dir / "key.pem", tls_dir / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
            check=True, capture_output=True,
        )
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], ""


def _h2c() -> tuple[int, str]:
    """A small HTTP/2 server with prior knowledge, on the h2 library."""
    import h2.config
    import h2.connection
    import h2.events

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve(sock: socket.socket) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        paths: dict[int, str] = {}
        with sock:
            while data := sock.recv(65536):
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        paths[ev.stream_id] = dict(ev.headers).get(b":path", b"/").decode()
                    elif isinstance(ev, h2.events.StreamEnded):
                        body = json.dumps({"h2": True, "path": paths.pop(ev.stream_id, "")})
                        conn.send_headers(ev.stream_id, [(":status", "200"),
                                                         ("content-type", "application/json")])
                        conn.send_data(ev.stream_id, body.encode(), end_stream=True)
                sock.sendall(conn.data_to_send())

    def accept() -> None:
        while True:
            sock, _ = listener.accept()
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1], ""


def _grpc() -> tuple[int, str]:
    try:
        from concurrent import futures

        import grpc
    except ImportError:
        return 0, "grpcio is not installed"

    def get_item(request: bytes, context: object) -> bytes:
        return b"\x0a\x06widget\x10\x03"  # protobuf: 1: "widget", 2: 3

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handlers = {"GetItem": grpc.unary_unary_rpc_method_handler(get_item)}
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("demo.Inventory", handlers),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    _KEEP.append(server)
    return port, ""


_KEEP: list[object] = []


def main() -> int:
    ports: dict[str, int] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="httptap-demo-") as tmp:
        starters = {
            "http": lambda: _http(None),
            "https": lambda: _http(Path(tmp)),
            "h2c": _h2c,
            "grpc": _grpc,
        }
        for name, start in starters.items():
            try:
                port, why = start()
            except Exception as exc:  # a missing peer must not stop the demo
                port, why = 0, str(exc)
            if port:
                ports[name] = port
            else:
                skipped[name] = why
        print(json.dumps({"ports": ports, "skipped": skipped}), flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
