"""``httptap-helper``: the privileged half of a capture, for front ends that are not root.

It accepts only a fixed set of arguments, writes no files, opens no paths named by its
caller, masks secrets unless told otherwise, prints versioned JSON lines (one record each) on
stdout, and exits when its stdin closes (under sudo, its parent is sudo).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from httptap.engine.api import CaptureError, CaptureOptions
from httptap.engine.protocol import to_json
from httptap.records import Error

_MAX_BODY_LIMIT = 16 * 1024 * 1024
_MAX_RING_KIB = 256 * 1024


def _positive(limit: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        value = int(text)
        if not 0 < value <= limit:
            raise argparse.ArgumentTypeError(f"must be between 1 and {limit}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="httptap-helper",
        description="Privileged capture helper for httptap front ends (JSON lines on stdout).",
        epilog="example: sudo httptap-helper --pid 1234 --body-limit 65536",
    )
    p.add_argument("--pid", type=_positive(2**22), action="append", required=True)
    p.add_argument("--body-limit", type=_positive(_MAX_BODY_LIMIT), default=64 * 1024)
    p.add_argument("--ring-kib", type=_positive(_MAX_RING_KIB), default=8 * 1024)
    p.add_argument("--show-secrets", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = sys.stdout
    lock = threading.Lock()

    def write(batch: list) -> None:  # type: ignore[type-arg]
        text = "".join(to_json(r) + "\n" for r in batch)
        with lock:
            try:
                out.write(text)
                out.flush()
            except (BrokenPipeError, ValueError):
                os._exit(0)

    options = CaptureOptions(
        body_limit=args.body_limit,
        ring_kib=args.ring_kib,
        show_secrets=args.show_secrets,
        use_helper=False,
    )
    from httptap.engine.inprocess import InProcessCapture

    cap = InProcessCapture(args.pid, options)
    try:
        cap.attach()
    except CaptureError as exc:
        write([Error(exc.message, exc.remedy)])
        return 1
    cap.subscribe(write)

    def stop(*_: object) -> None:
        cap.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_stdin() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop()

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    cap.start()
    while not cap.wait(0.2):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
