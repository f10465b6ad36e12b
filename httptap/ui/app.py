"""The terminal UI: a network tab in the terminal (``httptap --pid N`` on a terminal).

``run_tui(capture, title=...)`` runs the app over a started capture until the user quits.
The app consumes only the engine API's records: ``RecordBridge`` drains them on its thread
and posts batches to the UI loop with a thread-safe, non-blocking message; the UI folds every
record that arrived since the last update into its ``CaptureState`` in one go, at most
``FLUSH_HZ`` times a second, so a burst of a thousand exchanges is one redraw.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import os
import re
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer

from httptap.engine.api import Capture
from httptap.engine.bridge import RecordBridge
from httptap.engine.replay import ReplayCapture
from httptap.filter import Filter, FilterError, compile_filter
from httptap.model import Exchange
from httptap.present.body import decode_response
from httptap.records import Error, ProcessExit, Ready, Record, Stats
from httptap.store import CaptureState, History
from httptap.ui.curl import curl_command, needs_body_file
from httptap.ui.detail import DetailScreen
from httptap.ui.exchange_list import ColumnHeader, ExchangeList
from httptap.ui.filter_bar import FilterBar
from httptap.ui.pager import Runner, show_in_pager
from httptap.ui.prompt import PathPrompt
from httptap.ui.rate import RateMeter
from httptap.ui.status_bar import Status, StatusBar
from httptap.ui.view import ExchangeView

if TYPE_CHECKING:
    from httptap.content.proto_schema import ProtoSchemas

#: Screen updates per second at most while records stream in.
FLUSH_HZ = 20
#: Delay from the first record of a burst to the screen update that shows it.
COALESCE_S = 0.01
EXIT_OK = 0
EXIT_FAILED = 1
_LIST_ONLY = frozenset({"filter", "clear", "follow", "save", "copy_curl", "pager", "pause"})


class LoopCall(Message):
    """Run ``fn`` on the UI loop (posted from the bridge's thread)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.fn = fn


class HttptapApp(App[int]):
    """The list of exchanges, status bar, filter, detail view, pager, HAR save, curl copy."""

    TITLE = "httptap"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    Screen { layout: vertical; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("p", "pause", "Pause"),
        Binding("c", "clear", "Clear"),
        Binding("s", "save", "Save HAR"),
        Binding("f", "follow", "Follow"),
        Binding("y", "copy_curl", "Curl"),
        Binding("o,v", "pager", "Pager", show=False),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        capture: Capture,
        *,
        title: str,
        filter_text: str = "",
        history: int = 10_000,
        workdir: str | None = None,
        handle_signals: bool = False,
        schemas: ProtoSchemas | None = None,
    ) -> None:
        super().__init__()
        self.capture = capture
        self.schemas = schemas  # --proto: gRPC messages decoded by name in the detail view
        self.target = title
        kept = History(history)
        self.capture_state = CaptureState(kept)
        self.store = ExchangeView(kept)  # the list's filtered view of the history
        self.filter_text = ""
        self.workdir = workdir or os.getcwd()
        self.rate = RateMeter()
        self.flushes = 0
        self.state = "loaded" if isinstance(capture, ReplayCapture) else "live"
        self.pager_runner: Runner | None = None  # tests replace the pager process
        self._initial_filter = filter_text
        self._handle_signals = handle_signals
        self._bridge = RecordBridge(capture, self._post, self._receive, self._capture_ended,
                                    name="httptap-ui-bridge")
        self._inbox: list[Record] = []
        self._bridge_ended = False
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        self._ended = False
        # Held directly: app.query_one would search the detail screen while it is open.
        self.exchange_list = ExchangeList(self.store, id="list")
        self.filter_bar = FilterBar(id="filter-bar")
        self.status_bar = StatusBar(id="status")

    # -- layout -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The list's actions mean nothing over the detail view (it has its own o, y, q).
        return not (action in _LIST_ONLY and isinstance(self.screen, DetailScreen | PathPrompt))

    def compose(self) -> ComposeResult:
        yield ColumnHeader()
        yield self.exchange_list
        yield self.filter_bar
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        self.exchange_list.focus()
        if self._initial_filter:
            try:
                self._apply_filter(self._initial_filter)
            except FilterError:
                self.filter_bar.open(self._initial_filter)  # shows the caret error
        if self._handle_signals:
            self._install_signals()
        self._bridge.start()
        self.set_interval(0.5, self._tick)
        self._update_status()

    def on_unmount(self) -> None:
        # No join: the bridge may sit in a poll for a moment, and it only posts messages,
        # which a closed app ignores.
        self._bridge.stop(wait=False)

    # -- records ------------------------------------------------------------------------

    def _say(self, message: str, **kwargs: Any) -> None:
        # Messages carry paths and engine text: never parse them as Textual markup.
        self.notify(message, markup=False, **kwargs)

    @property
    def stats(self) -> Stats:
        """The engine's latest running totals."""
        return self.capture_state.totals

    @property
    def lost(self) -> int:
        """The sum of Lost records (``Stats.lost`` is the engine's own total)."""
        return self.capture_state.lost

    @property
    def error(self) -> Error | None:
        """The capture's error, if it failed."""
        return self.capture_state.error

    def _post(self, fn: Callable[[], None]) -> None:
        # Called on the bridge's thread: post_message is thread-safe and returns at once,
        # so the engine side never waits for the screen (call_from_thread would).
        self.post_message(LoopCall(fn))

    def on_loop_call(self, message: LoopCall) -> None:
        message.fn()

    def _receive(self, batch: list[Record]) -> None:
        self._inbox.extend(batch)
        if self._flush_timer is not None:
            return  # an update is already due; it takes everything that arrived
        # Wait a moment even when idle: the bridge may still be moving the rest of a burst.
        delay = max(self._last_flush + 1 / FLUSH_HZ - time.monotonic(), COALESCE_S)
        self._flush_timer = self.set_timer(delay, self._flush)

    def _capture_ended(self) -> None:
        self._bridge_ended = True
        if self._flush_timer is not None:
            self._flush_timer.stop()
        self._flush()

    def _flush(self) -> None:
        self._flush_timer = None
        self._last_flush = time.monotonic()
        batch, self._inbox = self._inbox, []
        if batch:
            self.apply(batch)
        if self._bridge_ended and not self._ended:
            self._on_capture_end()

    def apply(self, batch: list[Record]) -> None:
        """Fold a batch of records: rows, counters, notifications; then one redraw."""
        self.flushes += 1
        done = self.capture_state.apply(batch)
        for rec in done.notable:
            if isinstance(rec, Ready):
                if rec.message:
                    self._say(rec.message, timeout=3)
            elif isinstance(rec, ProcessExit) and rec.pid in self.capture_state.pids:
                # a target's exit is news; its children come and go (a shell loop forks
                # hundreds), so the status bar counts them instead
                more = f"; {rec.remaining} traced process(es) left" if rec.remaining else ""
                self._say(f"process {rec.pid} exited{more}", severity="warning", timeout=5)
            elif isinstance(rec, Error):
                self.state = "error"
                text = rec.message + (f"\n{rec.remedy}" if rec.remedy else "")
                self._say(text, title="capture error", severity="error", timeout=30)
        self.rate.add(len(done.completed))
        self.store.update(done.changed, done.removed)
        self.exchange_list.sync()
        self._refresh_detail({e.ex.id: e.ex for e in done.changed})
        self._update_status()

    def _refresh_detail(self, changed: dict[str, Exchange]) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, DetailScreen) and screen.exchange.id in changed:
                new = changed[screen.exchange.id]
                if new is not screen.exchange and (new.complete or not screen.exchange.complete):
                    screen.update_exchange(new)
                elif new is screen.exchange:  # its messages go on
                    screen.sync_messages()

    def _on_capture_end(self) -> None:
        self._ended = True
        if self.state == "live":
            self.state = "ended"
            self._say("capture ended: browse on, q to quit", timeout=5)
        elif self.state == "loaded":
            self._say(f"{len(self.store) + self.store.dropped} exchange(s) loaded", timeout=3)
        self._update_status()

    def _tick(self) -> None:
        self._update_status()

    def _update_status(self) -> None:
        lst = self.exchange_list
        self.status_bar.show(Status(
            target=self.target,
            shown=self.store.shown,
            total=len(self.store),
            rate=0.0 if self.state == "loaded" else self.rate.rate(),
            lost=max(self.lost, self.stats.lost),
            dropped=self.store.dropped,
            filter_text=self.filter_text,
            follow=lst.follow,
            paused=self.store.paused,
            held=self.store.held,
            exited=len(self.capture_state.exited),
            state=self.state,
        ))

    def on_exchange_list_follow_changed(self, _message: ExchangeList.FollowChanged) -> None:
        self._update_status()

    def on_exchange_list_selected(self, message: ExchangeList.Selected) -> None:
        self.push_screen(DetailScreen(message.exchange, schemas=self.schemas))

    # -- filter -------------------------------------------------------------------------

    def _apply_filter(self, text: str) -> None:
        self._set_filter(compile_filter(text))

    def _set_filter(self, flt: Filter) -> None:
        self.filter_text = "" if flt.empty else flt.text.strip()
        self.store.set_matcher(None if flt.empty else flt.matches)
        self.exchange_list.sync(reveal=True)
        self._update_status()

    def action_filter(self) -> None:
        self.filter_bar.open(self.filter_text)

    def on_filter_bar_applied(self, message: FilterBar.Applied) -> None:
        self._set_filter(message.filter)

    def on_filter_bar_closed(self, _message: FilterBar.Closed) -> None:
        self.exchange_list.focus()

    # -- list actions -------------------------------------------------------------------

    def action_pause(self) -> None:
        paused = not self.store.paused
        self.store.set_paused(paused)
        if not paused:
            self.exchange_list.sync()
        self._update_status()

    def action_clear(self) -> None:
        self.store.clear()
        self.rate.reset()
        self.exchange_list.sync()
        self._update_status()

    def action_follow(self) -> None:
        lst = self.exchange_list
        lst.follow = not lst.follow

    def action_copy_curl(self) -> None:
        ex = self.exchange_list.selected
        if ex is None:
            self._say("no exchange selected", severity="warning", timeout=3)
            return
        self.copy_curl(ex)

    def action_pager(self) -> None:
        ex = self.exchange_list.selected
        if ex is None:
            self._say("no exchange selected", severity="warning", timeout=3)
            return
        self.show_in_pager(decode_response(ex, self.schemas).text, "response")

    def show_in_pager(self, text: str, name: str) -> None:
        """Page ``text`` in $PAGER and come back; says why when it cannot."""
        error = show_in_pager(self, text, name, run=self.pager_runner)
        if error:
            self._say(error, severity="warning", timeout=5)

    def copy_curl(self, ex: Exchange) -> str | None:
        """Copy ``ex``'s request as curl to the clipboard and to a file; returns the path."""
        base = os.path.join(self.workdir, f"httptap-curl-{_safe(ex.id)}")
        body_path = None
        try:
            if needs_body_file(ex):
                body_path = base + ".body"
                with open(body_path, "wb") as fh:
                    fh.write(ex.request.body.data)
            command = curl_command(ex, body_path)
            with open(base + ".sh", "w", encoding="utf-8") as fh:
                fh.write(command)
        except OSError as exc:
            self._say(f"cannot write the curl command: {exc}", severity="error")
            return None
        # OSC 52: the terminal puts it on the clipboard if it allows (most do, not all).
        self.copy_to_clipboard(command)
        self._say(f"curl command copied to the clipboard (OSC 52) and saved to {base}.sh",
                    timeout=5)
        return base + ".sh"

    # -- save ---------------------------------------------------------------------------

    def action_save(self) -> None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        default = os.path.join(self.workdir, f"httptap-{stamp}.har")
        if self.workdir == os.getcwd():
            default = os.path.basename(default)
        n = self.store.shown
        self.push_screen(PathPrompt(f"Save {n} shown exchange(s) as HAR to:", default),
                         self._save_chosen)

    def _save_chosen(self, result: tuple[str, bool] | None) -> None:
        if result is None:
            return
        path, overwrite = result
        if not os.path.isabs(path):
            path = os.path.join(self.workdir, path)
        exchanges = self.store.shown_exchanges()
        self.run_worker(lambda: self._write_har(path, overwrite, exchanges), thread=True,
                        name="save-har", group="save")

    def _write_har(self, path: str, overwrite: bool, exchanges: list[Exchange]) -> None:
        from httptap.export.har import HarWriter

        try:
            with HarWriter(path, force=overwrite) as writer:
                for ex in exchanges:
                    writer.add(ex)
        except (OSError, ValueError) as exc:
            self.call_from_thread(self._say, f"save failed: {exc}", severity="error")
            return
        self.call_from_thread(self._say, f"saved {len(exchanges)} exchange(s) to {path}",
                              timeout=5)

    # -- quitting -----------------------------------------------------------------------

    @property
    def exit_status(self) -> int:
        """1 when the capture failed before showing anything, else 0."""
        if self.error is not None and self.capture_state.received == 0 and self.state != "loaded":
            return EXIT_FAILED
        return EXIT_OK

    async def action_quit(self) -> None:
        self.exit(self.exit_status)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, lambda: self.exit(self.exit_status))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:64] or "request"


def run_tui(
    capture: Capture,
    *,
    title: str,
    filter_text: str = "",
    history: int = 10_000,
    schemas: ProtoSchemas | None = None,
) -> int:
    """Run the terminal UI over a started ``capture`` until the user quits; the exit status.

    ``title`` names what is captured (``"PID 1234 (python3)"``, ``"run.har"``); a bad
    ``filter_text`` opens the UI with the filter prompt showing the error. At most
    ``history`` exchanges are kept (the oldest are dropped and counted). ``schemas``
    (``--proto``) decode gRPC messages by name in the detail view. The capture is
    stopped when the UI ends. The UI drains ``capture.records()``: nothing else should.
    """
    app = HttptapApp(capture, title=title, filter_text=filter_text, history=history,
                     handle_signals=True, schemas=schemas)
    status: int | None = None
    try:
        status = app.run()
    finally:
        capture.request_stop()
        _stop_quietly(capture.stop)
    if status is None:  # the app failed (Textual has printed why)
        return app.return_code or EXIT_FAILED
    return status


def _stop_quietly(stop: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):
        stop()
