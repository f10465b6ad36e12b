"""The per-connection HTTP/2 parser: both directions in, one Exchange per stream out.

Frames are read by ``_reader``; header blocks go through a ``TolerantDecoder`` per direction
(``_headers``, ``_hpack``), DATA payloads are streamed into bodies and into a ``GrpcFramer``
for gRPC calls (``_bodies``); streams live and end in ``_streams``. The parser is passive and
must survive what a real endpoint would reject: joining mid-connection, capture gaps,
garbage. It resynchronises at a plausible frame boundary, shows unknown headers as
placeholders, notes every loss on the exchanges it concerns, and never raises.
"""

from __future__ import annotations

from collections.abc import Callable

from httptap.model import DEFAULT_BODY_LIMIT, Connection, Exchange, Request
from httptap.protocols.base import BodyTap, Direction, ExchangePending, ParserEvent
from httptap.protocols.grpc import is_grpc
from httptap.protocols.http2._frames import ANY_FRAME
from httptap.protocols.http2._hpack import TolerantDecoder
from httptap.protocols.http2._reader import FrameReader
from httptap.protocols.http2._side import M_FRAMES, M_PREFACE, M_RESYNC, Side
from httptap.protocols.http2._streams import Stream


class Http2Parser(FrameReader):
    """One HTTP/2 connection, both directions → ExchangePending / ExchangeDone / ParseFailed.

    ``midstream``: the capture joined an established connection (no preface, unknown HPACK
    state). ``upgraded``: the connection switched from HTTP/1.1 via ``Upgrade: h2c``; stream 1
    is the upgrade request's, answered here (``upgrade_request``, if given, fills its request).
    ``max_streams`` bounds the open streams tracked; the oldest is evicted beyond it.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        body_limit: int = DEFAULT_BODY_LIMIT,
        midstream: bool = False,
        upgraded: bool = False,
        upgrade_request: Request | None = None,
        max_streams: int = 4096,
        body_tap: Callable[[Exchange], BodyTap | None] | None = None,
    ) -> None:
        """``body_tap(exchange)``, asked at a response's first DATA, may return a tap that
        sees that response's body as it arrives (server-sent events)."""
        super().__init__(
            connection, body_limit=body_limit, midstream=midstream, max_streams=max_streams
        )
        self._body_tap = body_tap
        self._started = False
        self._closed_conn = False
        self._internal_errors = 0  # exceptions caught by the safety net (tests assert 0)
        in_sync = not midstream
        req_mode = M_RESYNC if midstream else M_PREFACE
        resp_mode = M_RESYNC if midstream else M_FRAMES
        self._sides = (
            Side(Direction.REQUEST, req_mode, TolerantDecoder(in_sync=in_sync)),
            Side(Direction.RESPONSE, resp_mode, TolerantDecoder(in_sync=in_sync)),
        )
        if midstream:
            for side in self._sides:
                side.max_frame = ANY_FRAME
        self._upgrade_stream: Stream | None = None
        if upgraded and not midstream:
            # The client's SETTINGS travelled in the HTTP2-Settings header, which we did not
            # parse: the server's frame size limit is unknown.
            self._sides[Direction.RESPONSE].max_frame = ANY_FRAME
            ex = Exchange(
                connection=connection,
                request=upgrade_request if upgrade_request is not None else Request(),
                stream_id=1,
            )
            ex.note("request sent as HTTP/1.1 Upgrade")
            st = Stream(1, ex)
            st.req_headers_done = True
            st.req_ended = True
            self._streams[1] = st
            self._upgrade_stream = st
            if upgrade_request is not None and is_grpc(upgrade_request.header("content-type")):
                self._start_grpc(st)

    def feed(self, direction: Direction, data: bytes, ts_ns: int) -> list[ParserEvent]:
        """Parse ``data`` travelling in ``direction``; return the events it caused."""
        if self._failed or self._closed_conn or not data:
            return []
        self._begin(ts_ns)
        side = self._sides[direction]
        try:
            self._consume(side, bytes(data))
        except Exception as exc:  # a bug must not take the capture down: resync instead
            self._internal_error(side, exc)
        return self._end()

    def gap(self, direction: Direction, size: int, ts_ns: int) -> list[ParserEvent]:
        """``size`` bytes went by in ``direction`` that were not copied."""
        if self._failed or self._closed_conn or size <= 0:
            return []
        self._begin(ts_ns)
        side = self._sides[direction]
        try:
            self._gap(side, size)
        except Exception as exc:
            self._internal_error(side, exc)
        return self._end()

    def close(self, ts_ns: int) -> list[ParserEvent]:
        """The connection ended: every open stream is flushed with a note."""
        if self._failed or self._closed_conn:
            return []
        self._begin(ts_ns)
        self._closed_conn = True
        for st in list(self._streams.values()):
            if st.grpc_req is not None:
                st.grpc_req.close()
            if st.grpc_resp is not None:
                st.grpc_resp.close()
            self._merge_grpc_notes(st)
            if st.ex.response is None:
                text = "connection closed before the response"
            elif not st.resp_ended:
                text = "connection closed before the response ended"
            else:
                text = "connection closed before the client ended the stream"
            self._finish(st, text, complete=st.resp_ended)
        return self._end()

    def _begin(self, ts_ns: int) -> None:
        self._ts = ts_ns
        self._events = []
        if not self._started:
            self._started = True
            up = self._upgrade_stream
            if up is not None and up.ex.timings.request_start is None:
                # The upgrade request went out just before the switch we are told about.
                up.ex.timings.request_start = ts_ns
                up.ex.timings.request_end = ts_ns

    def _end(self) -> list[ParserEvent]:
        events = self._events
        if self._dirty:
            streams = self._streams
            for sid, st in self._dirty.items():
                if streams.get(sid) is st:
                    events.append(ExchangePending(st.ex))
            self._dirty = {}
        self._events = []
        return events

    def _internal_error(self, side: Side, exc: Exception) -> None:
        self._internal_errors += 1
        for st in self._streams.values():
            st.ex.note(f"HTTP/2 parser error ({type(exc).__name__}); resynchronised")
        self._lose(side)
