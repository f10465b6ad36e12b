"""Passive HTTP/1.x parser (sans-IO): both directions of one TCP connection in, exchanges out.

Division of labour, and why:

* **Framing is done here**, with ``bytes.find`` and arithmetic (never a Python loop per
  byte): where a head ends, how long a body is, where each chunk starts. llhttp frames
  perfectly well but httptools exposes neither offsets nor chunk sizes, and a passive parser
  needs both: to skip a gap of uncopied bytes inside a body and stay in sync, to hand over
  the bytes after a 101 or a CONNECT, and to frame a response by its *request's* method (a
  response to HEAD carries a Content-Length but no body; llhttp's response parser cannot be
  told the method, and httptools ignores what ``on_headers_complete`` returns).
* **Heads are validated by httptools (llhttp)**: one C call per head. Once llhttp has
  accepted a head its grammar is known to be strict, so its fields are split with str
  methods rather than collected through a Python callback per header line (measured
  cheaper). A head llhttp rejects gets a second opinion from h11 (obs-fold, bare LF,
  unusual methods), so the observer accepts what the peers accepted. Framing follows
  RFC 9112 section 6.3, i.e. h11's semantics; h11 is also the reference of the
  differential tests.

Timings: request_start/response_start are the ts of the feed carrying the message's first
byte, request_end/response_end that of the feed (or gap) completing it. After a 1xx, the
response timings are those of the final response (TTFB of a 100 Continue would mislead).
A close-delimited response ends at its last byte's feed, not at ``close``.

Pairing: responses are matched FIFO to requests (pipelining). Requests that may switch
protocol (CONNECT, ``Upgrade:``) hold back the client's later bytes until the response says
whether the switch happened, like h11's MIGHT_SWITCH_PROTOCOL.

Loss: a gap inside a body of known remaining length (Content-Length, or inside one chunk's
data) is counted with ``Body.skip`` and parsing stays in sync; a close-delimited body simply
counts it. Any other gap loses sync for that direction: the exchange concerned gets a note,
and the direction resumes at the next feed that begins like a message (``sniff``). A feed
that only *looks* like a message start but does not parse sends the direction back to
hunting instead of failing the connection.

Responses with no captured request (joined mid-connection, request lost in a gap) are
reported, not dropped: an ExchangeDone with an empty request, ``complete=False`` and the note
"response without a captured request" (or "request not captured" when a gap took it).
On ParseFailed, exchanges still in flight are first settled (ExchangeDone, ``complete=False``,
note "parse error: ...") so no pending row is left behind.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from http import HTTPStatus

from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser, HttpResponseParser

from httptap.model import Body, Connection, Exchange, Request, Response, Timings
from httptap.protocols import _http1_h11
from httptap.protocols._http1_h11 import SPECIAL_LENS, HeadFields
from httptap.protocols.base import (
    BodyTap,
    Direction,
    ExchangeDone,
    ExchangePending,
    ParseFailed,
    ParserEvent,
    Upgraded,
)
from httptap.protocols.sniff import message_start

__all__ = ["MAX_HEAD", "Http1Parser"]

MAX_HEAD = 64 * 1024  # a head (or chunk-size line, or trailer block) larger than this is refused
_MAX_HOLD = 1024 * 1024  # client bytes held while a protocol switch is undecided
_MAX_CHUNK_SIZE = (1 << 63) - 1
_MAX_WAITING = 256  # requests awaiting a response (pipelining depth); the oldest go beyond

# Per-direction states.
_HEAD = 0  # between messages or inside a head
_CL = 1  # Content-Length body, ``remaining`` bytes to go
_CHUNK_SIZE = 2  # expecting a chunk-size line
_CHUNK_DATA = 3  # inside a chunk, ``remaining`` bytes to go
_CHUNK_END = 4  # expecting the CRLF after a chunk's data
_TRAILERS = 5  # after the last chunk: trailer fields up to an empty line
_CLOSE = 6  # response body delimited by the connection's close
_HOLD = 7  # client bytes held until the server accepts or refuses a protocol switch
_DESYNC = 8  # lost: waiting for a feed that begins like a message
_IGNORE = 9  # upgraded or failed: nothing more to parse

_OWS = (9, 32)
_CRLF_BYTES = (10, 13)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_BODY_LOST_NOTE = "body not fully captured"
_REQUEST = Direction.REQUEST
_STOP = 1 << 62  # a position past any buffer: the byte loop stops


class _Sink:
    """httptools callbacks: only whether the head, and the whole message, were complete.

    No url/status/header callbacks: each costs a Python call per field, while splitting the
    head that llhttp has just validated costs one ``split`` and a short loop.
    """

    __slots__ = ("complete", "msg_complete")

    def __init__(self) -> None:
        self.complete = False
        self.msg_complete = False

    def on_headers_complete(self) -> None:
        self.complete = True

    def on_message_complete(self) -> None:
        self.msg_complete = True


class _Side:
    """Parsing state of one direction."""

    __slots__ = (
        "body",
        "buf",
        "ex",
        "first_ts",
        "hold_ex",
        "hold_ts",
        "is_request",
        "last_ts",
        "llhttp",
        "msg",
        "probation",
        "remaining",
        "scan",
        "sink",
        "state",
        "tap",
    )

    def __init__(self, is_request: bool, state: int) -> None:
        self.is_request = is_request
        self.state = state
        self.buf: bytes | bytearray = b""  # unconsumed bytes; a bytearray when non-empty
        self.scan = 0  # where to resume searching ``buf`` for a head's end
        self.remaining = 0
        self.ex: Exchange | None = None  # the exchange whose message is being parsed
        self.msg: Request | Response | None = None
        self.body: Body | None = None
        self.first_ts: int | None = None  # ts of the feed that carried the message's first byte
        self.last_ts: int | None = None
        self.probation = False  # after a resync guess: a parse failure means "lost", not "fail"
        self.hold_ex: Exchange | None = None  # request side: the switch proposal in flight
        self.hold_ts: int | None = None
        self.sink = _Sink()
        self.llhttp: HttpRequestParser | HttpResponseParser | None = None
        self.tap: BodyTap | None = None  # sees the (de-chunked) body as it arrives: SSE


class Http1Parser:
    """Passive HTTP/1.0 and HTTP/1.1 parser for one connection (both directions)."""

    def __init__(
        self, connection: Connection, *, body_limit: int = 65536, midstream: bool = False,
        body_tap: Callable[[Exchange], BodyTap | None] | None = None,
    ) -> None:
        """``body_tap(exchange)``, called at each response head, may return a tap that sees
        that response's body bytes as they arrive (server-sent events)."""
        self._conn = connection
        self._limit = body_limit
        self._tap = body_tap
        start = _DESYNC if midstream else _HEAD
        self._rq = _Side(True, start)
        self._rs = _Side(False, start)
        self._waiting: deque[Exchange] = deque()  # requests seen, final response not yet begun
        # why response bytes were lost since the last response head ("" when none were)
        self._responses_lost = ""
        self._join_note = midstream
        self._dead = False  # failed, upgraded or closed

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
            if side.state == _DESYNC:
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
            if rs.state == _CLOSE:
                ex.timings.response_end = rs.last_ts if rs.last_ts is not None else ts_ns
                ex.complete = bool(ex.request.method)
            else:
                ex.note("response incomplete (connection closed)")
                ex.complete = False
            events.append(ExchangeDone(ex))
        if rq.ex is not None and rq.state in (_CL, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS):
            rq.ex.note("request incomplete (connection closed)")
        while self._waiting:
            ex = self._waiting.popleft()
            ex.note("no response (connection closed)")
            ex.complete = False
            events.append(ExchangeDone(ex))
        rq.state = rs.state = _IGNORE
        rq.buf = rs.buf = b""
        return events

    def _hunt(self, side: _Side, direction: Direction, data: bytes) -> bytes:
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
        side.state = _HEAD
        side.probation = True
        return data

    # ------------------------------------------------------------------ byte loop

    def _run(self, side: _Side, data: bytes, ts: int, events: list[ParserEvent]) -> None:
        buf: bytes | bytearray
        if side.buf:
            buf = side.buf
            buf += data  # bytearray: amortised O(1), so byte-by-byte feeding stays linear
            side.buf = b""
        else:
            buf = data
        n = len(buf)
        pos = 0
        limit = self._limit
        while pos < n:
            st = side.state
            if st == _HEAD:
                if side.first_ts is None:
                    # Stray CRLFs between messages are tolerated (RFC 9112 section 2.2).
                    while pos < n and buf[pos] in _CRLF_BYTES:
                        pos += 1
                    if pos == n:
                        break
                    side.first_ts = ts
                scan = side.scan if side.scan > pos else pos
                end = buf.find(b"\r\n\r\n", scan)
                if end >= 0:
                    # A bare-LF head may end first (and its body hold a CRLFCRLF).
                    lf = buf.find(b"\n\n", scan, end)
                    end = end + 4 if lf < 0 else lf + 2
                else:
                    end = buf.find(b"\n\n", scan)
                    if end >= 0:
                        end += 2
                    else:
                        if n - pos > MAX_HEAD:
                            self._bad(side, f"message head larger than {MAX_HEAD} bytes", events)
                            return
                        side.buf = _stash(buf, pos)
                        side.scan = max(0, n - pos - 3)
                        return
                side.scan = 0
                if end - pos > MAX_HEAD:
                    self._bad(side, f"message head larger than {MAX_HEAD} bytes", events)
                    return
                head = buf[pos:end]
                if side.is_request:
                    pos = self._request_head(side, head, end, ts, events)
                else:
                    pos = self._response_head(side, head, buf, end, ts, events)
            elif st == _CL:
                take = side.remaining if side.remaining < n - pos else n - pos
                if side.tap is not None:
                    events += side.tap(bytes(buf[pos : pos + take]), ts)
                body = side.body
                if not body.size and take <= limit:  # type: ignore[union-attr]
                    # The usual case, a body in one piece: no need for Body.append.
                    chunk = buf[pos : pos + take]
                    body.data = chunk if type(chunk) is bytes else bytes(chunk)  # type: ignore[union-attr]
                    body.size = take  # type: ignore[union-attr]
                elif body.truncated:  # type: ignore[union-attr]
                    body.size += take  # type: ignore[union-attr]
                else:
                    body.append(buf[pos : pos + take], limit)  # type: ignore[union-attr]
                pos += take
                side.remaining -= take
                if side.remaining == 0:
                    self._end(side, ts, events)
            elif st == _CLOSE:
                if side.tap is not None:
                    events += side.tap(bytes(buf[pos:]), ts)
                body = side.body
                if body.truncated:  # type: ignore[union-attr]
                    body.size += n - pos  # type: ignore[union-attr]
                else:
                    body.append(buf[pos:], limit)  # type: ignore[union-attr]
                pos = n
            elif st == _CHUNK_SIZE:
                eol = buf.find(b"\n", pos)
                if eol < 0:
                    if n - pos > MAX_HEAD or buf[pos] not in _HEX:
                        self._bad(side, "invalid chunk size line", events)
                        return
                    side.buf = _stash(buf, pos)
                    return
                size = _chunk_size(buf[pos:eol])
                if size < 0:
                    self._bad(side, "invalid chunk size", events)
                    return
                pos = eol + 1
                if size:
                    side.remaining = size
                    side.state = _CHUNK_DATA
                else:
                    side.state = _TRAILERS
            elif st == _CHUNK_DATA:
                take = side.remaining if side.remaining < n - pos else n - pos
                if side.tap is not None:
                    events += side.tap(bytes(buf[pos : pos + take]), ts)
                body = side.body
                if body.truncated:  # type: ignore[union-attr]
                    body.size += take  # type: ignore[union-attr]
                else:
                    body.append(buf[pos : pos + take], limit)  # type: ignore[union-attr]
                pos += take
                side.remaining -= take
                if side.remaining == 0:
                    side.state = _CHUNK_END
            elif st == _CHUNK_END:
                c = buf[pos]
                if c == 10:
                    pos += 1
                elif c == 13:
                    if pos + 1 == n:
                        side.buf = _stash(buf, pos)
                        return
                    if buf[pos + 1] != 10:
                        self._bad(side, "missing CRLF after chunk data", events)
                        return
                    pos += 2
                else:
                    self._bad(side, "missing CRLF after chunk data", events)
                    return
                side.state = _CHUNK_SIZE
            elif st == _TRAILERS:
                pos = self._trailers(side, buf, pos, ts, events)
                if pos < 0:
                    return
            elif st == _HOLD:
                if side.hold_ts is None:
                    side.hold_ts = ts
                if n - pos > _MAX_HOLD:
                    self._bad(side, "too much data while a protocol switch is undecided", events)
                    return
                side.buf = _stash(buf, pos)
                return
            else:  # _DESYNC (a failed resync guess) or _IGNORE: the rest is dropped
                return

    def _trailers(
        self, side: _Side, buf: bytes | bytearray, pos: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """Consume the trailer section at ``pos``; -1 when the caller must stop."""
        n = len(buf)
        c = buf[pos]
        if c == 13:
            if pos + 1 == n:
                side.buf = _stash(buf, pos)
                return -1
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
                    return -1
                side.buf = _stash(buf, pos)
                side.scan = max(0, n - pos - 3)
                return -1
            end += 2
        side.scan = 0
        trailers = _parse_fields(buf[pos:end])
        if trailers is None:
            self._bad(side, "invalid trailer section", events)
            return -1
        side.msg.trailers = trailers  # type: ignore[union-attr]
        self._end(side, ts, events)
        return end

    # ------------------------------------------------------------------ heads

    def _llhttp(self, side: _Side, head: bytes | bytearray, retry: bool = True) -> bool:
        """Whether llhttp accepts ``head`` (one complete head, nothing after it)."""
        sink = side.sink
        sink.complete = sink.msg_complete = False
        parser = side.llhttp
        fresh = parser is None
        if parser is None:
            parser = side.llhttp = (
                HttpRequestParser(sink) if side.is_request else HttpResponseParser(sink)
            )
        try:
            parser.feed_data(head)
        except HttpParserUpgrade:
            side.llhttp = None  # paused for the switch; whether it happens is decided here
        except HttpParserError:
            side.llhttp = None
            if sink.complete:
                # Raised after the head, about what follows it (a pause for a switch llhttp
                # half-recognised, a transfer coding it refuses): framing is decided here.
                return True
            # A reused parser may refuse for its own reasons (llhttp's "Data after
            # Connection: close"); only a fresh parser's verdict is about this head.
            return self._llhttp(side, head, False) if retry and not fresh else False
        if not sink.msg_complete:
            side.llhttp = None  # it expects a body we will not feed it
        return sink.complete

    def _request_fields(self, side: _Side, head: bytes | bytearray) -> HeadFields | None:
        if self._llhttp(side, head):
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) == 3:
                headers, special = _split_fields(lines)
                return parts[0], parts[1], parts[2][5:], headers, special
        return _http1_h11.request_head(head, MAX_HEAD)

    def _response_fields(self, side: _Side, head: bytes | bytearray) -> HeadFields | None:
        if self._llhttp(side, head):
            lines = head.decode("latin-1").split("\r\n")
            line = lines[0]  # validated: "HTTP/d.d ddd[ reason]"
            headers, special = _split_fields(lines)
            return int(line[9:12]), line[13:], line[5:8], headers, special
        return _http1_h11.response_head(head, MAX_HEAD)

    def _request_head(
        self, side: _Side, head: bytes | bytearray, end: int, ts: int, events: list[ParserEvent]
    ) -> int:
        """A complete request head: a new exchange, pending; returns where parsing resumes."""
        fields = self._request_fields(side, head)
        if fields is None:
            self._bad(side, "invalid request head", events)
            return _STOP
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
            method=method,  # type: ignore[arg-type]
            authority=host,
            path=target,
            http_version=version,
            headers=headers,
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
        if len(self._waiting) > _MAX_WAITING:
            self._evict(events)
        if upgrade or method == "CONNECT":
            side.hold_ex = ex
        if te:
            if not _is_chunked(te):
                self._bad(side, "request with a Transfer-Encoding other than chunked", events)
                return _STOP
            side.state = _CHUNK_SIZE
        elif cl:
            if not self._frame_by_length(side, cl, ts, events):
                return _STOP
        else:
            self._end(side, ts, events)
        return end

    def _response_head(
        self,
        side: _Side,
        head: bytes | bytearray,
        buf: bytes | bytearray,
        end: int,
        ts: int,
        events: list[ParserEvent],
    ) -> int:
        """A complete response head: pair it FIFO and frame its body by the request's method."""
        fields = self._response_fields(side, head)
        if fields is None:
            self._bad(side, "invalid response head", events)
            return _STOP
        status, reason, version, headers, special = fields
        side.probation = False
        if status < 200 and status != 101:
            # Informational: the final response that follows answers the same request.
            if self._waiting:
                self._waiting[0].note(_status_note(status, reason))
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
                return _STOP
            if rq.state == _HOLD:  # the switch was refused: the held bytes are HTTP
                self._release(ts, events)
                if self._dead:
                    return _STOP
        elif status == 101:
            self._end(side, ts, events)
            self._switch(ex, status, special, buf, end, events)
            return _STOP

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
            side.state = _CHUNK_SIZE if _is_chunked(te) else _CLOSE
        elif cl:
            if not self._frame_by_length(side, cl, ts, events):
                return _STOP
        else:
            side.state = _CLOSE
        return end

    def _frame_by_length(
        self, side: _Side, cl: list[str], ts: int, events: list[ParserEvent]
    ) -> bool:
        """Frame the body by its Content-Length values; False once refused as invalid."""
        length = _content_length(cl)
        if length < 0:
            self._bad(side, "invalid Content-Length", events)
            return False
        if length:
            side.remaining = length
            side.state = _CL
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
            protocol = _protocol_name(name)
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
        rq.state = self._rs.state = _IGNORE
        rq.hold_ex = None
        self._dead = not self._waiting

    def _release(self, ts: int, events: list[ParserEvent]) -> None:
        """Parse the client bytes held during a refused switch (stamped when first held)."""
        rq = self._rq
        held = bytes(rq.buf)
        rq.buf = b""
        rq.state = _HEAD
        if held:
            self._run(rq, held, rq.hold_ts if rq.hold_ts is not None else ts, events)
        rq.hold_ts = None

    # ------------------------------------------------------------------ message ends

    def _end(self, side: _Side, ts: int, events: list[ParserEvent]) -> None:
        ex = side.ex
        side.ex = side.msg = side.body = None
        side.first_ts = None
        side.state = _HEAD
        if ex is None:
            return
        if side.is_request:
            ex.timings.request_end = ts
            if side.hold_ex is ex:
                side.state = _HOLD
                side.hold_ts = None
        else:
            ex.timings.response_end = ts
            ex.complete = bool(ex.request.method)
            events.append(ExchangeDone(ex))

    # ------------------------------------------------------------------ loss and failure

    def _gap(self, side: _Side, size: int, ts: int, events: list[ParserEvent]) -> None:
        st = side.state
        if st == _CL:
            rem = side.remaining
            body = side.body
            body.skip(min(size, rem))  # type: ignore[union-attr]
            side.ex.note(_BODY_LOST_NOTE)  # type: ignore[union-attr]
            if size < rem:
                side.remaining = rem - size
                return
            self._end(side, ts, events)
            if size > rem:
                self._gap(side, size - rem, ts, events)
        elif st == _CHUNK_DATA:
            rem = side.remaining
            if size <= rem:
                side.body.skip(size)  # type: ignore[union-attr]
                side.ex.note(_BODY_LOST_NOTE)  # type: ignore[union-attr]
                side.remaining = rem - size
                if side.remaining == 0:
                    side.state = _CHUNK_END
                return
            extra = size - rem
            if extra in (2, 7):
                # A write cut short by the capture usually ends where the chunk does: the
                # CRLF after the data (2) or that plus a final "0\r\n\r\n" (7). Guess so, on
                # probation: if the next bytes do not parse, the direction is merely lost.
                side.body.skip(rem)  # type: ignore[union-attr]
                side.ex.note(_BODY_LOST_NOTE)  # type: ignore[union-attr]
                side.probation = True
                if extra == 2:
                    side.state = _CHUNK_SIZE
                else:
                    self._end(side, ts, events)
                return
            self._lose(side, f"{size} bytes lost in capture", events)
        elif st == _CLOSE:
            side.body.skip(size)  # type: ignore[union-attr]
            side.ex.note(_BODY_LOST_NOTE)  # type: ignore[union-attr]
        elif st in (_DESYNC, _IGNORE):
            side.buf = b""  # an undecided candidate is not followed by what came next
            if not side.is_request:
                self._responses_lost = f"{size} bytes lost in capture"
            return
        else:
            self._lose(side, f"{size} bytes lost in capture", events)

    def _lose(self, side: _Side, note: str, events: list[ParserEvent]) -> None:
        """This direction lost sync: settle the exchange concerned, then hunt for a message."""
        ex = side.ex
        if side.state == _HOLD:
            ex = side.hold_ex
            if ex is not None:
                ex.note(note)
            side.hold_ex = None
        elif ex is not None:
            ex.note(note)
            if side.is_request:
                ex.request.body.truncated = True  # its response may still come
            else:
                ex.complete = False
                events.append(ExchangeDone(ex))
        elif side.is_request:
            # A request (or its head) vanished: keep its place so FIFO pairing holds.
            lost = Exchange(connection=self._conn)
            lost.note(note)
            lost.note("request not captured")
            self._waiting.append(lost)
            if len(self._waiting) > _MAX_WAITING:
                self._evict(events)
        elif self._waiting and side.first_ts is not None:
            # a response had begun: it answered the oldest request
            lost = self._waiting.popleft()
            lost.note(note)
            lost.note("response not captured")
            lost.complete = False
            events.append(ExchangeDone(lost))
        else:
            # Which waiting requests the lost bytes answered is known only when a response
            # is seen again (_settle_unanswered).
            self._responses_lost = note
        side.ex = side.msg = side.body = None
        side.first_ts = None
        side.buf = b""
        side.scan = 0
        side.probation = False
        side.state = _DESYNC
        side.llhttp = None

    def _settle_unanswered(self, resp_ts: int | None, note: str,
                           events: list[ParserEvent]) -> None:
        """After response bytes were lost, pair the next response by time, not by queue.

        Responses come in request order, so a response seen after a loss answers a request
        sent before it began, and every request older than that one had its response in the
        lost bytes. Clients rarely pipeline: the newest request sent before the response
        began is the one it answers.
        """
        waiting = self._waiting
        answered = 0
        if resp_ts is not None:
            for i, ex in enumerate(waiting):
                start = ex.timings.request_start
                if start is not None and start <= resp_ts:
                    answered = i
        for _ in range(answered):
            lost = waiting.popleft()
            if lost is self._rq.hold_ex:
                self._rq.hold_ex = None
            lost.note(note)
            lost.note("response not captured")
            lost.complete = False
            events.append(ExchangeDone(lost))

    def _evict(self, events: list[ParserEvent]) -> None:
        """Too many requests without responses (responses not captured?): bound memory by
        settling the oldest. Pipelining this deep does not happen in practice."""
        old = self._waiting.popleft()
        if old is self._rq.hold_ex:
            self._rq.hold_ex = None
        old.note("no response seen (too many requests outstanding)")
        old.complete = False
        events.append(ExchangeDone(old))

    def _bad(self, side: _Side, reason: str, events: list[ParserEvent]) -> None:
        """Unparseable bytes: lost sync if we were guessing, else the connection fails."""
        if side.probation:
            if side.ex is None and side.state != _HOLD:
                # A false resync: nothing was lost that was not already reported.
                side.buf = b""
                side.scan = 0
                side.first_ts = None
                side.probation = False
                side.state = _DESYNC
                side.llhttp = None
            else:
                self._lose(side, f"lost sync ({reason})", events)
            return
        self._fail(reason, events)

    def _fail(self, reason: str, events: list[ParserEvent]) -> None:
        if self._dead and not self._waiting and self._rs.ex is None:
            return
        note = f"parse error: {reason}"
        flush = []
        if self._rs.ex is not None:
            flush.append(self._rs.ex)
        flush.extend(self._waiting)
        self._waiting.clear()
        for ex in flush:
            ex.note(note)
            ex.complete = False
            events.append(ExchangeDone(ex))
        events.append(ParseFailed(reason))
        for side in (self._rq, self._rs):
            side.state = _IGNORE
            side.buf = b""
            side.ex = None
        self._dead = True


