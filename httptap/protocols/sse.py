"""Server-sent events (``text/event-stream``), parsed as the body arrives.

Fed the de-chunked response body in order; each event comes out when the blank line that
ends it arrives, with that chunk's time. Parsing follows the HTML standard's event-stream
interpretation: one leading BOM dropped, lines end in CRLF, LF or CR, ``:`` starts a
comment, ``data`` lines join with LF, ``id`` (without NUL) persists as the last event ID,
``retry`` is digits only, a block without ``data`` dispatches nothing, and an unfinished
block at the end is dropped. Bounded: a line or an event keeps at most ``limit`` bytes of
data and counts the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from httptap.model import DEFAULT_BODY_LIMIT, Body

_EOL = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"
#: room for a field name and its colon beyond the data limit on one line
_NAME_ROOM = 64


@dataclass(slots=True)
class SseEvent:
    """One dispatched event; ``event`` is its type (``"message"`` unless named)."""

    data: bytes
    size: int
    truncated: bool
    event: str
    id: str | None  # the last event ID (it persists across events), None if never set
    retry: int | None  # a ``retry`` given since the previous event
    ts_ns: int


class SseParser:
    """Parses one ``text/event-stream`` body; ``limit`` bounds each event's kept data."""

    def __init__(self, limit: int = DEFAULT_BODY_LIMIT) -> None:
        self._limit = limit
        self._cap = limit + _NAME_ROOM
        self._start = b""  # the first bytes, until a BOM is ruled in or out
        self._started = False
        self._skip_lf = False  # the last chunk ended in CR: a leading LF belongs to it
        self._line = bytearray()
        self._line_over = 0  # bytes of the current line beyond the cap, not kept
        self._data = Body()
        self._data_lines = 0
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._out: list[SseEvent] = []

    def feed(self, data: bytes, ts_ns: int) -> list[SseEvent]:
        """Body bytes in order; the events they completed."""
        if not self._started:
            data = self._start + data
            if len(data) < len(_BOM) and _BOM.startswith(data):
                self._start = data
                return []
            self._started = True
            self._start = b""
            if data.startswith(_BOM):
                data = data[len(_BOM):]
        if self._skip_lf and data:
            self._skip_lf = False
            if data[:1] == b"\n":
                data = data[1:]
        pos = 0
        for m in _EOL.finditer(data):
            self._add(data, pos, m.start())
            self._line_end(ts_ns)
            pos = m.end()
            if pos == len(data) and m.group() == b"\r":
                self._skip_lf = True
        self._add(data, pos, len(data))
        out = self._out
        self._out = []
        return out

    def _add(self, data: bytes, start: int, end: int) -> None:
        room = self._cap - len(self._line)
        keep = min(room, end - start)
        if keep > 0:
            self._line += data[start:start + keep]
        self._line_over += end - start - max(keep, 0)

    def _line_end(self, ts_ns: int) -> None:
        line = bytes(self._line)
        over = self._line_over
        self._line.clear()
        self._line_over = 0
        if not line and not over:
            self._dispatch(ts_ns)
            return
        if line.startswith(b":"):
            return
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            body = self._data
            if self._data_lines:
                body.append(b"\n", self._limit)
            body.append(value, self._limit)
            body.skip(over)
            self._data_lines += 1
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():  # bytes.isdigit: ASCII digits only
            self._retry = int(value)

    def _dispatch(self, ts_ns: int) -> None:
        body = self._data
        if self._data_lines:
            self._out.append(SseEvent(body.data, body.size, body.truncated,
                                      self._event or "message", self._id, self._retry, ts_ns))
            self._retry = None
        self._data = Body()
        self._data_lines = 0
        self._event = ""
