"""The per-connection HTTP/1.x parser: the byte loop, heads, pairing and protocol switches.

Timings: request_start/response_start are the ts of the feed carrying the message's first
byte, request_end/response_end that of the feed (or gap) completing it. After a 1xx, the
response timings are those of the final response (TTFB of a 100 Continue would mislead).
A close-delimited response ends at its last byte's feed, not at ``close``.

Pairing: responses are matched FIFO to requests (pipelining). Requests that may switch
protocol (CONNECT, ``Upgrade:``) hold back the client's later bytes until the response says
whether the switch happened, like h11's MIGHT_SWITCH_PROTOCOL. A response is framed by its
*request's* method (a response to HEAD carries a Content-Length but no body).

A direction that lost sync resumes at the next feed that begins like a message (``sniff``).
A feed that only *looks* like a message start but does not parse sends the direction back to
hunting instead of failing the connection.

Responses with no captured request (joined mid-connection, request lost in a gap) are
reported, not dropped: an ExchangeDone with an empty request, ``complete=False`` and the note
"response without a captured request" (or "request not captured" when a gap took it).
On ParseFailed, exchanges still in flight are first settled (ExchangeDone, ``complete=False``,
note "parse error: ...") so no pending row is left behind.
"""

from __future__ import annotations

from collections.abc import Callable

from httptap.model import DEFAULT_BODY_LIMIT, Connection, Exchange, Request, Response, Timings
from httptap.protocols.base import (
    BodyTap,
    Direction,
    ExchangeDone,
    ExchangePending,
    ParserEvent,
    Upgraded,
)
from httptap.protocols.http1._bodies import BodyReader
from httptap.protocols.http1._exchanges import MAX_WAITING
from httptap.protocols.http1._framing import MAX_HEAD, content_length, is_chunked
from httptap.protocols.http1._heads import (
    protocol_name,
    request_fields,
    response_fields,
    status_note,
)
from httptap.protocols.http1._side import (
    CHUNK_DATA,
    CHUNK_END,
    CHUNK_SIZE,
    CL,
    CLOSE,
    DESYNC,
    HEAD,
    HOLD,
    IGNORE,
    IN_BODY,
    STOP,
    TRAILERS,
    Side,
)
from httptap.protocols.sniff import message_start

_MAX_HOLD = 1024 * 1024  # client bytes held while a protocol switch is undecided
_CRLF_BYTES = (10, 13)
_REQUEST = Direction.REQUEST


