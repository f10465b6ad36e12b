"""The ``%httptap`` line magic: start captures, list, show and stop them."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import threading
from collections.abc import Sequence
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from httptap import argtypes, options
from httptap.engine.api import Capture, CaptureError, CaptureOptions

from .errors import AttachError
from .handle import DEFAULT_KEEP, CaptureHandle
from .privilege import can_prompt_in_terminal, open_with_privileges
from .registry import Registry

_COMMANDS = ("list", "show", "stop")
_SHOW_ROWS = 50
_CAPTURE_ONLY = (
    "filter", "duration", "count", "save", "force", "show_secrets", "background", "helper",
    "otlp", "metrics",
)


def _shared(option: options.Option, *short: str) -> Any:
    """IPython's ``@argument`` for one of the shared options (``httptap.options``)."""
    flags, kwargs = option.spec(*short)
    return argument(*flags, **kwargs)


def _open_capture(pids: Sequence[int], options: CaptureOptions, *, can_prompt: bool) -> Capture:
    """Attach through the engine API (tests replace this with a fake capture)."""
    return open_with_privileges(pids, options, can_prompt=can_prompt)


def _in_kernel(shell: Any) -> bool:
    """True inside a Jupyter (ZMQ) kernel, where the magic must return at once."""
    return any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__)


@magics_class
class HttptapMagics(Magics):
    """``%httptap``; holds the captures this shell started (``registry``)."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.registry = Registry()
        self.views: list[Any] = []  # live notebook views, kept for tests and shutdown

    @magic_arguments()
    @argument(
        "target",
        nargs="+",
        metavar="PID",
        help="process(es) to capture (children are followed); or a command: "
        "`list` (the captures), `show [PID]` (a snapshot table), `stop [PID]` (end captures; "
        "all without a PID)",
    )
    @_shared(options.FILTER)
    @_shared(options.DURATION, "-d")
    @_shared(options.COUNT, "-n")
    @_shared(options.BODY_LIMIT)
    @_shared(options.SHOW_SECRETS)
    @argument("--background", "-b", action="store_true",
              help="capture without the live table (terminal and Jupyter); "
              "`%%httptap show` prints a snapshot")
    @argument("--save", metavar="FILE.har",
              help="also write each exchange to a HAR file as it completes")
    @argument("--force", action="store_true", help="overwrite an existing --save file")
    @argument("--helper", action="store_true",
              help="capture through httptap-helper even when running as root")
    @argument("--otlp", nargs="?", const="", default=None, metavar="URL",
              help="also send every exchange as a span over OTLP/HTTP to URL/v1/traces "
              "(no URL: $OTEL_EXPORTER_OTLP_ENDPOINT); needs pip install 'httptap[export]'")
    @argument("--metrics", metavar="ADDR:PORT",
              help="also serve Prometheus metrics on http://ADDR:PORT/metrics while the "
              "capture runs; needs pip install 'httptap[export]'")
    @argument("--keep", type=argtypes.positive_int, default=DEFAULT_KEEP, metavar="N",
              help=f"completed exchanges kept in the handle (default {DEFAULT_KEEP}; "
              "older ones are dropped and counted)")
    @line_magic
    def httptap(self, line: str = "") -> CaptureHandle | None:
        """Capture a running process's HTTP traffic, live, and return a handle to it.

        In a terminal the live table holds the prompt until Ctrl-C (the capture goes on in
        the background), --duration or --count (the capture ends). In Jupyter the table
        updates in the cell's output while other cells run. The handle has .exchanges,
        .pending, .filter(expr), .table(n=20), .to_har(path), .to_jsonl(path),
        .to_dataframe(), .stats, .running and .stop().

        Examples::

            cap = %httptap 1234
            cap = %httptap 1234 --filter 'status>=400' --save errors.har
            %httptap 1234 5678 --background --duration 60
            %httptap list
            %httptap show 1234
            %httptap stop
        """
        argv = _split(line)
        if argv[:1] in (["-h"], ["--help"]):
            print(self.httptap.__doc__)
            return None
        args = self._parse(argv)
        command = args.target[0]
        if command in _COMMANDS:
            self._no_capture_options(args, command)
            pid = self._command_pid(args.target[1:], command)
            getattr(self, f"_cmd_{command}")(pid)
            return None
        return self._start(args)

    def _parse(self, argv: list[str]) -> argparse.Namespace:
        if not argv:
            raise UsageError("give a PID: %httptap PID [options]  (%httptap? for help)")
        args, extra = self.httptap.parser.parse_known_args(argv)  # errors are UsageErrors
        if extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}{_quote_hint(args)}")
        return args

    # -- commands ----------------------------------------------------------------------------

    def _cmd_list(self, _pid: int | None) -> None:
        if not self.registry.handles:
            print("httptap: no captures yet; start one with %httptap PID")
            return
        _display(self.registry.table())

    def _cmd_show(self, pid: int | None) -> None:
        handles = self.registry.select(pid)[::-1]
        if not handles:
            print(_none_message(pid, running=False))
            return
        for h in handles:
            _display(h.table(_SHOW_ROWS))

    def _cmd_stop(self, pid: int | None) -> None:
        handles = [h for h in self.registry.select(pid) if h.running]
        if not handles:
            print(_none_message(pid, running=True))
            return
        for h in handles:
            h.request_stop()  # detach all at once, then wait for each
        for h in handles:
            h.stop()
            print(f"httptap: {h.title()} stopped: {h.summary()}")

    def _no_capture_options(self, args: argparse.Namespace, command: str) -> None:
        given = [
            "--" + name.replace("_", "-") for name in _CAPTURE_ONLY if getattr(args, name)
        ]
        if given:
            raise UsageError(f"%httptap {command} takes no {', '.join(given)}")

    @staticmethod
    def _command_pid(rest: list[str], command: str) -> int | None:
        if command == "list" and rest:
            raise UsageError("%httptap list takes no arguments")
        if len(rest) > 1:
            raise UsageError(f"%httptap {command} takes at most one PID")
        return _parse_pid(rest[0]) if rest else None

    # -- starting a capture --------------------------------------------------------------------

    def _start(self, args: argparse.Namespace) -> CaptureHandle:
        pids = list(dict.fromkeys(_parse_pid(t, _quote_hint(args)) for t in args.target))
        from httptap.filter import FilterError, compile_filter

        try:
            flt = compile_filter(args.filter)
        except FilterError as exc:
            # IPython shows it as "UsageError: <message>": the caret counts that lead
            raise UsageError(exc.render("UsageError: ")) from None
        sinks = _open_sinks(args, flt)  # export: checked before attaching
        har = self._open_har(args.save, args.force)
        options = CaptureOptions(
            body_limit=args.body_limit,
            show_secrets=args.show_secrets,
            use_helper=True if args.helper else None,  # None: in-process when root
        )
        kernel = _in_kernel(self.shell)
        can_prompt = not kernel and can_prompt_in_terminal()
        try:
            capture = _open_capture(pids, options, can_prompt=can_prompt)
        except CaptureError as exc:
            _discard_har(har)
            _close_sinks(sinks)
            raise AttachError(exc.message, exc.remedy) from None
        except BaseException:  # Ctrl-C while attaching
            _discard_har(har)
            _close_sinks(sinks)
            raise
        if sinks is not None:
            capture.subscribe(sinks)
        handle = CaptureHandle(
            capture,
            pids,
            number=self.registry.next_number(),
            options=options,
            filter=None if flt.empty else flt,
            count=args.count,
            duration=args.duration,
            keep=args.keep,
            har=har,
        ).start()
        self.registry.add(handle)
        if sinks is not None:  # flushed and stopped when the capture ends
            threading.Thread(target=_close_sinks, args=(sinks, handle), daemon=True).start()
        if args.background:
            print(
                f"httptap: {handle.title()}: capturing in the background "
                "(.table(), %httptap show, %httptap stop)"
            )
        elif kernel:
            from .notebook import NotebookView

            self.views.append(NotebookView(handle).start())
        else:
            self._hold_terminal(handle)
        return handle

    @staticmethod
    def _open_har(path: str | None, force: bool) -> Any:
        if not path:
            return None
        from httptap.export.har import HarWriter

        try:
            return HarWriter(path, force=force)
        except FileExistsError:
            raise UsageError(f"{path} already exists; add --force to overwrite it") from None
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None

    def _hold_terminal(self, handle: CaptureHandle) -> None:
        from .live import LiveView

        why = LiveView(handle).run()
        if why == "interrupted":
            print(
                f"httptap: {handle.title()} goes on in the background: "
                "%httptap show for a snapshot, %httptap stop (or .stop()) to end it",
                file=sys.stderr,
            )

    # -- unload and shutdown -------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every capture this shell started (``%unload_ext``, interpreter exit)."""
        self.registry.stop_all()
        for view in self.views:
            view.join(2.0)
        self.views.clear()


