"""Stream lifecycle: the streams of one connection, from first frame to ExchangeDone.

A stream becomes an Exchange; streams first seen without their request HEADERS (joined late,
or lost in a gap) are opened implicitly with a note. Closed stream ids are remembered so late
frames on them open nothing new; ``max_streams`` bounds the open streams (oldest evicted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from httptap.model import Connection, Exchange
from httptap.protocols.base import BodyTap, Direction, ExchangeDone, ParseFailed, ParserEvent
from httptap.protocols.grpc import GrpcFramer

if TYPE_CHECKING:
    from httptap.protocols.http2._side import Side
    from httptap.protocols.websocket.connection import WebSocketParser

#: Remember this many closed stream ids, so late frames on them open nothing new.
_CLOSED_MEMORY = 8192

# Keys of notes that are rewritten as their count grows.
NK_UNDECODABLE = "undecodable"
NK_LOST = "lost"


class StreamExtra:
    """What few streams carry: an event stream's body tap, or (an extended CONNECT, RFC 8441)
    a WebSocket. Kept apart so that the many plain streams pay one slot for it."""

    __slots__ = ("protocol", "tap", "ws")

    def __init__(self, *, protocol: str = "", tap: BodyTap | None = None) -> None:
        self.protocol = protocol  # the extended CONNECT's :protocol
        self.tap = tap  # sees the response body as it arrives
        self.ws: WebSocketParser | None = None


#: the extra of a stream that turned out to need none (shared)
PLAIN = StreamExtra()


class Stream:
    """Parser state of one HTTP/2 stream and the Exchange it becomes."""

    __slots__ = (
        "ex",
        "extra",
        "grpc_req",
        "grpc_resp",
        "implicit",
        "lost",
        "notes_by_key",
        "req_ended",
        "req_headers_done",
        "resp_ended",
        "resp_final",
        "sid",
        "sniff",
        "undecodable",
        "undecodable_joined",
    )

    def __init__(self, sid: int, ex: Exchange) -> None:
        self.sid = sid
        self.ex = ex
        self.req_headers_done = False  # later request HEADERS are trailers
        self.req_ended = False
        self.resp_final = False  # a non-1xx response head was seen; later HEADERS are trailers
        self.resp_ended = False
        self.grpc_req: GrpcFramer | None = None
        self.grpc_resp: GrpcFramer | None = None
        self.implicit = False  # first seen without its request HEADERS
        # content-type unknown (undecodable headers): recognise gRPC from the body's framing
        self.sniff = False
        self.undecodable = 0
        self.undecodable_joined = False
        self.lost = 0
        self.notes_by_key: dict[str, str] = {}
        # None until its first response DATA (or an extended CONNECT): see StreamExtra
        self.extra: StreamExtra | None = None

    def keyed_note(self, key: str, text: str) -> None:
        """Set the note ``key`` to ``text``, replacing its previous text in place."""
        notes = self.ex.notes
        old = self.notes_by_key.get(key)
        self.notes_by_key[key] = text
        if old is not None and old in notes:
            notes[notes.index(old)] = text
        else:
            self.ex.note(text)


class StreamBook:
    """The open and recently closed streams of a connection, and the events they cause."""

    def __init__(
        self, connection: Connection, *, body_limit: int, midstream: bool, max_streams: int
    ) -> None:
        self.connection = connection
        self.body_limit = body_limit
        self.midstream = midstream
        self.max_streams = max(1, max_streams)
        self._streams: dict[int, Stream] = {}
        self._closed: dict[int, None] = {}  # recently closed stream ids, oldest first
        self._dirty: dict[int, Stream] = {}  # streams changed by the current call
        self._events: list[ParserEvent] = []
        self._ts = 0  # ts of the current call
        self._failed = False

    def _open(self, sid: int) -> Stream:
        while len(self._streams) >= self.max_streams:
            oldest = next(iter(self._streams.values()))
            self._finish(
                oldest,
                f"evicted: more than {self.max_streams} open streams on this connection",
                complete=False,
            )
        ex = Exchange(connection=self.connection, stream_id=sid)
        ex.request.http_version = "2"
        st = Stream(sid, ex)
        self._streams[sid] = st
        return st

    def _stream_for(self, side: Side, sid: int) -> Stream | None:
        st = self._streams.get(sid)
        if st is None:
            st = self._implicit(side, sid)
        return st

    def _implicit(self, side: Side, sid: int) -> Stream | None:
        """A stream first seen without its request HEADERS (joined late, or lost in a gap)."""
        if sid in self._closed:
            return None
        if side.direction is Direction.REQUEST and not sid & 1:
            return None
        st = self._open(sid)
        st.req_headers_done = True  # request HEADERS from now on would be trailers
        st.implicit = st.sniff = True
        st.ex.timings.request_start = self._ts
        if side.direction is Direction.RESPONSE:
            st.req_ended = True  # the request side's end was before our time
        if self.midstream:
            st.ex.note("joined mid-connection: request headers not seen")
        else:
            st.ex.note("request headers not captured")
        self._dirty[sid] = st
        return st

    def _finish(self, st: Stream, note: str | None, *, complete: bool) -> None:
        if self._streams.get(st.sid) is not st:
            return
        del self._streams[st.sid]
        self._dirty.pop(st.sid, None)
        closed = self._closed
        closed[st.sid] = None
        if len(closed) > _CLOSED_MEMORY:
            del closed[next(iter(closed))]
        if note:
            st.ex.note(note)
        st.ex.complete = complete
        self._events.append(ExchangeDone(st.ex))

    def _end_of_stream(self, st: Stream, direction: Direction) -> None:
        t = st.ex.timings
        if direction is Direction.REQUEST:
            st.req_ended = True
            t.request_end = self._ts
            if st.grpc_req is not None:
                st.grpc_req.close()
        else:
            st.resp_ended = True
            t.response_end = self._ts
            if st.grpc_resp is not None:
                st.grpc_resp.close()
        self._merge_grpc_notes(st)
        if st.req_ended and st.resp_ended:
            self._finish(st, None, complete=True)
        else:
            self._dirty[st.sid] = st

    def _merge_grpc_notes(self, st: Stream) -> None:
        for framer in (st.grpc_req, st.grpc_resp):
            if framer is not None:
                for text in framer.notes:
                    st.ex.note(text)

    def _fail(self, reason: str) -> None:
        for st in list(self._streams.values()):
            self._finish(st, f"HTTP/2 parsing stopped: {reason}", complete=False)
        self._events.append(ParseFailed(reason))
        self._failed = True
        self._dirty = {}