# ---------------------------------------------------------------------- helpers


def _split_fields(lines: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(headers, special) from the lines of a head llhttp accepted (so: no obs-fold,
    CRLF line ends, one colon after a token name); ``special`` has lowercased names."""
    headers: list[tuple[str, str]] = []
    special: list[tuple[str, str]] = []
    add = headers.append
    for line in lines[1:-2]:
        name, _, value = line.partition(":")
        if len(name) in SPECIAL_LENS:
            value = value.strip(" \t")
            add((name, value))
            special.append((name.lower(), value))
        else:
            add((name, value.strip(" \t")))
    return headers, special


def _stash(buf: bytes | bytearray, pos: int) -> bytearray:
    """The unconsumed tail of ``buf`` as a growable buffer (no copy when already one)."""
    if isinstance(buf, bytearray):
        return buf if pos == 0 else buf[pos:]
    return bytearray(memoryview(buf)[pos:])


def _status_note(status: int, reason: str) -> str:
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    return f"{status} {reason}".rstrip()


def _protocol_name(upgrade: str) -> str:
    tokens = [t.strip().lower() for t in upgrade.split(",") if t.strip()]
    for token in tokens:
        if token == "h2c":
            return "h2c"
        if token.startswith("websocket"):
            return "websocket"
    return tokens[0] if tokens else "unknown"


def _is_chunked(te: list[str]) -> bool:
    """Whether the final transfer coding is chunked (RFC 9112 section 6.3)."""
    return te[-1].rsplit(",", 1)[-1].strip(" \t").lower() == "chunked"


def _content_length(values: list[str]) -> int:
    """The Content-Length, or -1 if invalid (also when repeated with different values)."""
    if len(values) == 1 and values[0].isdecimal() and len(values[0]) < 19:
        return int(values[0])
    length = -1
    for value in values:
        for part in value.split(","):
            part = part.strip(" \t")
            if not (part.isascii() and part.isdecimal()) or len(part) > 18:
                return -1
            n = int(part)
            if length not in (-1, n):
                return -1
            length = n
    return length


def _chunk_size(line: bytes | bytearray) -> int:
    """The size on a chunk-size line (no LF), or -1 if the line is invalid."""
    size, _, _ext = bytes(line).rstrip(b"\r").partition(b";")
    size = size.rstrip(b" \t")
    if not size or len(size) > 16 or not _HEX.issuperset(size):
        return -1
    value = int(size, 16)
    return value if value <= _MAX_CHUNK_SIZE else -1


def _parse_fields(block: bytes | bytearray) -> list[tuple[str, str]] | None:
    """Header fields of a trailer block (ends with its empty line), or None if malformed."""
    fields: list[tuple[str, str]] = []
    for raw in bytes(block).split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line[0] in _OWS:  # obs-fold: continues the previous field's value
            if not fields:
                return None
            name, value = fields[-1]
            more = line.strip(b" \t").decode("latin-1")
            fields[-1] = (name, f"{value} {more}")
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip(b" \t"):
            return None
        fields.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return fields
