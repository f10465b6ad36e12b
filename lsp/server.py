"""``httptap-lsp``: the language server (pygls 2) that shows captured HTTP traffic beside code.

Custom requests for side panels, code lenses, hovers and diagnostics on routes and URL
literals; PROTOCOL.md documents the wire format. This module runs the capture and the editor
features; the side panel's read-only requests are in ``panel``, their parameters in
``params``. Capture runs through the engine API on the engine's own thread; its records
reach the event loop through ``RecordBridge``, so the server answers requests while
capturing. Notifications and editor refreshes are throttled.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import sys
from collections import OrderedDict
from functools import partial
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.workspace import TextDocument

from httptap import __version__
from httptap.engine.api import Capture, CaptureError, CaptureOptions
from httptap.engine.bridge import RecordBridge
from httptap.engine.processes import pid_exists
from httptap.model import Exchange
from httptap.records import Error, Record
from httptap.store import History

from . import lenses as _lenses
from .config import Settings
from .diagnostics import diagnostics as _diagnostics
from .documents import DocumentIndex, is_python, to_range
from .hovers import hover_markdown
from .panel import NO_SUCH_EXCHANGE, PanelRequests
from .params import as_command, as_request, filter_param, params_of
from .replay import capture_factory
from .state import PROTOCOL_VERSION, ServerState
from .summaries import summary
from .throttle import Throttle

log = logging.getLogger("httptap.lsp")

#: JSON-RPC error codes of the custom requests (PROTOCOL.md)
CAPTURE_FAILED = -32001
__all__ = ["CAPTURE_FAILED", "NO_SUCH_EXCHANGE", "HttptapServer", "create_server", "main"]

_OUTBOX_LIMIT = 500


class _Protocol(LanguageServerProtocol):
    """Adds ``capabilities.experimental.httptap`` (the custom protocol version) to initialize."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):  # type: ignore[no-untyped-def]
        result = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {
            "httptap": {
                "protocolVersion": PROTOCOL_VERSION,
                "requests": sorted(REQUESTS),
                "notifications": ["httptap/didCapture", "httptap/didChangeState"],
            }
        }
        return result


