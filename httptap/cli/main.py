"""``httptap``: attach to a process and print its HTTP exchanges.

Like httpie, the command takes an injected ``Environment`` (streams, tty, signals, how to open
a capture) so tests can run it in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from httptap import argtypes, contract
from httptap.cli.lines import format_line, format_message_line, human_size
from httptap.engine.api import Capture, CaptureError, CaptureOptions, ReplayCapture, open_capture
from httptap.gctune import tune_gc
from httptap.model import Exchange
from httptap.records import Completed, Error, Lost, Message, ProcessExit, Ready, Record, Stats

if TYPE_CHECKING:
    from httptap.protocols.proto_schema import ProtoSchemas

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# contract objects are trees: skipping the cycle check is a measured 15 % of the encoding
_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


EXAMPLES = """\
examples:
  httptap --pid 1234                      one line per exchange, live
  httptap --pid 1234 --jsonl | jq .url    the JSON-lines contract (v1)
  httptap --pid 1234 --pid 5678           several processes at once
  httptap --pid 1234 --duration 30 --save run.har
  httptap --pid 1234 --filter 'status>=500 or latency>200ms'
  httptap --open run.har                  look at a saved session (no root)
  httptap doctor                          what this machine lacks, and how to fix it
  httptap demo                            a bundled service, attached
"""


@dataclass
class Environment:
    """Everything the CLI touches outside itself."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdout_isatty: bool = field(default_factory=lambda: sys.stdout.isatty())
    columns: int = field(default_factory=lambda: _terminal_columns())
    install_signals: bool = True
    open_capture: Callable[[Sequence[int], CaptureOptions], Capture] = open_capture


