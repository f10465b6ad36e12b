"""Micro-benchmark: HTTP/1.1 passive parsing throughput (exchanges per second).

A keep-alive connection carrying small GET/200 exchanges, fed the way the capture engine
feeds it: one feed per message, alternating directions. Run: ``python bench/http1_parse.py``.
"""

from __future__ import annotations

import argparse
import time

from httptap.model import Connection
from httptap.protocols.base import Direction, ExchangeDone
from httptap.protocols.http1 import Http1Parser

REQUEST = (
    b"GET /items?id=1 HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8080\r\n"
    b"User-Agent: python-httpx/0.27.0\r\n"
    b"Accept: */*\r\n"
    b"Accept-Encoding: gzip, deflate\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
)
BODY = b'{"id": 1, "name": "widget", "price": 9.99}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"date: Mon, 30 Nov 2026 12:00:00 GMT\r\n"
    b"server: uvicorn\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(BODY)).encode() + b"\r\n"
    b"\r\n" + BODY
)


def run(exchanges: int) -> float:
    """Parse ``exchanges`` exchanges on one connection; return exchanges per second."""
    parser = Http1Parser(Connection())
    feed = parser.feed
    req, resp = Direction.REQUEST, Direction.RESPONSE
    done = 0
    start = time.process_time()
    ts = 0
    for _ in range(exchanges):
        ts += 1000
        feed(req, REQUEST, ts)
        for ev in feed(resp, RESPONSE, ts + 500):
            if type(ev) is ExchangeDone:
                done += 1
    elapsed = time.process_time() - start  # CPU time: steadier on a shared machine
    assert done == exchanges, (done, exchanges)
    return exchanges / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="exchanges per run")
    ap.add_argument("-r", type=int, default=5, help="runs (best is reported)")
    args = ap.parse_args()
    best = max(run(args.n) for _ in range(args.r))
    print(f"http1 parse: {best:,.0f} exchanges/s ({1e6 / best:.2f} µs per exchange)")


if __name__ == "__main__":
    main()