class HttptapServer(PanelRequests, LanguageServer):
    """The language server and the one capture it runs at a time."""

    def __init__(self) -> None:
        super().__init__("httptap-lsp", __version__, protocol_cls=_Protocol)
        self.settings = Settings()
        self.state = ServerState(History(self.settings.history_size))
        self.index = DocumentIndex()
        self._factory, self._replay = capture_factory()
        self._capture: Capture | None = None
        self._token: object | None = None
        self._attach_lock: asyncio.Lock | None = None
        self._outbox: OrderedDict[str, Exchange] = OrderedDict()
        self._skipped = 0
        self._published: dict[str, list[tuple[Any, ...]]] = {}
        self._notify = Throttle(self._flush_outbox, lambda: self.settings.notify_interval)
        self._refresh = Throttle(self._refresh_editor, lambda: self.settings.refresh_interval)
        atexit.register(self._stop_at_exit)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # expected failures (bad filter, attach refused) already reach the client as
        # responses; anything else is logged, not thrown at the user as a popup
        log.warning("httptap-lsp: %s", error)

    # -- custom requests --------------------------------------------------------------

    async def attach(self, params: Any) -> dict[str, Any]:
        """``httptap/attach {pid, filter?}``: start capturing (replacing any capture)."""
        p = params_of(params)
        pid = p.get("pid")
        if isinstance(pid, str) and pid.strip().isdigit():
            pid = int(pid)
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise JsonRpcInvalidParams(f"attach: 'pid' must be a positive integer, got {pid!r}")
        flt = filter_param(p.get("filter"))
        if self._replay is None and not pid_exists(pid):
            raise JsonRpcInvalidParams(f"attach: no process with pid {pid}")
        loop = asyncio.get_running_loop()
        if self._attach_lock is None:
            self._attach_lock = asyncio.Lock()
        async with self._attach_lock:
            await self._stop_capture()
            options = CaptureOptions(body_limit=self.settings.body_limit)
            try:
                # bcc compiles and attaches for seconds: never on the event loop
                cap = await loop.run_in_executor(None, self._factory, [pid], options)
            except CaptureError as exc:
                raise JsonRpcServerError(
                    f"attach to {pid} failed: {exc.message}", CAPTURE_FAILED, {"remedy": exc.remedy}
                ) from exc
            except Exception as exc:  # the engine's own failure: still the client's answer
                log.exception("httptap-lsp: attach to %s failed", pid)
                raise JsonRpcServerError(
                    f"attach to {pid} failed: {exc!r}",
                    CAPTURE_FAILED,
                    {"remedy": "run `httptap doctor`; the server log has the details"},
                ) from exc
            self.state.reset(pid, flt, self._replay)
            self._outbox.clear()
            self._skipped = 0
            token = object()
            self._capture, self._token = cap, token
            RecordBridge(
                cap,
                loop.call_soon_threadsafe,
                partial(self._deliver, token),
                partial(self._ended, token),
                name="httptap-lsp-bridge",
            ).start()
        self._state_changed()
        self._refresh.kick()
        return self.state.describe()

    async def detach(self, params: Any = None) -> dict[str, Any]:
        """``httptap/detach``: stop capturing; the history stays for browsing."""
        was = self._capture is not None
        await self._stop_capture()
        if was:
            self._state_changed()
        return {"detached": was, **self.state.describe()}

    # -- editor features --------------------------------------------------------------

    def code_lens(self, params: types.CodeLensParams) -> list[types.CodeLens]:
        """Lenses over the routes and URL literals of a document that have traffic."""
        doc = self.workspace.get_text_document(params.text_document.uri)
        if not is_python(doc) or not len(self.state.history):
            return []
        traffic = self.index.traffic(doc, self.state.history)
        return _lenses.code_lenses(doc.uri, traffic, partial(to_range, doc))

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        """The last few exchanges of the target(s) on the hovered line."""
        doc = self.workspace.get_text_document(params.text_document.uri)
        if not is_python(doc) or not len(self.state.history):
            return None
        line = params.position.line
        hit = [
            tt
            for tt in self.index.traffic(doc, self.state.history)
            if tt.exchanges and tt.target.line <= line <= tt.target.end_line
        ]
        if not hit:
            return None
        md = hover_markdown(hit, self.settings.hover_rows)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=md),
            range=to_range(doc, hit[0].target),
        )

    def publish(self, doc: TextDocument, *, force: bool = False) -> None:
        """Publish ``doc``'s diagnostics when they differ from what the client has."""
        if not is_python(doc):
            return
        traffic = self.index.traffic(doc, self.state.history)
        diags = _diagnostics(
            traffic,
            partial(to_range, doc),
            window=self.settings.diagnostic_window,
            slow_ms=self.settings.slow_ms,
        )
        key = [
            (d.range.start.line, d.range.start.character, d.range.end.line, d.code, d.message)
            for d in diags
        ]
        if not force and self._published.get(doc.uri, []) == key:
            return
        self._published[doc.uri] = key
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=diags, version=doc.version)
        )

    def forget(self, uri: str) -> None:
        """A document closed: clear its diagnostics and caches."""
        self.index.forget(uri)
        if self._published.pop(uri, None):
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def configure(self, options: Any) -> None:
        """Apply settings from the client."""
        changed = self.settings.update(options)
        if "history_size" in changed:
            self.state.history.resize(self.settings.history_size)
        if changed:
            self._refresh.kick()

    # -- records from the engine (on the loop) ---------------------------------------

    def _deliver(self, token: object, batch: list[Record]) -> None:
        if token is not self._token:
            return  # a late batch of a capture that was replaced
        changed, notable = self.state.apply(batch)
        for ex in changed:
            self._outbox[ex.id] = ex
            self._outbox.move_to_end(ex.id)
        while len(self._outbox) > _OUTBOX_LIMIT:
            self._outbox.popitem(last=False)
            self._skipped += 1
        if changed:
            self._notify.kick()
            self._refresh.kick()
        if notable:
            for rec in notable:
                if isinstance(rec, Error):
                    text = rec.message + (f" — {rec.remedy}" if rec.remedy else "")
                    self.window_show_message(
                        types.ShowMessageParams(type=types.MessageType.Error, message=text)
                    )
            self._state_changed()

    def _ended(self, token: object) -> None:
        if token is not self._token:
            return
        self._capture, self._token = None, None
        self.state.attached = False
        self._notify.kick()
        self._state_changed()

    def _flush_outbox(self) -> None:
        if not self._outbox:
            return
        batch = [summary(ex) for ex in self._outbox.values()]
        skipped, self._skipped = self._skipped, 0
        self._outbox.clear()
        self.protocol.notify(
            "httptap/didCapture",
            {
                "exchanges": batch,
                "skipped": skipped,
                "stored": len(self.state.history),
                "pending": self.state.history.pending_count,
            },
        )

    def _refresh_editor(self) -> None:
        caps = self.client_capabilities
        ws = caps.workspace if caps is not None else None
        if ws is not None and ws.code_lens is not None and ws.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)
        for doc in list(self.workspace.text_documents.values()):
            self.publish(doc)

    def _state_changed(self) -> None:
        self.protocol.notify("httptap/didChangeState", self.state.describe())

    async def _stop_capture(self) -> None:
        cap, self._capture, self._token = self._capture, None, None
        self.state.attached = False
        if cap is not None:
            await asyncio.get_running_loop().run_in_executor(None, cap.stop)

    def _stop_at_exit(self) -> None:
        if self._capture is not None:
            self._capture.request_stop()

