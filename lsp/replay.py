"""The capture factory, and its testing/demo hook: ``HTTPTAP_LSP_REPLAY=session.jsonl``.

Normally ``httptap/attach`` calls the engine's ``open_capture``. When the environment
variable ``HTTPTAP_LSP_REPLAY`` names a JSON-lines file (the contract of ``httptap --jsonl``),
attach plays that file back instead, whatever the pid, and then follows it like ``tail -f``
(the engine's ``FollowCapture``). No root and no kernel are involved, which is what tests and
demos need.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from httptap.engine.api import Capture, CaptureOptions, open_capture
from httptap.engine.replay import FollowCapture

ENV = "HTTPTAP_LSP_REPLAY"

CaptureFactory = Callable[[Sequence[int], CaptureOptions], Capture]


def capture_factory() -> tuple[CaptureFactory, str | None]:
    """The factory attach uses, and the replay file when the hook is on."""
    path = os.environ.get(ENV)
    if path:
        remedy = f"unset {ENV} or create the file"
        return (
            lambda pids, options: FollowCapture(Path(path), list(pids), remedy=remedy).start()
        ), path
    return open_capture, None
