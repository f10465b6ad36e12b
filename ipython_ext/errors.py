"""AttachError: a capture that could not start, shown by IPython without a traceback."""

from __future__ import annotations

from httptap.engine.api import CaptureError


class AttachError(CaptureError):
    """``%httptap PID`` could not attach; the message and the remedy are all the user sees."""

    def _render_traceback_(self) -> list[str]:
        # IPython (terminal and ipykernel) shows these lines instead of a traceback.
        lines = [f"httptap: {self.message}"]
        lines += [f"httptap: {line}" for line in self.remedy.splitlines() if line.strip()]
        return lines