REQUESTS = {
    "httptap/processes": "processes",
    "httptap/attach": "attach",
    "httptap/detach": "detach",
    "httptap/exchanges": "exchanges",
    "httptap/exchange": "exchange",
    "httptap/stats": "stats",
    "httptap/har": "har",
}


def create_server() -> HttptapServer:
    """A server with every feature, request and command registered."""
    server = HttptapServer()

    for method, name in REQUESTS.items():
        server.feature(method)(as_request(getattr(server, name)))
        server.command(method.replace("/", "."))(as_command(getattr(server, name)))
    server.command(_lenses.SHOW_COMMAND)(as_command(server.exchanges))

    @server.feature(types.INITIALIZE)
    def _initialize(params: types.InitializeParams) -> None:
        server.configure(params.initialization_options)

    @server.feature(types.SHUTDOWN)
    async def _shutdown(*_args: Any) -> None:
        await server._stop_capture()

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def _code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
        return server.code_lens(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def _hover(params: types.HoverParams) -> types.Hover | None:
        return server.hover(params)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def _did_open(params: types.DidOpenTextDocumentParams) -> None:
        if len(server.state.history):
            server.publish(server.workspace.get_text_document(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def _did_change(params: types.DidChangeTextDocumentParams) -> None:
        if len(server.state.history) or params.text_document.uri in server._published:
            server.publish(server.workspace.get_text_document(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def _did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.forget(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def _did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        server.configure(params.settings)

    return server



def main(argv: list[str] | None = None) -> int:
    """Run the server on stdio (default) or TCP."""
    ap = argparse.ArgumentParser(
        prog="httptap-lsp",
        description="Language server that shows a process's HTTP traffic beside its code "
        "(protocol: lsp/PROTOCOL.md).",
    )
    ap.add_argument("--stdio", action="store_true", help="talk LSP on stdin/stdout (default)")
    ap.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio")
    ap.add_argument("--host", default="127.0.0.1", help="TCP address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    ap.add_argument("--log-file", help="write the server's log here")
    ap.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    args = ap.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    # stdout carries the protocol: logs go to stderr or a file, never stdout
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(level=level, handlers=[handler])
    server = create_server()
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
