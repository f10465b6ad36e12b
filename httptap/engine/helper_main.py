"""``httptap-helper``: the privileged half of a capture, for front ends that are not root.

It accepts only a fixed set of arguments, writes no files, opens no paths named by its
caller, masks secrets unless told otherwise, prints versioned JSON lines (one record each) on
stdout, and exits when its stdin closes (under sudo, its parent is sudo).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Callable

from httptap import options
from httptap.argtypes import bounded_int
from httptap.engine.api import CaptureError, CaptureOptions
from httptap.engine.protocol import to_json
from httptap.gctune import tune_gc
from httptap.records import Error

_MAX_PID = 2**22  # the kernel's PID_MAX_LIMIT
_MAX_PIDS = 64
_EXIT_GRACE: float | None = 0.5  # seconds between stdin closing and the helper's exit


_DIGITS = re.compile(r"[0-9]{1,10}")
#: environment variables that would make bcc read caller-chosen files (headers, symbols)
_UNTRUSTED_ENV = ("BCC_",)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="httptap-helper",
        description="Privileged capture helper for httptap front ends (JSON lines on stdout).",
        epilog="example: sudo httptap-helper --pid 1234 --body-limit 65536",
        allow_abbrev=False,  # only the exact option names a sudoers rule may list
    )
    p.add_argument("--pid", type=bounded_int(1, _MAX_PID), action="append", required=True)
    # the shared options, with strict types: digits only, bounded (0: headers only)
    options.BODY_LIMIT.add_to(p, type=bounded_int(0, options.MAX_BODY_LIMIT))
    options.RING_KIB.add_to(p, type=bounded_int(1, options.MAX_RING_KIB))
    options.SHOW_SECRETS.add_to(p)
    return p


def _check_args(args: argparse.Namespace) -> str | None:
    """Why the request is refused, or None. Under sudo, only the caller's own processes."""
    if len(args.pid) > _MAX_PIDS:
        return f"at most {_MAX_PIDS} --pid options"
    sudo_uid = os.environ.get("SUDO_UID", "")  # set by sudo itself, not by its caller
    if not _DIGITS.fullmatch(sudo_uid) or int(sudo_uid) == 0:
        return None
    for pid in args.pid:
        uid = _process_uid(pid)
        if uid is not None and uid != int(sudo_uid):
            return f"process {pid} belongs to another user (uid {uid})"
    return None


def _process_uid(pid: int) -> int | None:
    """Real uid of ``pid`` (None if it does not exist: attach reports that)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _scrub_environment() -> None:
    for name in list(os.environ):
        if name.startswith(_UNTRUSTED_ENV):
            del os.environ[name]


def main(argv: list[str] | None = None) -> int:
    """Run the helper: parse the fixed arguments, attach, stream records until stdin closes."""
    args = _parser().parse_args(argv)
    _scrub_environment()
    tune_gc()  # the helper is a process of its own, as busy as the CLI
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

    refused = _check_args(args)
    if refused:
        write([Error(f"httptap-helper: {refused}",
                     "trace your own processes, or run httptap as root")])
        return 2
    # Watch stdin from the start: a front end that goes away during the (slow) attach must
    # not leave a privileged process behind.
    stdin_closed = threading.Event()
    stop_requested: list[Callable[[], None]] = []

    def watch_stdin() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stdin_closed.set()
        for stop_now in stop_requested:
            stop_now()
        # Nobody reads our output any more, and a clean detach of every probe takes seconds:
        # leave soon; closing the BPF fds on exit frees programs and links in the kernel.
        if _EXIT_GRACE is not None:  # None: in-process unit tests, which must not exit
            timer = threading.Timer(_EXIT_GRACE, os._exit, (0,))
            timer.daemon = True
            timer.start()

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
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
    stop_requested.append(stop)
    if stdin_closed.is_set():
        stop()
    cap.start()
    while not cap.wait(0.2):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
