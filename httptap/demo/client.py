"""The demo service's client: keeps calling the demo servers, like a chatty backend.

HTTP/1.1 (keep-alive: GET, POST, 404, 500, chunked, a large body), HTTPS, HTTP/2 and gRPC,
one call every ``--interval`` seconds. ``ssl`` is imported lazily, as real services do.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import socket
import sys
import time
from collections.abc import Callable

HEADERS = {"Authorization": "Bearer demo-secret-token", "User-Agent": "httptap-demo/1"}


class _Http1:
    def __init__(self, port: int, tls: bool = False) -> None:
        self.port, self.tls = port, tls
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: bytes | None = None) -> None:
        if self.conn is None:
            if self.tls:
                import ssl

                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx,
                                                        timeout=10)
            else:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            self.conn.request(method, path, body=body, headers=HEADERS)
            self.conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None


class _H2c:
    """HTTP/2 with prior knowledge on one connection, on the h2 library."""

    def __init__(self, port: int) -> None:
        import h2.connection

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection()
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())

    def get(self, path: str) -> None:
        import h2.events

        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":path", path),
                                     (":scheme", "http"), (":authority", "demo"),
                                     ("authorization", HEADERS["Authorization"])],
                               end_stream=True)
        self.sock.sendall(self.conn.data_to_send())
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            events = self.conn.receive_data(data)
            self.sock.sendall(self.conn.data_to_send())
            if any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid
                   for e in events):
                return


def _calls(ports: dict[str, int]) -> list[Callable[[], None]]:
    plain = _Http1(ports["http"])
    calls: list[Callable[[], None]] = [
        lambda: plain.call("GET", "/items?page=1"),
        lambda: plain.call("POST", "/items", json.dumps({"name": "widget", "qty": 3}).encode()),
        lambda: plain.call("GET", "/missing"),
        lambda: plain.call("GET", "/error"),
        lambda: plain.call("GET", "/stream"),
        lambda: plain.call("GET", "/large"),
    ]
    if "https" in ports:
        secure = _Http1(ports["https"], tls=True)
        calls.append(lambda: secure.call("GET", "/items?secure=1"))
    if "h2c" in ports:
        h2 = _H2c(ports["h2c"])
        calls.append(lambda: h2.get("/items?proto=h2"))
    if "grpc" in ports:
        import grpc

        channel = grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}")
        get_item = channel.unary_unary("/demo.Inventory/GetItem")
        calls.append(lambda: get_item(b"\x08\x2a", timeout=10))  # protobuf: 1: 42
    return calls


def run(ports: dict[str, int], interval: float, count: int | None) -> None:
    calls = _calls(ports)
    for n, call in enumerate(itertools.cycle(calls)):
        if count is not None and n >= count:
            return
        with contextlib.suppress(Exception):  # the demo keeps going whatever a peer does
            call()
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="httptap demo client")
    p.add_argument("--ports", required=True, help="JSON object of server ports")
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--count", type=int)
    p.add_argument("--wait", action="store_true", help="start calling after a line on stdin")
    args = p.parse_args(argv)
    if args.wait:
        sys.stdin.readline()
    with contextlib.suppress(KeyboardInterrupt):
        run(json.loads(args.ports), args.interval, args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
