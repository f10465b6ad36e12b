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

from httptap import argtypes, contract, options
from httptap.cli.lines import format_line, format_message_line
from httptap.engine.api import Capture, CaptureError, CaptureOptions, open_capture
from httptap.engine.replay import ReplayCapture
from httptap.gctune import tune_gc
from httptap.model import Exchange
from httptap.present.units import human_size
from httptap.records import Error, Message, ProcessExit, Ready, Record
from httptap.store import CaptureState

if TYPE_CHECKING:
    from httptap.content.proto_schema import ProtoSchemas
    from httptap.export.sinks import ExportSinks

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
    # export: OTLP spans and Prometheus metrics (httptap/export/sinks.py)
    out.add_argument("--quiet", "-q", action="store_true",
                     help="print no exchanges (status lines and totals still go to stderr); "
                     "for a headless --otlp/--metrics exporter")
    p.add_argument("--otlp", nargs="?", const="", default=None, metavar="URL",
                   help="send every exchange as a span over OTLP/HTTP to URL/v1/traces "
                   "(no URL: $OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318); "
                   "needs pip install 'httptap[export]'")
    p.add_argument("--metrics", metavar="ADDR:PORT",
                   help="serve Prometheus metrics on http://ADDR:PORT/metrics "
                   "(':9464' for every interface); needs pip install 'httptap[export]'")
    options.DURATION.add_to(p)
    options.COUNT.add_to(p)
    options.BODY_LIMIT.add_to(p)
    p.add_argument("--history", type=argtypes.positive_int, default=10_000, metavar="N",
                   help="exchanges the full-screen UI keeps; older ones are dropped and "
                   "counted (default 10000)")
    options.RING_KIB.add_to(p)
    options.FILTER.add_to(p)
    p.add_argument("--help-filter", action="store_true", help="describe the filter language")
    p.add_argument("--save", metavar="FILE.har", help="also write the exchanges to a HAR file")
    p.add_argument("--force", action="store_true", help="overwrite an existing --save file")
    p.add_argument("--open", metavar="FILE", help="show a saved session (.har or .jsonl)")
    options.SHOW_SECRETS.add_to(p)
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
        env.stderr.write(f"httptap: {exc.render('httptap: ')}\n")
        return EXIT_USAGE
    schemas = None
    if args.proto_path and not args.proto:
        env.stderr.write("httptap: error: --proto-path is used with --proto FILE\n")
        return EXIT_USAGE
    if args.proto:
        # Compiled here, in the unprivileged front end, before any capture: the helper
        # never reads a file its caller names.
        from httptap.content.proto_schema import ProtoSchemaError, load_schemas

        try:
            schemas = load_schemas(args.proto, args.proto_path)
        except ProtoSchemaError as exc:
            env.stderr.write(f"httptap: {exc}\n")
            return EXIT_USAGE
    # export: checked and bound before attaching, so mistakes are usage errors
    sinks = None
    if args.otlp is not None or args.metrics is not None:
        from httptap.export.sinks import ExportSetupError, open_sinks

        try:
            sinks = open_sinks(args.otlp or None, args.metrics, live=not args.open,
                               otlp_enabled=args.otlp is not None,
                               show_secrets=args.show_secrets, keep=flt.matches)
        except ExportSetupError as exc:
            env.stderr.write(f"httptap: error: {exc}\n")
            return EXIT_USAGE
        if sinks.metrics_url:
            env.stderr.write(f"httptap: serving metrics on {sinks.metrics_url}\n")
    return _Run(args, env, flt, schemas, sinks).run()


