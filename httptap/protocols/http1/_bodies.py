"""Body framing steps: Content-Length, chunked (with trailers) and close-delimited bodies.

Each step consumes ``buf`` from ``pos`` in one state of a side and returns where parsing
resumes (``STOP`` once the rest of ``buf`` is kept for the next feed, or parsing stopped).
Framing is done with ``bytes.find`` and arithmetic, never a Python loop per byte.
"""

from __future__ import annotations

from httptap.protocols.base import ParserEvent
from httptap.protocols.http1._exchanges import ExchangeBook
from httptap.protocols.http1._framing import HEX, MAX_HEAD, chunk_size, parse_fields
from httptap.protocols.http1._side import (
    CHUNK_DATA,
    CHUNK_END,
    CHUNK_SIZE,
    STOP,
    TRAILERS,
    Side,
)


class BodyReader(ExchangeBook):
    """The body states of the byte loop."""

    def _length_body(
        self, side: Side, buf: bytes | bytearray, pos: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """Inside a Content-Length body."""
        body = side.body
        assert body is not None  # set with the head that framed this body
        left = len(buf) - pos
        take = side.remaining if side.remaining < left else left  # not min(): hot path
        if side.tap is not None:
            events += side.tap(bytes(buf[pos : pos + take]), ts)
        limit = self._limit
        if not body.size and take <= limit:
            # The usual case, a body in one piece: no need for Body.append.
            chunk = buf[pos : pos + take]
            body.data = chunk if type(chunk) is bytes else bytes(chunk)
            body.size = take
        elif body.truncated:
            body.size += take
        else:
            body.append(buf[pos : pos + take], limit)
        side.remaining -= take
        if side.remaining == 0:
            self._end(side, ts, events)
        return pos + take

    def _close_body(
        self, side: Side, buf: bytes | bytearray, pos: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """A response body that ends when the connection does: all of ``buf`` is body."""
        body = side.body
        assert body is not None
        if side.tap is not None:
            events += side.tap(bytes(buf[pos:]), ts)
        if body.truncated:
            body.size += len(buf) - pos
        else:
            body.append(buf[pos:], self._limit)
        return len(buf)

    def _chunk_size_line(
        self, side: Side, buf: bytes | bytearray, pos: int, events: list[ParserEvent]
    ) -> int:
        eol = buf.find(b"\n", pos)
        if eol < 0:
            if len(buf) - pos > MAX_HEAD or buf[pos] not in HEX:
                self._bad(side, "invalid chunk size line", events)
                return STOP
            return side.stash(buf, pos)
        size = chunk_size(buf[pos:eol])
        if size < 0:
            self._bad(side, "invalid chunk size", events)
            return STOP
        if size:
            side.remaining = size
            side.state = CHUNK_DATA
        else:
            side.state = TRAILERS
        return eol + 1

    def _chunk_data(
        self, side: Side, buf: bytes | bytearray, pos: int, ts: int, events: list[ParserEvent]
    ) -> int:
        body = side.body
        assert body is not None
        left = len(buf) - pos
        take = side.remaining if side.remaining < left else left
        if side.tap is not None:
            events += side.tap(bytes(buf[pos : pos + take]), ts)
        if body.truncated:
            body.size += take
        else:
            body.append(buf[pos : pos + take], self._limit)
        side.remaining -= take
        if side.remaining == 0:
            side.state = CHUNK_END
        return pos + take

    def _chunk_end(
        self, side: Side, buf: bytes | bytearray, pos: int, events: list[ParserEvent]
    ) -> int:
        """The line end after a chunk's data (a bare LF is tolerated)."""
        c = buf[pos]
        if c == 10:
            pos += 1
        elif c == 13 and pos + 1 == len(buf):
            return side.stash(buf, pos)
        elif c == 13 and buf[pos + 1] == 10:
            pos += 2
        else:
            self._bad(side, "missing CRLF after chunk data", events)
            return STOP
        side.state = CHUNK_SIZE
        return pos

    def _trailers(
        self, side: Side, buf: bytes | bytearray, pos: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """The trailer section after the last chunk, up to its empty line."""
        n = len(buf)
        c = buf[pos]
        if c == 13:
            if pos + 1 == n:
                return side.stash(buf, pos)
            if buf[pos + 1] == 10:
                self._end(side, ts, events)
                return pos + 2
        elif c == 10:
            self._end(side, ts, events)
            return pos + 1
        end = buf.find(b"\r\n\r\n", max(pos, side.scan))
        if end >= 0:
            end += 4
        else:
            end = buf.find(b"\n\n", max(pos, side.scan))
            if end < 0:
                if n - pos > MAX_HEAD:
                    self._bad(side, "trailer section too large", events)
                    return STOP
                side.scan = max(0, n - pos - 3)
                return side.stash(buf, pos)
            end += 2
        side.scan = 0
        trailers = parse_fields(buf[pos:end])
        msg = side.msg
        if trailers is None or msg is None:
            self._bad(side, "invalid trailer section", events)
            return STOP
        msg.trailers = trailers
        self._end(side, ts, events)
        return end
