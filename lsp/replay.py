"""The capture factory, and its testing/demo hook: ``HTTPTAP_LSP_REPLAY=session.jsonl``.

Normally ``httptap/attach`` calls the engine's ``open_capture``. When the environment
variable ``HTTPTAP_LSP_REPLAY`` names a JSON-lines file (the contract of ``httptap --jsonl``,
one exchange per line), attach plays that file back instead, whatever the pid, and then
follows it like ``tail -f``: lines appended later arrive as new traffic, a line whose ``id``
was seen before replaces that exchange (``"complete": false`` lines are pending requests).
No root and no kernel are involved, which is what tests and demos need.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from httptap.contract import from_dict
from httptap.engine.api import Capture, CaptureError, CaptureOptions, open_capture
from httptap.records import Completed, Pending, Ready, Record, Stats

ENV = "HTTPTAP_LSP_REPLAY"
_POLL = 0.05
_CHUNK = 256 * 1024
_BACKLOG = 2000

CaptureFactory = Callable[[Sequence[int], CaptureOptions], Capture]


def capture_factory() -> tuple[CaptureFactory, str | None]:
    """The factory attach uses, and the replay file when the hook is on."""
    path = os.environ.get(ENV)
    if path:
        return (lambda pids, options: FollowCapture(Path(path), list(pids)).start()), path
    return open_capture, None


class FollowCapture(Capture):
    """Replays a JSON-lines session file, then follows it for appended lines until stopped."""

    def __init__(self, path: Path, pids: list[int]) -> None:
        super().__init__()
        if not path.is_file():
            raise CaptureError(f"{ENV}: no such file: {path}", f"unset {ENV} or create the file")
        self._path = path
        self._pids = pids

    def _run(self) -> None:
        self._emit([Ready(self._pids, f"replaying {self._path}")])
        seen = 0
        offset = 0
        partial = b""
        with self._path.open("rb") as fh:
            while not self._stop.is_set():
                if len(self._queue) > _BACKLOG:
                    # the consumer is behind: reading on would only pile records up here
                    time.sleep(_POLL)
                    continue
                fh.seek(offset)
                chunk = fh.read(_CHUNK)
                if not chunk:
                    time.sleep(_POLL)
                    continue
                offset += len(chunk)
                data = partial + chunk
                lines = data.split(b"\n")
                partial = lines.pop()  # a line still being written
                batch: list[Record] = []
                for raw in lines:
                    if not raw.strip():
                        continue
                    ex = from_dict(json.loads(raw))
                    batch.append(Completed(ex) if ex.complete else Pending(ex))
                    seen += 1
                batch.append(Stats(exchanges=seen))
                self._emit(batch)