class _Run:
    """One capture (or replay) printed until it ends."""

    def __init__(self, args: argparse.Namespace, env: Environment, flt: Any,
                 schemas: ProtoSchemas | None = None, sinks: ExportSinks | None = None) -> None:
        self.args = args
        self.sinks = sinks
        self.env = env
        self.filter = flt
        self.schemas = schemas
        # the one fold of records; no history: lines are printed, not kept
        self.tally = CaptureState(filter=flt, count=args.count)
        self.har: Any = None
        self.stopping = False
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
                self._close_sinks(report=False)
                return EXIT_USAGE
        try:
            capture = self._open()
        except CaptureError as exc:
            env.stderr.write(f"httptap: {exc.message}\n")
            if exc.remedy:
                env.stderr.write(f"httptap: {exc.remedy}\n")
            self._close_har()
            self._close_sinks(report=False)
            return EXIT_FAILED
        if self._use_tui():
            try:
                return self._run_tui(capture)
            finally:
                self._close_sinks()
        restore = self._install_signals(capture)
        try:
            self._loop(capture)
            self._hold_metrics()
        finally:
            capture.stop()  # what is still pending reaches _consume before this returns
            restore()
            self._close_har()
            self.env.stdout.flush()
        self._totals()
        self._close_sinks()
        if self.tally.error is not None and self.tally.completed == 0 and not args.open:
            return EXIT_FAILED
        return EXIT_OK

    def _use_tui(self) -> bool:
        args = self.args
        return (self.env.stdout_isatty and not (args.jsonl or args.plain or args.quiet)
                and args.count is None and args.duration is None)

    def _run_tui(self, capture: Capture) -> int:
        from httptap.ui.app import run_tui

        har = self.har
        if har is not None:
            saved = CaptureState(filter=self.filter)  # the UI keeps its own; this one saves

            def save(batch: list[Record]) -> None:
                for item in saved.apply(batch).timeline:  # a 101, then its messages
                    if isinstance(item, Exchange):
                        har.add(item)
                    else:
                        har.add_message(item.message, item.exchange)

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
            replay = ReplayCapture(exchanges)
            if self.sinks is not None:  # before start: a replay emits everything at once
                replay.subscribe(self.sinks)
            return replay.start()
        options = CaptureOptions(
            body_limit=args.body_limit,
            ring_kib=args.ring_kib,
            show_secrets=args.show_secrets,
            use_helper=True if args.helper else None,
        )
        capture = self.env.open_capture(args.pid, options)
        if self.sinks is not None:
            capture.subscribe(self.sinks)
        return capture

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
        done = self.tally.apply(batch)
        for rec in done.notable:
            self._say(rec)
        for item in done.timeline:
            if isinstance(item, Message):
                self._show_message(item)
            else:
                self._show(item)
        if self.tally.limit_reached:
            self._finished.set()
        if self._lines:
            text, self._lines = "".join(self._lines), []
            self.env.stdout.write(text)
            self.env.stdout.flush()

    def _done(self, deadline: float | None) -> bool:
        if self.tally.limit_reached:
            return True
        return deadline is not None and time.monotonic() >= deadline

    def _say(self, rec: Record) -> None:
        env = self.env
        if isinstance(rec, Ready):
            env.stderr.write(f"httptap: {rec.message} (Ctrl-C to stop)\n")
            env.stderr.flush()
        elif isinstance(rec, ProcessExit):
            more = f"; {rec.remaining} traced process(es) live on" if rec.remaining else ""
            env.stderr.write(f"httptap: process {rec.pid} exited{more}\n")
        elif isinstance(rec, Error):
            env.stderr.write(f"httptap: {rec.message}\n")
            if rec.remedy:
                env.stderr.write(f"httptap: {rec.remedy}\n")

    def _show(self, ex: Exchange) -> None:
        env = self.env
        if self.har is not None:
            self.har.add(ex)
        if self.args.quiet:
            return
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
        """A WebSocket message or SSE event, as it happens (the filter is applied already)."""
        if self.har is not None:
            self.har.add_message(rec.message, rec.exchange)
        if self.args.quiet:
            return
        if self.args.jsonl:
            self._lines.append(_JSON.encode(contract.message_to_dict(rec.message)) + "\n")
        else:
            width = self.env.columns if self.env.stdout_isatty else 80
            self._lines.append(format_message_line(rec.message, width) + "\n")

    def _hold_metrics(self) -> None:
        """``--open`` with ``--metrics``: keep serving the replayed metrics until stopped."""
        sinks = self.sinks
        if not (self.args.open and sinks is not None and sinks.metrics is not None):
            return
        self.env.stderr.write("httptap: replayed; serving metrics until Ctrl-C\n")
        self.env.stderr.flush()
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        while not self.stopping and not self._done(deadline):
            time.sleep(0.1)

    def _close_sinks(self, report: bool = True) -> None:
        sinks, self.sinks = self.sinks, None
        if sinks is None:
            return
        sinks.close()
        if report:
            for line in sinks.summary():
                self.env.stderr.write(f"httptap: {line}\n")

    def _close_har(self) -> None:
        if self.har is not None:
            self.har.close()
            self.har = None

    def _totals(self) -> None:
        s = self.tally.totals
        lost = self.tally.lost_events
        self.env.stderr.write(
            f"httptap: {self.tally.completed} exchange(s) shown, {s.exchanges} captured, "
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
