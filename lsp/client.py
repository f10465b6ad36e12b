"""A small synchronous LSP client over a subprocess's stdio, for tests and scripts.

It frames JSON-RPC with ``Content-Length`` headers, answers the server's own requests
(``workspace/codeLens/refresh`` and the like) with ``null``, and keeps every notification
so a caller can wait for one.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any


class LspError(Exception):
    """The server answered a request with an error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class LspClient:
    """Runs ``cmd`` (a language server on stdio) and talks to it."""

    def __init__(
        self,
        cmd: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        stderr: IO[bytes] | int | None = subprocess.DEVNULL,
    ) -> None:
        self.proc = subprocess.Popen(
            list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            env=env, cwd=cwd,
        )
        self._next_id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._responses: dict[int, dict[str, Any]] = {}
        #: (method, params, monotonic time) of every notification, in arrival order
        self.notifications: list[tuple[str, Any, float]] = []
        #: (method, params) of every request the server sent us
        self.server_requests: list[tuple[str, Any]] = []
        self._reader = threading.Thread(target=self._read, name="lsp-client", daemon=True)
        self._reader.start()

    # -- requests and notifications ---------------------------------------------------

    def request(self, method: str, params: Any = None, timeout: float = 15.0) -> Any:
        """Send a request and wait for its result; raises LspError on an error response."""
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self._responses:
                left = deadline - time.monotonic()
                if self.proc.poll() is not None:
                    raise ConnectionError(f"the server exited ({self.proc.returncode}) before "
                                          f"answering {method}")
                if left <= 0:
                    raise TimeoutError(f"no answer to {method} within {timeout} s")
                self._cond.wait(min(left, 0.1))
            msg = self._responses.pop(msg_id)
        if "error" in msg:
            err = msg["error"]
            raise LspError(err.get("code", 0), err.get("message", ""), err.get("data"))
        return msg.get("result")

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(
        self,
        method: str,
        pred: Callable[[Any], bool] | None = None,
        timeout: float = 10.0,
        after: float = 0.0,
    ) -> Any:
        """The params of the first ``method`` notification (received after monotonic time
        ``after``) that satisfies ``pred``; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m, params, t in self.notifications:
                    if m == method and t >= after and (pred is None or pred(params)):
                        return params
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {method} notification within {timeout} s")
                self._cond.wait(min(left, 0.1))

    def received(self, method: str) -> list[Any]:
        """Params of every ``method`` notification so far."""
        with self._cond:
            return [p for m, p, _t in self.notifications if m == method]

    # -- conveniences -----------------------------------------------------------------

    def initialize(
        self,
        root: Path,
        options: dict[str, Any] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> Any:
        """``initialize`` with ``root`` as the one workspace folder, then ``initialized``."""
        uri = root.resolve().as_uri()
        result = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": root.name}],
                "capabilities": capabilities
                if capabilities is not None
                else {"workspace": {"codeLens": {"refreshSupport": True}}},
                "initializationOptions": options or {},
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        """``textDocument/didOpen`` of a Python file; returns its URI."""
        uri = path.resolve().as_uri()
        content = path.read_text() if text is None else text
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": version,
                              "text": content}},
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        """Replace a document's whole text."""
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def close(self, timeout: float = 10.0) -> int | None:
        """``shutdown`` and ``exit``; returns the server's exit status."""
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=timeout)
                self.notify("exit")
            return self.proc.wait(timeout)
        except (TimeoutError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            return self.proc.wait()

    # -- wire -------------------------------------------------------------------------

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self._cond:
                        self._cond.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if length is None:
                continue
            msg = json.loads(out.read(length))
            if "method" in msg and "id" in msg:
                self.server_requests.append((msg["method"], msg.get("params")))
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
                continue
            with self._cond:
                if "method" in msg:
                    self.notifications.append((msg["method"], msg.get("params"), time.monotonic()))
                else:
                    self._responses[msg["id"]] = msg
                self._cond.notify_all()
