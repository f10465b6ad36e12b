"""The demo service's client: keeps calling the demo server, like a chatty backend."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import sys
import time

CALLS: list[tuple[str, str, bytes | None]] = [
    ("GET", "/items?page=1", None),
    ("POST", "/items", json.dumps({"name": "widget", "qty": 3}).encode()),
    ("GET", "/missing", None),
    ("GET", "/error", None),
    ("GET", "/stream", None),
    ("GET", "/large", None),
]


def run(port: int, interval: float, count: int | None) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": "Bearer demo-secret-token", "User-Agent": "httptap-demo/1"}
    for n, (method, path, body) in enumerate(itertools.cycle(CALLS)):
        if count is not None and n >= count:
            return
        try:
            conn.request(method, path, body=body, headers=headers)
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="httptap demo client")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--count", type=int)
    args = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        run(args.port, args.interval, args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