class Http1Parser(BodyReader):
    """Passive HTTP/1.0 and HTTP/1.1 parser for one connection (both directions)."""

    def __init__(
        self,
        connection: Connection,
        *,
        body_limit: int = DEFAULT_BODY_LIMIT,
        midstream: bool = False,
        body_tap: Callable[[Exchange], BodyTap | None] | None = None,
    ) -> None:
        """``body_tap(exchange)``, called at each response head, may return a tap that sees
        that response's body bytes as they arrive (server-sent events)."""
        super().__init__(connection, body_limit=body_limit, midstream=midstream)
        self._tap = body_tap

    # ------------------------------------------------------------------ public API

    def feed(self, direction: Direction, data: bytes, ts_ns: int) -> list[ParserEvent]:
        """Parse ``data`` seen in ``direction`` at ``ts_ns``; return what it completed."""
        events: list[ParserEvent] = []
        if self._dead or not data:
            return events
        if type(data) is not bytes:
            data = bytes(data)
        side = self._rq if direction == _REQUEST else self._rs
        try:
            if side.state == DESYNC:
                data = self._hunt(side, direction, data)
                if not data:
                    return events
            side.last_ts = ts_ns
            self._run(side, data, ts_ns, events)
        except Exception as exc:  # a bug must cost this connection, never the capture
            self._fail(f"internal error: {exc!r}", events)
        return events

    def gap(self, direction: Direction, size: int, ts_ns: int) -> list[ParserEvent]:
        """``size`` bytes went by in ``direction`` without being copied."""
        events: list[ParserEvent] = []
        if self._dead or size <= 0:
            return events
        side = self._rq if direction == _REQUEST else self._rs
        try:
            self._gap(side, size, ts_ns, events)
        except Exception as exc:
            self._fail(f"internal error: {exc!r}", events)
        return events

    def close(self, ts_ns: int) -> list[ParserEvent]:
        """The connection ended: complete a close-delimited response, flush the unanswered."""
        events: list[ParserEvent] = []
        if self._dead and not self._waiting and self._rs.ex is None:
            self._dead = True
            return events
        self._dead = True
        rs, rq = self._rs, self._rq
        ex = rs.ex
        if ex is not None:
            rs.ex = None
            if rs.state == CLOSE:
                ex.timings.response_end = rs.last_ts if rs.last_ts is not None else ts_ns
                ex.complete = bool(ex.request.method)
            else:
                ex.note("response incomplete (connection closed)")
                ex.complete = False
            events.append(ExchangeDone(ex))
        if rq.ex is not None and rq.state in IN_BODY:
            rq.ex.note("request incomplete (connection closed)")
        while self._waiting:
            ex = self._waiting.popleft()
            ex.note("no response (connection closed)")
            ex.complete = False
            events.append(ExchangeDone(ex))
        rq.state = rs.state = IGNORE
        rq.buf = rs.buf = b""
        return events

    def _hunt(self, side: Side, direction: Direction, data: bytes) -> bytes:
        """Lost: the bytes to parse if ``data`` (after a short undecided candidate kept
        from the previous feed) begins a message, else b"" (and they are dropped)."""
        if side.buf:
            candidate = bytes(side.buf) + data
            side.buf = b""
            verdict = message_start(direction, candidate)
            if verdict is None:
                side.buf = bytearray(candidate)
                return b""
            if verdict:
                data = candidate
            else:
                verdict = message_start(direction, data)
                if not verdict:
                    if verdict is None:
                        side.buf = bytearray(data)
                    return b""
        else:
            verdict = message_start(direction, data)
            if not verdict:
                if verdict is None:
                    side.buf = bytearray(data)  # too short to tell: judge with the next feed
                return b""
        side.state = HEAD
        side.probation = True
        return data

    # ------------------------------------------------------------------ byte loop

    def _run(self, side: Side, data: bytes, ts: int, events: list[ParserEvent]) -> None:
        """Parse ``data`` (after what ``side`` kept from earlier feeds), one state at a time."""
        buf: bytes | bytearray = data
        if side.buf:
            buf = side.buf
            buf += data  # bytearray: amortised O(1), so byte-by-byte feeding stays linear
            side.buf = b""
        n = len(buf)
        pos = 0
        while pos < n:
            state = side.state
            if state == HEAD:
                pos = self._head(side, buf, pos, ts, events)
            elif state == CL:
                pos = self._length_body(side, buf, pos, ts, events)
            elif state == CLOSE:
                pos = self._close_body(side, buf, pos, ts, events)
            elif state == CHUNK_SIZE:
                pos = self._chunk_size_line(side, buf, pos, events)
            elif state == CHUNK_DATA:
                pos = self._chunk_data(side, buf, pos, ts, events)
            elif state == CHUNK_END:
                pos = self._chunk_end(side, buf, pos, events)
            elif state == TRAILERS:
                pos = self._trailers(side, buf, pos, ts, events)
            elif state == HOLD:
                pos = self._hold(side, buf, pos, ts, events)
            else:  # DESYNC (a failed resync guess) or IGNORE: the rest is dropped
                return

    def _head(
        self, side: Side, buf: bytes | bytearray, pos: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """Between messages or inside a head: parse the head once its empty line is in."""
        n = len(buf)
        if side.first_ts is None:
            # Stray CRLFs between messages are tolerated (RFC 9112 section 2.2).
            while pos < n and buf[pos] in _CRLF_BYTES:
                pos += 1
            if pos == n:
                return n
            side.first_ts = ts
        scan = side.scan if side.scan > pos else pos
        end = buf.find(b"\r\n\r\n", scan)
        if end >= 0:
            # A bare-LF head may end first (and its body hold a CRLFCRLF).
            lf = buf.find(b"\n\n", scan, end)
            end = end + 4 if lf < 0 else lf + 2
        else:
            end = buf.find(b"\n\n", scan)
            if end < 0:
                if n - pos > MAX_HEAD:
                    self._bad(side, f"message head larger than {MAX_HEAD} bytes", events)
                    return STOP
                side.scan = max(0, n - pos - 3)
                return side.stash(buf, pos)
            end += 2
        side.scan = 0
        if end - pos > MAX_HEAD:
            self._bad(side, f"message head larger than {MAX_HEAD} bytes", events)
            return STOP
        if side.is_request:
            return self._request_head(side, buf[pos:end], end, ts, events)
        return self._response_head(side, buf[pos:end], buf, end, ts, events)

    def _hold(
        self, side: Side, buf: bytes | bytearray, pos: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """Client bytes after a switch proposal wait for the server's answer."""
        if side.hold_ts is None:
            side.hold_ts = ts
        if len(buf) - pos > _MAX_HOLD:
            self._bad(side, "too much data while a protocol switch is undecided", events)
            return STOP
        return side.stash(buf, pos)

    # ------------------------------------------------------------------ heads

    def _request_head(
        self, side: Side, head: bytes | bytearray, end: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """A complete request head: a new exchange, pending; returns where parsing resumes."""
        fields = request_fields(side.llhttp, head)
        if fields is None:
            self._bad(side, "invalid request head", events)
            return STOP
        method, target, version, headers, special = fields
        host = ""
        upgrade = False
        te: list[str] = []
        cl: list[str] = []
        for name, value in special:
            if name == "host":
                if not host:
                    host = value
            elif name == "content-length":
                cl.append(value)
            elif name == "transfer-encoding":
                te.append(value)
            elif name == "upgrade":
                upgrade = True
        req = Request(
            method=method, authority=host, path=target, http_version=version, headers=headers
        )
        ex = Exchange(
            connection=self._conn, request=req, timings=Timings(request_start=side.first_ts)
        )
        if self._join_note:
            ex.note("joined mid-connection")
            self._join_note = False
        side.probation = False
        side.ex = ex
        side.msg = req
        side.body = req.body
        self._waiting.append(ex)
        events.append(ExchangePending(ex))
        if len(self._waiting) > MAX_WAITING:
            self._evict(events)
        if upgrade or method == "CONNECT":
            side.hold_ex = ex
        if te:
            if not is_chunked(te):
                self._bad(side, "request with a Transfer-Encoding other than chunked", events)
                return STOP
            side.state = CHUNK_SIZE
        elif cl:
            if not self._frame_by_length(side, cl, ts, events):
                return STOP
        else:
            self._end(side, ts, events)
        return end

    def _response_head(
        self,
        side: Side,
        head: bytes | bytearray,
        buf: bytes | bytearray,
        end: int,
        ts: int,
        events: list[ParserEvent],
    ) -> int:
        """A complete response head: pair it FIFO and frame its body by the request's method."""
        fields = response_fields(side.llhttp, head)
        if fields is None:
            self._bad(side, "invalid response head", events)
            return STOP
        status, reason, version, headers, special = fields
        side.probation = False
        if status < 200 and status != 101:
            # Informational: the final response that follows answers the same request.
            if self._waiting:
                self._waiting[0].note(status_note(status, reason))
            side.first_ts = None
            return end
        if self._waiting and self._responses_lost:
            self._settle_unanswered(side.first_ts, self._responses_lost, events)
        self._responses_lost = ""
        if self._waiting:
            ex = self._waiting.popleft()
        else:
            ex = Exchange(connection=self._conn)
            if self._join_note:
                ex.note("joined mid-connection")
                self._join_note = False
            ex.note("response without a captured request")
        resp = Response(status=status, reason=reason, http_version=version, headers=headers)
        ex.response = resp
        ex.timings.response_start = side.first_ts
        side.ex = ex
        side.msg = resp
        side.body = resp.body
        side.tap = self._tap(ex) if self._tap is not None else None
        method = ex.request.method

        rq = self._rq
        if rq.hold_ex is ex:
            rq.hold_ex = None
            if status == 101 or (method == "CONNECT" and 200 <= status < 300):
                self._end(side, ts, events)
                self._switch(ex, status, special, buf, end, events)
                return STOP
            if rq.state == HOLD:  # the switch was refused: the held bytes are HTTP
                self._release(ts, events)
                if self._dead:
                    return STOP
        elif status == 101:
            self._end(side, ts, events)
            self._switch(ex, status, special, buf, end, events)
            return STOP

        if method == "HEAD" or status == 204 or status == 304:
            self._end(side, ts, events)
            return end
        te: list[str] = []
        cl: list[str] = []
        for name, value in special:
            if name == "content-length":
                cl.append(value)
            elif name == "transfer-encoding":
                te.append(value)
        if te:
            side.state = CHUNK_SIZE if is_chunked(te) else CLOSE
        elif cl:
            if not self._frame_by_length(side, cl, ts, events):
                return STOP
        else:
            side.state = CLOSE
        return end

    def _frame_by_length(
        self, side: Side, cl: list[str], ts: int, events: list[ParserEvent]
    ) -> bool:
        """Frame the body by its Content-Length values; False once refused as invalid."""
        length = content_length(cl)
        if length < 0:
            self._bad(side, "invalid Content-Length", events)
            return False
        if length:
            side.remaining = length
            side.state = CL
        else:
            self._end(side, ts, events)
        return True

    def _switch(
        self,
        ex: Exchange,
        status: int,
        special: list[tuple[str, str]],
        buf: bytes | bytearray,
        end: int,
        events: list[ParserEvent],
    ) -> None:
        """The connection stops being HTTP/1: hand over what was already fed past the switch."""
        if status == 101:
            name = next((v for n, v in special if n == "upgrade"), None)
            if name is None:
                name = ex.request.header("upgrade") or ""
            protocol = protocol_name(name)
        else:
            protocol = "tunnel"
        leftover: dict[Direction, bytes] = {}
        rq = self._rq
        if rq.buf:
            leftover[Direction.REQUEST] = bytes(rq.buf)
        if end < len(buf):
            leftover[Direction.RESPONSE] = bytes(buf[end:])
        events.append(Upgraded(protocol, leftover, ex))
        rq.buf = self._rs.buf = b""
        rq.state = self._rs.state = IGNORE
        rq.hold_ex = None
        self._dead = not self._waiting

    def _release(self, ts: int, events: list[ParserEvent]) -> None:
        """Parse the client bytes held during a refused switch (stamped when first held)."""
        rq = self._rq
        held = bytes(rq.buf)
        rq.buf = b""
        rq.state = HEAD
        if held:
            self._run(rq, held, rq.hold_ts if rq.hold_ts is not None else ts, events)
        rq.hold_ts = None
