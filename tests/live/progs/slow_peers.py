"""Peers slowed down on purpose, for the phase accuracy tests.

    slow_peers.py DNS_ADDR HTTP_PORT CERT KEY DNS_DELAY HANDSHAKE_DELAY FIRST_BYTE_DELAY TRICKLE

- a DNS server on DNS_ADDR:53 (UDP) that answers every A query with 127.0.0.1 and every other
  query with no answer, each DNS_DELAY seconds late;
- a TLS HTTP/1.1 server on 127.0.0.1:HTTP_PORT that waits HANDSHAKE_DELAY seconds before its
  handshake, FIRST_BYTE_DELAY seconds before each response, and trickles the body in four
  parts TRICKLE seconds apart (keep-alive, so a second request reuses the connection).
Prints "ready" once both listen.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time

_BODY = [b"x" * 1000] * 4


def _dns(addr: str, delay: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 53))
    while True:
        query, peer = sock.recvfrom(512)
        threading.Timer(delay, _answer, (sock, query, peer)).start()


def _answer(sock: socket.socket, query: bytes, peer: tuple[str, int]) -> None:
    end = 12
    while query[end]:
        end += query[end] + 1
    question = query[12 : end + 5]
    qtype = int.from_bytes(query[end + 1 : end + 3], "big")
    answers = b""
    if qtype == 1:
        answers = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([127, 0, 0, 1])
    count = b"\x00\x01" if answers else b"\x00\x00"
    head = query[:2] + b"\x81\x80\x00\x01" + count + b"\x00\x00\x00\x00"
    sock.sendto(head + question + answers, peer)


def _serve(conn: socket.socket, ctx: ssl.SSLContext, delays: tuple[float, float, float]) -> None:
    handshake, first_byte, trickle = delays
    time.sleep(handshake)
    tls = ctx.wrap_socket(conn, server_side=True)
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            data = tls.recv(65536)
            if not data:
                return
            buf += data
        buf = buf.split(b"\r\n\r\n", 1)[1]
        time.sleep(first_byte)
        size = sum(map(len, _BODY))
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + _BODY[0])
        for part in _BODY[1:]:
            time.sleep(trickle)
            tls.sendall(part)


def main() -> None:
    dns_addr, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    dns_delay, *delays = map(float, sys.argv[5:9])
    threading.Thread(target=_dns, args=(dns_addr, dns_delay), daemon=True).start()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=_serve, args=(conn, ctx, tuple(delays)), daemon=True).start()


if __name__ == "__main__":
    main()