def _terminal_columns() -> int:
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else 80
    except OSError:
        return 80


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="httptap",
        description="See the HTTP/1.1, HTTP/2 and gRPC exchanges of a running process, live "
        "(eBPF: no proxy, no certificates, no restart).",
        epilog=EXAMPLES + "\nsubcommands: doctor [--pid N], demo (see `httptap doctor --help`)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pid", "-p", type=argtypes.pid, action="append", default=[], metavar="PID",
                   help="process to attach to (repeat for several); its children are followed")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--jsonl", action="store_true",
                     help="print one JSON object per exchange (the v1 contract)")
    out.add_argument("--plain", action="store_true",
                     help="print one line per exchange even on a terminal (default there: "
                     "the full-screen UI)")
    p.add_argument("--duration", type=argtypes.positive_float, metavar="SECONDS",
                   help="stop after this many seconds")
    p.add_argument("--count", type=argtypes.positive_int, metavar="N",
                   help="stop after N exchanges")
    p.add_argument("--body-limit", type=argtypes.size, default=64 * 1024, metavar="BYTES",
                   help="bytes of each body kept and shown (default 64k; true sizes always kept)")
    p.add_argument("--history", type=argtypes.positive_int, default=10_000, metavar="N",
                   help="exchanges the full-screen UI keeps; older ones are dropped and "
                   "counted (default 10000)")
    p.add_argument("--ring-kib", type=argtypes.positive_int, default=8 * 1024, metavar="KIB",
                   help="kernel ring buffer size in KiB (default 8192: ~1 s of 20k small "
                   "exchanges/s, ~45 drain periods of 25 ms)")
    p.add_argument("--filter", "-f", metavar="EXPR", default="",
                   help="show only exchanges matching EXPR (see --help-filter)")
    p.add_argument("--help-filter", action="store_true", help="describe the filter language")
    p.add_argument("--save", metavar="FILE.har", help="also write the exchanges to a HAR file")
    p.add_argument("--force", action="store_true", help="overwrite an existing --save file")
    p.add_argument("--open", metavar="FILE", help="show a saved session (.har or .jsonl)")
    p.add_argument("--show-secrets", action="store_true",
                   help="do not mask Authorization, Cookie and similar values")
    p.add_argument("--helper", action="store_true",
                   help="capture through httptap-helper even when running as root")
    p.add_argument("--proto", action="append", default=[], metavar="FILE",
                   help="decode gRPC messages by name with this .proto file (repeat; globs "
                   "allowed, e.g. 'protos/**/*.proto'; needs pip install 'httptap[proto]')")
    p.add_argument("--proto-path", action="append", default=[], metavar="DIR",
                   help="where --proto files' imports are found (repeat; like protoc -I)")
    return p


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "doctor":
        from httptap.cli.doctor import main as doctor_main

        return doctor_main(argv[1:], env)
    if argv and argv[0] == "demo":
        from httptap.cli.demo import main as demo_main

        return demo_main(argv[1:], env)
    parser = build_parser()
    try:
        # argparse writes its help and errors to sys.stdout/stderr: send them to env's
        with contextlib.redirect_stdout(env.stdout), contextlib.redirect_stderr(env.stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.help_filter:
        from httptap.filter import help_text

        env.stdout.write(help_text().rstrip() + "\n")
        return EXIT_OK
    if bool(args.pid) == bool(args.open):
        parser.print_usage(env.stderr)
        env.stderr.write("httptap: error: give --pid PID (to capture) or --open FILE\n")
        return EXIT_USAGE
    try:
        from httptap.filter import FilterError, compile_filter

        flt = compile_filter(args.filter)
    except FilterError as exc:
        env.stderr.write(f"httptap: {exc}\n")
        return EXIT_USAGE
    schemas = None
    if args.proto_path and not args.proto:
        env.stderr.write("httptap: error: --proto-path is used with --proto FILE\n")
        return EXIT_USAGE
    if args.proto:
        # Compiled here, in the unprivileged front end, before any capture: the helper
        # never reads a file its caller names.
        from httptap.protocols.proto_schema import ProtoSchemaError, load_schemas

        try:
            schemas = load_schemas(args.proto, args.proto_path)
        except ProtoSchemaError as exc:
            env.stderr.write(f"httptap: {exc}\n")
            return EXIT_USAGE
    return _Run(args, env, flt, schemas).run()


class _Run:
    """One capture (or replay) printed until it ends."""

    def __init__(self, args: argparse.Namespace, env: Environment, flt: Any,
                 schemas: ProtoSchemas | None = None) -> None:
        self.args = args
        self.env = env
        self.filter = flt
        self.schemas = schemas
        self.shown = 0
        self.stats = Stats()
        self.lost = 0
        self.har: Any = None
        self.stopping = False
        self.error: Error | None = None
        self._lines: list[str] = []
        self._finished = threading.Event()  # --count reached

    def run(self) -> int:
        args, env = self.args, self.env
        if args.save:
            from httptap.export.har import HarWriter

            try:
                self.har = HarWriter(args.save, force=args.force)
            except (FileExistsError, OSError) as exc:
                env.stderr.write(f"httptap: {exc}\n")
                return EXIT_USAGE
        try:
            capture = self._open()
        except CaptureError as exc:
            env.stderr.write(f"httptap: {exc.message}\n")
            if exc.remedy:
                env.stderr.write(f"httptap: {exc.remedy}\n")
            self._close_har()
            return EXIT_FAILED
        if self._use_tui():
            return self._run_tui(capture)
        restore = self._install_signals(capture)
        try:
            self._loop(capture)
        finally:
            capture.stop()  # what is still pending reaches _consume before this returns
            restore()
            self._close_har()
            self.env.stdout.flush()
        self._totals()
        if self.error is not None and self.shown == 0 and not args.open:
            return EXIT_FAILED
        return EXIT_OK

    def _use_tui(self) -> bool:
        args = self.args
        return (self.env.stdout_isatty and not (args.jsonl or args.plain)
                and args.count is None and args.duration is None)

    def _run_tui(self, capture: Capture) -> int:
        from httptap.ui.app import run_tui

        har = self.har
        if har is not None:
            def save(batch: list[object]) -> None:
                for rec in batch:
                    if isinstance(rec, Completed) and self.filter.matches(rec.exchange):
                        har.add(rec.exchange)

            capture.subscribe(save)
        title = self.args.open or "PID " + ", ".join(map(str, self.args.pid))
        try:
            return run_tui(capture, title=title, filter_text=self.args.filter,
                           history=self.args.history, schemas=self.schemas)
        finally:
            self._close_har()

    def _open(self) -> Capture:
        args = self.args
        if args.open:
            from httptap.export.session import SessionError, load_session

            try:
                exchanges = load_session(args.open)
            except (SessionError, OSError) as exc:
                raise CaptureError(str(exc), "") from exc
            return ReplayCapture(exchanges).start()
        options = CaptureOptions(
            body_limit=args.body_limit,
            ring_kib=args.ring_kib,
            show_secrets=args.show_secrets,
            use_helper=True if args.helper else None,
        )
        return self.env.open_capture(args.pid, options)

    def _install_signals(self, capture: Capture) -> Callable[[], None]:
        if not self.env.install_signals:
            return lambda: None

        def handler(_signum: int, _frame: object) -> None:
            self.stopping = True
            capture.request_stop()

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for s, h in old.items():
                signal.signal(s, h)

        return restore

    def _loop(self, capture: Capture) -> None:
        # Records are printed from the engine's thread, a batch per write: no queue, lock
        # and thread switch per record, which a chatty service would pay for (bench/).
        capture.subscribe(self._consume, replay=True)
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        while not self.stopping and capture.running:
            if self._finished.wait(0.1) or self._done(deadline):
                return

    def _consume(self, batch: list[Record]) -> None:
        for rec in batch:
            self._handle(rec)
        if self._lines:
            text, self._lines = "".join(self._lines), []
            self.env.stdout.write(text)
            self.env.stdout.flush()

    def _done(self, deadline: float | None) -> bool:
        if self.args.count is not None and self.shown >= self.args.count:
            return True
        return deadline is not None and time.monotonic() >= deadline

    def _handle(self, rec: object) -> None:
        env = self.env
        if isinstance(rec, Completed):
            self._show(rec.exchange)
        elif isinstance(rec, Message):
            self._show_message(rec)
        elif isinstance(rec, Ready):
            env.stderr.write(f"httptap: {rec.message} (Ctrl-C to stop)\n")
            env.stderr.flush()
        elif isinstance(rec, Stats):
            self.stats = rec
        elif isinstance(rec, Lost):
            self.lost += rec.count
        elif isinstance(rec, ProcessExit):
            more = f"; {rec.remaining} traced process(es) live on" if rec.remaining else ""
            env.stderr.write(f"httptap: process {rec.pid} exited{more}\n")
        elif isinstance(rec, Error):
            self.error = rec
            env.stderr.write(f"httptap: {rec.message}\n")
            if rec.remedy:
                env.stderr.write(f"httptap: {rec.remedy}\n")

    def _show(self, ex: Exchange) -> None:
        if self.args.count is not None and self.shown >= self.args.count:
            return
        if not self.filter.matches(ex):
            return
        self.shown += 1
        if self.args.count is not None and self.shown >= self.args.count:
            self._finished.set()
        env = self.env
        if self.har is not None:
            self.har.add(ex)
        if self.args.jsonl:
            if self.schemas is None:
                self._lines.append(contract.to_json(ex) + "\n")
            else:
                obj = contract.to_dict(ex)
                _add_decoded(obj, ex, self.schemas)
                self._lines.append(_JSON.encode(obj) + "\n")
        else:
            self._lines.append(format_line(ex, env.columns if env.stdout_isatty else 80) + "\n")

    def _show_message(self, rec: Message) -> None:
        """A WebSocket message or SSE event, as it happens, if its exchange passes the filter."""
        if rec.exchange is not None and not self.filter.matches(rec.exchange):
            return
        if self.args.jsonl:
            self._lines.append(_JSON.encode(contract.message_to_dict(rec.message)) + "\n")
        else:
            width = self.env.columns if self.env.stdout_isatty else 80
            self._lines.append(format_message_line(rec.message, width) + "\n")

    def _close_har(self) -> None:
        if self.har is not None:
            self.har.close()
            self.har = None

    def _totals(self) -> None:
        s = self.stats
        lost = max(self.lost, s.lost)
        self.env.stderr.write(
            f"httptap: {self.shown} exchange(s) shown, {s.exchanges} captured, "
            f"{human_size(s.bytes)}, {s.connections} connection(s), {lost} lost event(s)"
            + (f", {s.evicted} connection(s) dropped unclosed" if s.evicted else "") + "\n"
        )


def _add_decoded(obj: dict[str, Any], ex: Exchange, schemas: ProtoSchemas) -> None:
    """Add ``"decoded"`` (text format) to each gRPC message of ``obj`` that decodes by name.

    Additive to contract v1, and done here rather than in ``contract.to_dict`` so the
    helper, which also emits that object, never deals with schemas.
    """
    g = ex.grpc
    if g is None or "grpc" not in obj:
        return
    for direction, key, messages in (("request", "requests", g.requests),
                                     ("response", "responses", g.responses)):
        for m, out in zip(messages, obj["grpc"][key], strict=False):
            text = schemas.decode(g.service, g.method, direction, m.data)
            if text is not None:
                out["decoded"] = text


def run() -> None:
    """Console-script entry point (``httptap``): httptap's own process."""
    tune_gc()
    sys.exit(main())
