"""Saved sessions played back as captures: no root, no kernel.

``ReplayCapture`` plays back exchanges already loaded (``httptap --open``, tests);
``FollowCapture`` plays back a JSON-lines file (the ``httptap --jsonl`` contract) and then
follows it like ``tail -f``: lines appended later arrive as new traffic, a line whose ``id``
was seen before replaces that exchange (``"complete": false`` lines are pending requests).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from httptap.engine.api import Capture, CaptureError
from httptap.model import Exchange
from httptap.records import Completed, Message, Pending, Ready, Record, Stats

_POLL_S = 0.05
_CHUNK = 256 * 1024
#: records waiting for the consumer beyond which FollowCapture stops reading ahead
_MAX_BACKLOG = 2000


class ReplayCapture(Capture):
    """Plays back exchanges loaded from a file (``--open``)."""

    def __init__(self, exchanges: Iterable[Exchange]) -> None:
        super().__init__()
        self._exchanges = list(exchanges)

    def _run(self) -> None:
        batch: list[Record] = []
        for ex in self._exchanges:
            batch.append(Completed(ex) if ex.complete else Pending(ex))
            batch.extend(Message(m, ex) for m in ex.messages)  # WebSocket / SSE, after it
        self._emit(batch)
        self._emit([Stats(exchanges=len(self._exchanges))])


class FollowCapture(Capture):
    """Replays a JSON-lines session file, then follows it for appended lines until stopped."""

    def __init__(self, path: Path, pids: list[int], *, remedy: str = "create the file") -> None:
        super().__init__()
        if not path.is_file():
            raise CaptureError(f"no such file: {path}", remedy)
        self._path = path
        self._pids = pids

    def _run(self) -> None:
        from httptap.contract import from_dict

        self._emit([Ready(self._pids, f"replaying {self._path}")])
        seen = 0
        offset = 0
        partial = b""
        with self._path.open("rb") as fh:
            while not self._stopping():
                if self._backlog() > _MAX_BACKLOG:
                    # the consumer is behind: reading on would only pile records up here
                    self._pause(_POLL_S)
                    continue
                fh.seek(offset)
                chunk = fh.read(_CHUNK)
                if not chunk:
                    self._pause(_POLL_S)
                    continue
                offset += len(chunk)
                lines = (partial + chunk).split(b"\n")
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
