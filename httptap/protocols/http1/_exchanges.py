"""Exchanges of one HTTP/1 connection: pairing, message ends, capture loss and failure.

Loss: a gap inside a body of known remaining length (Content-Length, or inside one chunk's
data) is counted with ``Body.skip`` and parsing stays in sync; a close-delimited body simply
counts it. Any other gap loses sync for that direction: the exchange concerned gets a note,
and the direction resumes at the next feed that begins like a message.
"""

from __future__ import annotations

from collections import deque

from httptap.model import Body, Connection, Exchange
from httptap.protocols.base import ExchangeDone, ParseFailed, ParserEvent
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
    Side,
)

MAX_WAITING = 256  # requests awaiting a response (pipelining depth); the oldest go beyond
_BODY_LOST_NOTE = "body not fully captured"


class ExchangeBook:
    """Connection state shared by the byte loop: both sides and the requests awaiting answers."""

    def __init__(self, connection: Connection, *, body_limit: int, midstream: bool) -> None:
        self._conn = connection
        self._limit = body_limit
        start = DESYNC if midstream else HEAD
        self._rq = Side(True, start)
        self._rs = Side(False, start)
        self._waiting: deque[Exchange] = deque()  # requests seen, final response not yet begun
        # why response bytes were lost since the last response head ("" when none were)
        self._responses_lost = ""
        self._join_note = midstream
        self._dead = False  # failed, upgraded or closed

    # ------------------------------------------------------------------ message ends

    def _end(self, side: Side, ts: int, events: list[ParserEvent]) -> None:
        ex = side.ex
        side.ex = side.msg = side.body = None  # side.reset_message(), inlined: per message
        side.first_ts = None
        side.state = HEAD
        if ex is None:
            return
        if side.is_request:
            ex.timings.request_end = ts
            if side.hold_ex is ex:
                side.state = HOLD
                side.hold_ts = None
        else:
            ex.timings.response_end = ts
            ex.complete = bool(ex.request.method)
            events.append(ExchangeDone(ex))

    # ------------------------------------------------------------------ loss and failure

    def _gap(self, side: Side, size: int, ts: int, events: list[ParserEvent]) -> None:
        st = side.state
        body, ex = side.body, side.ex
        if st in (DESYNC, IGNORE):
            side.buf = b""  # an undecided candidate is not followed by what came next
            if not side.is_request:
                self._responses_lost = f"{size} bytes lost in capture"
        elif body is None or ex is None:  # between messages, in a head, held
            self._lose(side, f"{size} bytes lost in capture", events)
        elif st == CL:
            rem = side.remaining
            _skip(body, ex, min(size, rem))
            if size < rem:
                side.remaining = rem - size
                return
            self._end(side, ts, events)
            if size > rem:
                self._gap(side, size - rem, ts, events)
        elif st == CHUNK_DATA:
            self._chunk_gap(side, body, ex, size, ts, events)
        elif st == CLOSE:
            _skip(body, ex, size)
        else:
            self._lose(side, f"{size} bytes lost in capture", events)

    def _chunk_gap(
        self, side: Side, body: Body, ex: Exchange, size: int, ts: int, events: list[ParserEvent]
    ) -> None:
        rem = side.remaining
        if size <= rem:
            _skip(body, ex, size)
            side.remaining = rem - size
            if side.remaining == 0:
                side.state = CHUNK_END
            return
        extra = size - rem
        if extra in (2, 7):
            # A write cut short by the capture usually ends where the chunk does: the
            # CRLF after the data (2) or that plus a final "0\r\n\r\n" (7). Guess so, on
            # probation: if the next bytes do not parse, the direction is merely lost.
            _skip(body, ex, rem)
            side.probation = True
            if extra == 2:
                side.state = CHUNK_SIZE
            else:
                self._end(side, ts, events)
            return
        self._lose(side, f"{size} bytes lost in capture", events)

    def _lose(self, side: Side, note: str, events: list[ParserEvent]) -> None:
        """This direction lost sync: settle the exchange concerned, then hunt for a message."""
        ex = side.ex
        if side.state == HOLD:
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
            if len(self._waiting) > MAX_WAITING:
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
        side.reset_message()
        side.desync()

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

    def _bad(self, side: Side, reason: str, events: list[ParserEvent]) -> None:
        """Unparseable bytes: lost sync if we were guessing, else the connection fails."""
        if side.probation:
            if side.ex is None and side.state != HOLD:
                # A false resync: nothing was lost that was not already reported.
                side.first_ts = None
                side.desync()
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
            side.state = IGNORE
            side.buf = b""
            side.ex = None
        self._dead = True


def _skip(body: Body, ex: Exchange, size: int) -> None:
    """``size`` body bytes were not captured: count them, and say so on the exchange."""
    body.skip(size)
    ex.note(_BODY_LOST_NOTE)
