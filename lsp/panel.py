"""The side panel's custom requests: processes, exchanges, one exchange, HAR, stats."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerError
from pygls.uris import to_fs_path
from pygls.workspace import Workspace

from httptap import __version__
from httptap.engine.processes import candidates
from httptap.export.har import CREATOR, HAR_VERSION, exchange_to_har_entry

from .config import Settings
from .documents import DocumentIndex
from .messages import DETAIL_MESSAGE_DATA, DETAIL_MESSAGES
from .params import filter_param, int_param, params_of
from .state import ServerState
from .summaries import DETAIL_BODY_LIMIT, detail, summary

#: JSON-RPC error code of ``httptap/exchange`` for an id not kept (PROTOCOL.md)
NO_SUCH_EXCHANGE = -32002

_PAGE_LIMIT = 1000


class PanelRequests:
    """The read-only custom requests, mixed into the server (which owns these attributes)."""

    state: ServerState
    settings: Settings
    index: DocumentIndex
    workspace: Workspace

    async def processes(self, params: Any) -> dict[str, Any]:
        """``httptap/processes``: candidate pids for attach."""
        p = params_of(params)
        folders = self._folders()
        # walking /proc takes tens of milliseconds: off the loop
        found = await asyncio.get_running_loop().run_in_executor(
            None, partial(candidates, folders, everything=bool(p.get("all")))
        )
        return {"folders": folders, "processes": found}

    def exchanges(self, params: Any) -> dict[str, Any]:
        """``httptap/exchanges {filter?, offset, limit, uri?, line?}``: summaries, newest first."""
        p = params_of(params)
        flt = filter_param(p.get("filter"))
        offset = int_param(p.get("offset"), 0, "offset")
        limit = min(int_param(p.get("limit"), 100, "limit"), _PAGE_LIMIT)
        items: Any = self.state.history.newest_first()
        if p.get("uri") is not None:
            ids = self._target_ids(str(p["uri"]), int_param(p.get("line"), 0, "line"))
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
        """``httptap/exchange {id, bodyLimit?, messages?, messageDataLimit?}``: one exchange
        in full, bodies decoded, its newest WebSocket messages / SSE events."""
        p = params_of(params)
        ex_id = p.get("id")
        ex = self.state.history.get(str(ex_id)) if ex_id is not None else None
        if ex is None:
            raise JsonRpcServerError(
                f"no exchange with id {ex_id!r} (evicted, or from an earlier capture)",
                NO_SUCH_EXCHANGE,
            )
        limit = int_param(p.get("bodyLimit"), DETAIL_BODY_LIMIT, "bodyLimit") or DETAIL_BODY_LIMIT
        messages = int_param(p.get("messages"), DETAIL_MESSAGES, "messages")
        data = int_param(p.get("messageDataLimit"), DETAIL_MESSAGE_DATA, "messageDataLimit")
        return detail(ex, limit, messages, data or DETAIL_MESSAGE_DATA)

    def har(self, params: Any) -> dict[str, Any]:
        """``httptap/har {filter?, uri?, line?, ids?}``: stored exchanges as a HAR 1.2 log.

        Oldest first, pending ones included (status 0), built by the exporter of
        ``httptap --save`` (raw bodies, ``_httptap`` details), so the file loads back.
        """
        p = params_of(params)
        flt = filter_param(p.get("filter"))
        ids = p.get("ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise JsonRpcInvalidParams("'ids' must be a list of strings")
        items = self.state.history.exchanges()
        if p.get("uri") is not None:
            targets = self._target_ids(str(p["uri"]), int_param(p.get("line"), 0, "line"))
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
