"""``httptap-lsp``: the language server (pygls 2) that shows captured HTTP traffic beside code.

Custom requests for side panels, code lenses, hovers and diagnostics on routes and URL
literals; PROTOCOL.md documents the wire format. Capture runs through the engine API on the
engine's own thread; its records reach the event loop through ``RecordPump``, so the server
answers requests while capturing. Notifications and editor refreshes are throttled.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import sys
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from httptap import __version__
from httptap.engine.api import Capture, CaptureError, CaptureOptions
from httptap.engine.processes import candidates, pid_exists
from httptap.export.har import CREATOR, HAR_VERSION, exchange_to_har_entry
from httptap.filter import Filter, FilterError, compile_filter
from httptap.model import Exchange
from httptap.records import Error, Record

from . import lenses as _lenses
from .config import Settings
from .diagnostics import diagnostics as _diagnostics
from .documents import DocumentIndex, is_python, to_range
from .history import History
from .hovers import hover_markdown
from .pump import RecordPump
from .replay import capture_factory
from .state import PROTOCOL_VERSION, CaptureState
from .summaries import DETAIL_BODY_LIMIT, detail, summary

log = logging.getLogger("httptap.lsp")

#: JSON-RPC error codes of the custom requests (PROTOCOL.md)
CAPTURE_FAILED = -32001
NO_SUCH_EXCHANGE = -32002

_OUTBOX_LIMIT = 500
_PAGE_LIMIT = 1000


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


class _Throttle:
    """Calls ``fn`` on the loop at most once per ``interval`` seconds, however often kicked."""

    def __init__(self, fn: Callable[[], None], interval: Callable[[], float]) -> None:
        self._fn = fn
        self._interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._last = 0.0

    def kick(self) -> None:
        if self._handle is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last + self._interval() - loop.time())
        self._handle = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._last = asyncio.get_running_loop().time()
        try:
            self._fn()
        except Exception:  # a failed refresh must not stop later ones
            log.exception("httptap-lsp: periodic update failed")


class HttptapServer(LanguageServer):
    """The language server and the one capture it runs at a time."""

    def __init__(self) -> None:
        super().__init__("httptap-lsp", __version__, protocol_cls=_Protocol)
        self.settings = Settings()
        self.state = CaptureState(History(self.settings.history_size))
        self.index = DocumentIndex()
        self._factory, self._replay = capture_factory()
        self._capture: Capture | None = None
        self._token: object | None = None
        self._attach_lock: asyncio.Lock | None = None
        self._outbox: OrderedDict[str, Exchange] = OrderedDict()
        self._skipped = 0
        self._published: dict[str, list[tuple[Any, ...]]] = {}
        self._notify = _Throttle(self._flush_outbox, lambda: self.settings.notify_interval)
        self._refresh = _Throttle(self._refresh_editor, lambda: self.settings.refresh_interval)
        atexit.register(self._stop_at_exit)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # expected failures (bad filter, attach refused) already reach the client as
        # responses; anything else is logged, not thrown at the user as a popup
        log.warning("httptap-lsp: %s", error)

    # -- custom requests --------------------------------------------------------------

    async def processes(self, params: Any) -> dict[str, Any]:
        """``httptap/processes``: candidate pids for attach."""
        p = _params(params)
        folders = self._folders()
        # walking /proc takes tens of milliseconds: off the loop
        found = await asyncio.get_running_loop().run_in_executor(
            None, partial(candidates, folders, everything=bool(p.get("all")))
        )
        return {"folders": folders, "processes": found}

    async def attach(self, params: Any) -> dict[str, Any]:
        """``httptap/attach {pid, filter?}``: start capturing (replacing any capture)."""
        p = _params(params)
        pid = p.get("pid")
        if isinstance(pid, str) and pid.strip().isdigit():
            pid = int(pid)
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise JsonRpcInvalidParams(f"attach: 'pid' must be a positive integer, got {pid!r}")
        flt = _compile(p.get("filter"))
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
            RecordPump(
                cap, loop, partial(self._deliver, token), partial(self._ended, token)
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

    def exchanges(self, params: Any) -> dict[str, Any]:
        """``httptap/exchanges {filter?, offset, limit, uri?, line?}``: summaries, newest first."""
        p = _params(params)
        flt = _compile(p.get("filter"))
        offset = _int(p.get("offset"), 0, "offset")
        limit = min(_int(p.get("limit"), 100, "limit"), _PAGE_LIMIT)
        items: Any = self.state.history.newest_first()
        if p.get("uri") is not None:
            ids = self._target_ids(str(p["uri"]), _int(p.get("line"), 0, "line"))
            items = (ex for ex in items if ex.id in ids)
        if flt is not None:
            items = (ex for ex in items if flt.matches(ex))
        matched = list(items)
        page = matched[offset : offset + limit]
        return {
            "total": len(matched),
            "offset": offset,
            "stored": len(self.state.history),
            "exchanges": [summary(ex) for ex in page],
        }

    def exchange(self, params: Any) -> dict[str, Any]:
        """``httptap/exchange {id, bodyLimit?}``: one exchange in full, bodies decoded."""
        p = _params(params)
        ex_id = p.get("id")
        ex = self.state.history.get(str(ex_id)) if ex_id is not None else None
        if ex is None:
            raise JsonRpcServerError(
                f"no exchange with id {ex_id!r} (evicted, or from an earlier capture)",
                NO_SUCH_EXCHANGE,
            )
        limit = _int(p.get("bodyLimit"), DETAIL_BODY_LIMIT, "bodyLimit") or DETAIL_BODY_LIMIT
        return detail(ex, limit)

    def har(self, params: Any) -> dict[str, Any]:
        """``httptap/har {filter?, uri?, line?, ids?}``: stored exchanges as a HAR 1.2 log.

        Oldest first, pending ones included (status 0), built by the exporter of
        ``httptap --save`` (raw bodies, ``_httptap`` details), so the file loads back.
        """
        p = _params(params)
        flt = _compile(p.get("filter"))
        ids = p.get("ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise JsonRpcInvalidParams("'ids' must be a list of strings")
        items = [ex for _key, ex in self.state.history.entries()]
        if p.get("uri") is not None:
            targets = self._target_ids(str(p["uri"]), _int(p.get("line"), 0, "line"))
            items = [ex for ex in items if ex.id in targets]
        if ids is not None:
            wanted = set(ids)
            items = [ex for ex in items if ex.id in wanted]
        if flt is not None:
            items = [ex for ex in items if flt.matches(ex)]
        return {
            "log": {
                "version": HAR_VERSION,
                "creator": {"name": CREATOR, "version": __version__},
                "pages": [],
                "entries": [exchange_to_har_entry(ex) for ex in items],
            }
        }

    def stats(self, params: Any = None) -> dict[str, Any]:
        """``httptap/stats``: attach state and totals."""
        return {**self.state.describe(), "settings": self.settings.as_dict()}

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
                "pending": self.state.history.pending(),
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

    def _folders(self) -> list[str]:
        ws = self.workspace
        uris = [f.uri for f in ws.folders.values()] if ws.folders else []
        if not uris and ws.root_uri:
            uris = [ws.root_uri]
        return [p for u in uris if (p := to_fs_path(u))]

    def _target_ids(self, uri: str, line: int) -> set[str]:
        doc = self.workspace.get_text_document(uri)
        return {
            ex.id
            for tt in self.index.traffic(doc, self.state.history)
            if tt.target.line <= line <= tt.target.end_line
            for ex in tt.exchanges
        }


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
        server.feature(method)(_request(getattr(server, name)))
        server.command(method.replace("/", "."))(_command(getattr(server, name)))
    server.command(_lenses.SHOW_COMMAND)(_command(server.exchanges))

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


def _request(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A custom-request handler (pygls tags handlers with attributes: no bound methods)."""
    if asyncio.iscoroutinefunction(fn):

        async def run_async(params: Any) -> Any:
            return await fn(params)

        return run_async

    def run(params: Any) -> Any:
        return fn(params)

    return run


