"""``httptap demo``: start the bundled demo service and attach to its client."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from httptap.engine.api import Capture, CaptureOptions

if TYPE_CHECKING:
    from httptap.cli.main import Environment


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="httptap demo",
        description="Start a small demo service (an HTTP server and a client that keeps "
        "calling it) and attach httptap to the client. Ctrl-C ends all of it.",
        epilog="examples:\n  httptap demo\n  httptap demo --jsonl\n  httptap demo --duration 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: Sequence[str], env: Environment) -> int:
    from httptap.cli.main import main as cli_main

    p = _parser()
    p.add_argument("--interval", type=float, default=0.5, help="seconds between client calls")
    try:
        args, rest = p.parse_known_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    if os.geteuid() != 0:
        env.stderr.write("httptap demo: attaching needs root; run `sudo make demo`\n")
        return 1
    py = sys.executable
    server = subprocess.Popen([py, "-m", "httptap.demo.server"], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    client = None
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line:
            env.stderr.write("httptap demo: the demo servers did not start\n")
            return 1
        info = json.loads(line)
        ports = info["ports"]
        client = subprocess.Popen(
            [py, "-m", "httptap.demo.client", "--ports", json.dumps(ports),
             "--interval", str(args.interval), "--wait"],
            stdin=subprocess.PIPE, start_new_session=True,
        )
        listing = ", ".join(f"{name} :{port}" for name, port in ports.items())
        env.stderr.write(f"httptap demo: servers {listing} (PID {server.pid}); "
                         f"client PID {client.pid}\n")
        for name, why in info["skipped"].items():
            env.stderr.write(f"httptap demo: no {name} calls: {why}\n")
        real_open = env.open_capture

        def open_then_start(pids: Sequence[int], options: CaptureOptions) -> Capture:
            # the client starts calling once probes are live, so the demo shows every call
            capture = real_open(pids, options)
            assert client is not None and client.stdin is not None
            client.stdin.write(b"go\n")
            client.stdin.flush()
            return capture

        demo_env = dataclasses.replace(env, open_capture=open_then_start)
        return cli_main(["--pid", str(client.pid), *rest], demo_env)
    finally:
        for proc in (client, server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