def _split(line: str) -> list[str]:
    # IPython's parse_argstring splits like a non-POSIX shell and keeps the quotes
    # ('status>=400' would reach the filter quoted): split as a POSIX shell does instead.
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot split the arguments: {exc}") from None


def _parse_pid(text: str, hint: str = "") -> int:
    try:
        pid = int(text)
    except ValueError:
        pid = 0
    if pid <= 0:
        raise UsageError(
            f"not a PID: {text!r} (give a PID, or one of: list, show [PID], stop [PID]){hint}"
        )
    return pid


def _quote_hint(args: argparse.Namespace) -> str:
    """A stray word after --filter is most likely an unquoted filter with spaces."""
    if not args.filter:
        return ""
    return "\n(a filter with spaces needs quotes: --filter 'status>=400 and method=POST')"


def _open_sinks(args: argparse.Namespace, flt: Any) -> Any:
    if args.otlp is None and args.metrics is None:
        return None
    from httptap.export.sinks import ExportSetupError, open_sinks

    try:
        sinks = open_sinks(args.otlp or None, args.metrics, live=True,
                           otlp_enabled=args.otlp is not None,
                           show_secrets=args.show_secrets, keep=flt.matches)
    except ExportSetupError as exc:
        raise UsageError(str(exc)) from None
    if sinks.metrics_url:
        print(f"httptap: serving metrics on {sinks.metrics_url}")
    return sinks


def _close_sinks(sinks: Any, handle: CaptureHandle | None = None) -> None:
    if sinks is None:
        return
    if handle is not None:
        handle.wait()
    sinks.close()
    if handle is not None:
        for line in sinks.summary():
            print(f"httptap: {handle.title()}: {line}", file=sys.stderr)


def _discard_har(har: Any) -> None:
    if har is not None:
        har.close()
        with contextlib.suppress(OSError):
            os.unlink(har.path)  # we created it; an empty HAR would only mislead


def _none_message(pid: int | None, running: bool) -> str:
    what = "running capture" if running else "capture"
    if pid is None:
        return f"httptap: no {what}"
    return f"httptap: no {what} of PID {pid}"


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)