def _command(fn: Callable[[Any], Any]) -> Callable[..., Any]:
    """A ``workspace/executeCommand`` handler: one object argument, or positional values."""

    async def run(*args: Any) -> Any:
        args = tuple(_plain(a) for a in args)
        if len(args) == 1 and isinstance(args[0], dict):
            params: Any = args[0]
        elif fn.__name__ == "attach":
            params = {"pid": args[0] if args else None}
            if len(args) > 1:
                params["filter"] = args[1]
        elif fn.__name__ == "exchange":
            params = {"id": args[0] if args else None}
        else:
            params = {}
        result = fn(params)
        return await result if asyncio.iscoroutine(result) else result

    return run


def _params(params: Any) -> dict[str, Any]:
    params = _plain(params)
    if params is None:
        return {}
    if isinstance(params, dict):
        return params
    raise JsonRpcInvalidParams(f"params must be an object, got {type(params).__name__}")


def _plain(value: Any) -> Any:
    """pygls hands over custom params as namedtuples: back to plain JSON values."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _compile(text: Any) -> Filter | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise JsonRpcInvalidParams("'filter' must be a string")
    try:
        return compile_filter(text)
    except FilterError as exc:
        # str(exc) is the caret message every front end shows
        raise JsonRpcInvalidParams(str(exc), data={"column": exc.column}) from exc


def _int(value: Any, default: int, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JsonRpcInvalidParams(f"{name!r} must be a non-negative integer, got {value!r}")
    return value


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
