"""WebSocket echo under httptap: is every message seen at 10 000 messages per second?

A Python ``websockets`` echo server (CPU 0) is traced by ``httptap --pid SERVER --jsonl``
(CPU 1); a client (CPU 1) sends text messages at ``rate`` per second for ``seconds``, paced
in 10 ms slices, and reads every echo. httptap should print two message lines per message
(``received`` and ``sent``, from the server's view): lossless when it did. The figure is
the message lines counted against the messages the client knows it exchanged, the rate the
client achieved, and httptap's CPU time over the run.

Run as root: ``python bench/websocket_echo.py [--rate 10000] [--seconds 5]`` or through
``bench/run.py --scenario websocket``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SERVER_CPU, TAP_CPU, CLIENT_CPU = "0", "1", "1"
_TICK = os.sysconf("SC_CLK_TCK")

_SERVER = """
import asyncio, sys
import websockets
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, compression=None) as srv:
        print(srv.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"""

_CLIENT = """
import asyncio, sys, time
import websockets
port, rate, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def main():
    async with websockets.connect(f"ws://127.0.0.1:{port}/echo", compression=None,
                                  max_queue=None) as ws:
        per_slice = max(1, rate // 100)
        sent = got = 0
        start = time.monotonic()
        async def reader():
            nonlocal got
            async for _ in ws:
                got += 1
                if got == total:
                    return
        total = int(rate * seconds)
        task = asyncio.create_task(reader())
        while sent < total:
            for _ in range(min(per_slice, total - sent)):
                await ws.send("message %08d from the benchmark client" % sent)
                sent += 1
            lag = start + sent / rate - time.monotonic()
            if lag > 0:
                await asyncio.sleep(lag)
        await asyncio.wait_for(task, 60)
        elapsed = time.monotonic() - start
    print(sent, got, f"{elapsed:.3f}", flush=True)
asyncio.run(main())
"""


@dataclass
class EchoResult:
    rate: int
    sent: int = 0
    echoed: int = 0
    elapsed_s: float = 0.0
    lines: int = 0  # text message lines httptap printed
    lost_events: int = 0
    cpu_s: float = 0.0

    @property
    def expected(self) -> int:
        return self.sent + self.echoed  # received and sent, from the server's view

    @property
    def lossless(self) -> bool:
        return self.lines == self.expected and self.sent == self.echoed

    def line(self) -> str:
        verdict = "lossless" if self.lossless else f"LOST {self.expected - self.lines}"
        achieved = self.sent / self.elapsed_s if self.elapsed_s else 0.0
        return (f"websocket echo at {self.rate:,} msg/s (achieved {achieved:,.0f}): "
                f"{self.lines:,}/{self.expected:,} message lines, {verdict}; "
                f"lost events {self.lost_events}; httptap {self.cpu_s:.2f} CPU s over "
                f"{self.elapsed_s:.1f} s")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def websocket_echo(rate: int = 10_000, seconds: float = 5.0) -> EchoResult:
    """One traced echo run at ``rate`` messages per second for ``seconds``."""
    out = EchoResult(rate)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(["taskset", "-c", SERVER_CPU, PY, "-c", _SERVER],
                              stdout=subprocess.PIPE, text=True, env=env)
    with tempfile.TemporaryDirectory(prefix="httptap-ws-bench-") as tmp:
        lines_path = Path(tmp) / "out.jsonl"
        tap = None
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            with open(lines_path, "w") as sink:
                tap = subprocess.Popen(
                    ["taskset", "-c", TAP_CPU, PY, "-m", "httptap.cli", "--pid",
                     str(server.pid), "--jsonl"],
                    stdout=sink, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
                assert tap.stderr is not None
                line = tap.stderr.readline()
                while line and "attached to PID" not in line:
                    line = tap.stderr.readline()
                if "attached to PID" not in line:
                    raise RuntimeError(f"httptap did not attach: {line!r}")
                cpu0 = _cpu_seconds(tap.pid)
                res = subprocess.run(
                    ["taskset", "-c", CLIENT_CPU, PY, "-c", _CLIENT, str(port), str(rate),
                     str(seconds)], capture_output=True, text=True, env=env, check=True)
                sent, echoed, elapsed = res.stdout.split()
                out.sent, out.echoed, out.elapsed_s = int(sent), int(echoed), float(elapsed)
                _drain(lines_path, out.expected)
                out.cpu_s = _cpu_seconds(tap.pid) - cpu0
                tap.send_signal(signal.SIGINT)
                _o, err = tap.communicate(timeout=60)
                found = re.search(r"(\d+) lost event", err)
                out.lost_events = int(found.group(1)) if found else -1
        finally:
            if tap is not None and tap.poll() is None:
                tap.kill()
            server.terminate()
            server.wait(10)
        # text messages only: the closing handshake adds a close frame each way
        out.lines = sum(1 for raw in lines_path.read_text().splitlines()
                        if (d := json.loads(raw)).get("type") == "message"
                        and d.get("opcode") == "text")
    return out


_ENGINE = """
import os, struct, time
from httptap.capture.events import Dir, Event, Kind, SockFlag, encode
from httptap.engine.api import CaptureOptions
from httptap.engine.inprocess import InProcessCapture
class _P:
    def disable_socket(self, *a): pass
cap = InProcessCapture.offline(CaptureOptions(), _P())
req = (b"GET /echo HTTP/1.1\\r\\nHost: 127.0.0.1:8765\\r\\nUpgrade: websocket\\r\\n"
       b"Connection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n"
       b"Sec-WebSocket-Version: 13\\r\\n\\r\\n")
resp = (b"HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\n"
        b"Connection: Upgrade\\r\\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\\r\\n\\r\\n")
text = b"message 00000000 from the benchmark client"
mask = os.urandom(4)
masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
inbound = bytes([0x81, 0x80 | len(text)]) + mask + masked
outbound = bytes([0x81, len(text)]) + text
flags = SockFlag.SERVER | SockFlag.SEEN
def ev(ts, d, data):
    return encode(Event(Kind.DATA, ts, 1000, 7, 7, 10, len(data), 0, d, flags, 0, data))
cap.drain([ev(1, Dir.INGRESS, req), ev(2, Dir.EGRESS, resp)])
raws = [ev(10 + 2 * i + j, d, f) for i in range(500)
        for j, (d, f) in enumerate(((Dir.INGRESS, inbound), (Dir.EGRESS, outbound)))]
def count(records):
    return sum(type(r).__name__ == "Message" for r in records)
for _ in range(5):
    cap.drain(raws)
n = 0
t = time.process_time()
for _ in range(100):
    n += count(cap.drain(raws))
spent = time.process_time() - t
print(spent / n * 1e6, n)
"""


def engine_message_cost() -> tuple[float, int]:
    """CPU µs per WebSocket message of the engine alone (decode → streams → WebSocket
    parser → records), fed encoded ring-buffer records of an echo: no kernel, no output."""
    res = subprocess.run(["taskset", "-c", TAP_CPU, PY, "-c", _ENGINE], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    cost, n = res.stdout.split()
    return float(cost), int(n)


def _drain(path: Path, expected: int, timeout: float = 30.0) -> None:
    """Wait until ``expected`` message lines are written or no new line came for 2 s."""
    deadline = time.monotonic() + timeout
    last, still = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = path.read_text().count('"type": "message"')
        if n >= expected:
            return
        if n != last:
            last, still = n, time.monotonic()
        elif time.monotonic() - still > 2.0:
            return
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=int, default=10_000, help="messages per second")
    p.add_argument("--seconds", type=float, default=5.0)
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/websocket_echo.py attaches eBPF probes: run it as root", file=sys.stderr)
        return 2
    cost, n = engine_message_cost()
    print(f"engine alone: {cost:.1f} CPU µs per WebSocket message ({n:,} messages)")
    print(websocket_echo(args.rate, args.seconds).line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
