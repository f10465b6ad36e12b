"""Sans-IO HTTP/2 parser: both directions of one connection, one Exchange per stream.

Frames are parsed here (9-byte header, then the payload of the few frame types that matter);
header blocks go through a ``TolerantDecoder`` per direction, DATA payloads are streamed into
bodies (and into a ``GrpcFramer`` for gRPC calls) without buffering whole frames. The parser is
passive and must survive what a real endpoint would reject: joining mid-connection, capture
gaps, garbage. It resynchronises at a plausible frame boundary, shows unknown headers as
placeholders, notes every loss on the exchanges it concerns, and never raises.
"""

from __future__ import annotations

from httptap.model import (
    DEFAULT_BODY_LIMIT,
    Connection,
    Exchange,
    GrpcCall,
    Headers,
    Request,
    Response,
    find_header,
)
from httptap.protocols.base import (
    Direction,
    ExchangeDone,
    ExchangePending,
    ParseFailed,
    ParserEvent,
)
from httptap.protocols.grpc import GrpcFramer, apply_status, is_grpc, looks_like_grpc, new_call
from httptap.protocols.hpack_tolerant import DecodedBlock, TolerantDecoder

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types (RFC 9113 section 6).
_DATA = 0x0
_HEADERS = 0x1
_PRIORITY = 0x2
_RST_STREAM = 0x3
_SETTINGS = 0x4
_PUSH_PROMISE = 0x5
_PING = 0x6
_GOAWAY = 0x7
_WINDOW_UPDATE = 0x8
_CONTINUATION = 0x9

# Flags.
_END_STREAM = 0x1
_ACK = 0x1
_END_HEADERS = 0x4
_PADDED = 0x8
_PRIORITY_FLAG = 0x20

#: Flags defined per frame type; used only to judge whether bytes look like a frame header.
_DEFINED_FLAGS = (0x09, 0x2D, 0x00, 0x00, 0x01, 0x0C, 0x01, 0x00, 0x00, 0x04)
#: Frame types that must / must not be on stream 0.
_CONNECTION_FRAMES = frozenset({_SETTINGS, _PING, _GOAWAY})
_FIXED_LENGTH = {_PRIORITY: 5, _RST_STREAM: 4, _PING: 8, _WINDOW_UPDATE: 4}

_ERROR_CODES = (
    "NO_ERROR",
    "PROTOCOL_ERROR",
    "INTERNAL_ERROR",
    "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT",
    "STREAM_CLOSED",
    "FRAME_SIZE_ERROR",
    "REFUSED_STREAM",
    "CANCEL",
    "COMPRESSION_ERROR",
    "CONNECT_ERROR",
    "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY",
    "HTTP_1_1_REQUIRED",
)

_SETTINGS_HEADER_TABLE_SIZE = 0x1
_SETTINGS_MAX_FRAME_SIZE = 0x5

#: SETTINGS_MAX_FRAME_SIZE before the peer says otherwise (RFC 9113 6.5.2).
_DEFAULT_MAX_FRAME = 16_384
#: Largest frame length the protocol can express; the limit when SETTINGS were not seen.
_ANY_FRAME = (1 << 24) - 1
#: While resynchronising without known SETTINGS, candidate frames longer than this are not
#: believed (Go advertises 1 MiB, most others 16 KiB).
_RESYNC_MAX_FRAME = 1 << 20
#: Non-DATA frames longer than this are skipped, not buffered (memory bound).
_MAX_BUFFERED_FRAME = 1 << 20
#: A header block (HEADERS + CONTINUATION) longer than this is not decoded.
_MAX_HEADER_BLOCK = 1 << 20
#: Unconfirmed resync candidates remembered per direction.
_RESYNC_CANDIDATES = 32
#: Give up on a direction after discarding this many bytes without finding a frame boundary.
_RESYNC_GIVE_UP = 4 << 20
#: Remember this many closed stream ids, so late frames on them open nothing new.
_CLOSED_MEMORY = 8192

# Per-direction modes.
_M_PREFACE = 0  # expecting the client connection preface
_M_FRAMES = 1  # at a frame boundary
_M_DATA = 2  # inside a DATA frame's payload (streamed)
_M_SKIP = 3  # inside a payload that is skipped (oversized or unusable)
_M_RESYNC = 4  # looking for a frame boundary

# Keys of notes that are rewritten as their count grows.
_NK_UNDECODABLE = "undecodable"
_NK_LOST = "lost"


def error_name(code: int) -> str:
    """RFC 9113 error code name, or its hex value."""
    return _ERROR_CODES[code] if 0 <= code < len(_ERROR_CODES) else f"0x{code:x}"


class _Stream:
    """Parser state of one HTTP/2 stream and the Exchange it becomes."""

    __slots__ = (
        "ex",
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

    def keyed_note(self, key: str, text: str) -> None:
        """Set the note ``key`` to ``text``, replacing its previous text in place."""
        notes = self.ex.notes
        old = self.notes_by_key.get(key)
        self.notes_by_key[key] = text
        if old is not None and old in notes:
            notes[notes.index(old)] = text
        else:
            self.ex.note(text)


class _Side:
    """Parser state of one direction of the connection."""

    __slots__ = (
        "buf",
        "cands",
        "d_end",
        "d_left",
        "d_pad",
        "d_stream",
        "decoder",
        "direction",
        "dropped",
        "frames",
        "hb_end_stream",
        "hb_kind",
        "hb_lost",
        "hb_parts",
        "hb_promised",
        "hb_sid",
        "hb_size",
        "hb_ts",
        "max_frame",
        "max_frame_known",
        "mode",
        "need",
        "preface_pos",
        "scan",
        "skip_left",
        "strict",
        "who",
    )

    def __init__(self, direction: Direction, mode: int, decoder: TolerantDecoder) -> None:
        self.direction = direction
        self.who = "client" if direction is Direction.REQUEST else "server"
        self.mode = mode
        self.decoder = decoder
        self.buf = bytearray()  # bytes of an incomplete frame (or of a resync window)
        self.need = 0  # do not look at buf again until it holds this many bytes
        self.preface_pos = 0
        self.frames = 0  # frames parsed in this direction
        # Seen from its very start: the first frame must be SETTINGS, garbage fails the parse.
        self.strict = mode != _M_RESYNC
        self.dropped = 0  # bytes discarded since resynchronisation began
        # resync progress within buf: positions below `scan` were looked at; `cands` are
        # plausible frame starts waiting for the bytes that would confirm them
        self.scan = 0
        self.cands: list[int] = []
        self.max_frame = _DEFAULT_MAX_FRAME
        self.max_frame_known = False
        # DATA frame being streamed
        self.d_stream: _Stream | None = None
        self.d_left = 0
        self.d_pad = 0
        self.d_end = False
        self.skip_left = 0
        # header block being assembled (HEADERS/PUSH_PROMISE + CONTINUATION)
        self.hb_sid = 0
        self.hb_kind = 0
        self.hb_end_stream = False
        self.hb_promised = 0
        self.hb_parts: list[bytes] = []
        self.hb_size = 0
        self.hb_lost = False
        self.hb_ts = 0  # ts of the feed that carried the HEADERS frame


class Http2Parser:
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
    ) -> None:
        self.connection = connection
        self.body_limit = body_limit
        self.midstream = midstream
        self.max_streams = max(1, max_streams)
        self._streams: dict[int, _Stream] = {}
        self._closed: dict[int, None] = {}  # recently closed stream ids, oldest first
        self._dirty: dict[int, _Stream] = {}
        self._events: list[ParserEvent] = []
        self._ts = 0
        self._started = False
        self._failed = False
        self._closed_conn = False
        self._internal_errors = 0  # exceptions caught by the safety net (tests assert 0)
        in_sync = not midstream
        req_mode = _M_RESYNC if midstream else _M_PREFACE
        resp_mode = _M_RESYNC if midstream else _M_FRAMES
        self._sides = (
            _Side(Direction.REQUEST, req_mode, TolerantDecoder(in_sync=in_sync)),
            _Side(Direction.RESPONSE, resp_mode, TolerantDecoder(in_sync=in_sync)),
        )
        if midstream:
            for side in self._sides:
                side.max_frame = _ANY_FRAME
        self._upgrade_stream: _Stream | None = None
        if upgraded and not midstream:
            # The client's SETTINGS travelled in the HTTP2-Settings header, which we did not
            # parse: the server's frame size limit is unknown.
            self._sides[Direction.RESPONSE].max_frame = _ANY_FRAME
            ex = Exchange(
                connection=connection,
                request=upgrade_request if upgrade_request is not None else Request(),
                stream_id=1,
            )
            ex.note("request sent as HTTP/1.1 Upgrade")
            st = _Stream(1, ex)
            st.req_headers_done = True
            st.req_ended = True
            self._streams[1] = st
            self._upgrade_stream = st
            if upgrade_request is not None and is_grpc(upgrade_request.header("content-type")):
                self._start_grpc(st)

    # -- ProtocolParser ------------------------------------------------------------------

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

    # -- bookkeeping ---------------------------------------------------------------------

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

    def _internal_error(self, side: _Side, exc: Exception) -> None:
        self._internal_errors += 1
        for st in self._streams.values():
            st.ex.note(f"HTTP/2 parser error ({type(exc).__name__}); resynchronised")
        self._lose(side)

    def _fail(self, reason: str) -> None:
        for st in list(self._streams.values()):
            self._finish(st, f"HTTP/2 parsing stopped: {reason}", complete=False)
        self._events.append(ParseFailed(reason))
        self._failed = True
        self._dirty = {}

    # -- bytes → frames ------------------------------------------------------------------

    def _consume(self, side: _Side, data: bytes) -> None:
        if side.buf:
            side.buf += data
            if len(side.buf) < side.need:
                return  # still short of the frame we are waiting for: do not re-parse
            work = bytes(side.buf)
            side.buf = bytearray()
        else:
            work = data
        side.need = 0
        pos = self._parse(side, work)
        if pos < len(work) and not self._failed:
            side.buf = bytearray(work[pos:])

    def _parse(self, side: _Side, work: bytes) -> int:
        """Consume ``work`` from 0; return where the unconsumed tail starts."""
        pos = 0
        n = len(work)
        while pos < n and not self._failed:
            mode = side.mode
            if mode == _M_DATA:
                pos = self._data_payload(side, work, pos)
                continue
            if mode == _M_SKIP:
                take = min(side.skip_left, n - pos)
                side.skip_left -= take
                pos += take
                if side.skip_left == 0:
                    side.mode = _M_FRAMES
                continue
            if mode == _M_PREFACE:
                expected = PREFACE[side.preface_pos :]
                got = work[pos : pos + len(expected)]
                if not expected.startswith(got):
                    self._fail("no HTTP/2 connection preface from the client")
                    return n
                side.preface_pos += len(got)
                pos += len(got)
                if side.preface_pos == len(PREFACE):
                    side.mode = _M_FRAMES
                continue
            if mode == _M_RESYNC:
                found = self._resync(side, work, pos)
                if found < 0:
                    return n  # _resync kept what it still needs in side.buf
                pos = found
                side.mode = _M_FRAMES
                side.dropped = 0
                continue
            # _M_FRAMES: a frame header
            if n - pos < 9:
                side.need = 9
                return pos
            length = (work[pos] << 16) | (work[pos + 1] << 8) | work[pos + 2]
            ftype = work[pos + 3]
            flags = work[pos + 4]
            sid = int.from_bytes(work[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
            if length > side.max_frame:
                self._bad_frame(side, f"frame of {length} bytes over the size limit")
                if side.mode == _M_RESYNC:
                    pos += 1  # look for the next boundary after this false one
                continue
            if side.strict:
                if ftype != _SETTINGS:
                    self._fail(f"the {side.who}'s first frame is not SETTINGS")
                    return n
                side.strict = False
            if side.hb_sid and ftype != _CONTINUATION:
                # RFC 9113 6.10: nothing may come between a header block's frames.
                self._abandon_block(side, "header block interrupted by another frame")
            if ftype == _DATA:
                if flags & _PADDED:
                    if n - pos < 10:
                        side.need = 10
                        return pos
                    pad = work[pos + 9]
                    if length < 1 or pad > length - 1:
                        self._bad_frame(side, "DATA padding longer than the frame")
                        if side.mode == _M_RESYNC:
                            pos += 1
                        continue
                    pos += 10
                    side.d_left = length - 1 - pad
                    side.d_pad = pad
                else:
                    pos += 9
                    side.d_left = length
                    side.d_pad = 0
                side.frames += 1
                side.d_end = bool(flags & _END_STREAM)
                side.d_stream = self._stream_for(side, sid) if sid else None
                side.mode = _M_DATA
                if not side.d_left and not side.d_pad:
                    self._data_end(side)  # empty DATA (often just END_STREAM)
                continue
            if length > _MAX_BUFFERED_FRAME:
                side.frames += 1
                pos += 9
                side.mode = _M_SKIP
                side.skip_left = length
                if ftype in (_HEADERS, _CONTINUATION, _PUSH_PROMISE):
                    self._header_fragment(side, ftype, flags, sid, None)
                continue
            end = pos + 9 + length
            if end > n:
                side.need = 9 + length
                return pos
            side.frames += 1
            self._frame(side, ftype, flags, sid, work[pos + 9 : end])
            pos = end
        return pos

    def _data_payload(self, side: _Side, work: bytes, pos: int) -> int:
        n = len(work)
        if side.d_left:
            take = min(side.d_left, n - pos)
            st = side.d_stream
            if st is not None and self._streams.get(st.sid) is st:
                self._on_data(st, side.direction, work[pos : pos + take])
            side.d_left -= take
            pos += take
        if not side.d_left and side.d_pad:
            take = min(side.d_pad, n - pos)
            side.d_pad -= take
            pos += take
        if not side.d_left and not side.d_pad:
            self._data_end(side)
        return pos

    def _data_end(self, side: _Side) -> None:
        side.mode = _M_FRAMES
        st = side.d_stream
        side.d_stream = None
        if st is not None and side.d_end and self._streams.get(st.sid) is st:
            self._end_of_stream(st, side.direction)

    def _bad_frame(self, side: _Side, why: str) -> None:
        if side.strict:
            self._fail(f"not HTTP/2: {why}")
        else:
            for st in self._streams.values():
                st.ex.note(f"HTTP/2 framing lost ({why}); resynchronised")
            self._lose(side)

    # -- resynchronisation ---------------------------------------------------------------

    def _lose(self, side: _Side, lost: int = 0) -> None:
        """Frame sync is gone in ``side``: drop partial state, forget HPACK, look for a frame."""
        side.buf = bytearray()
        side.need = 0
        if side.hb_sid:
            self._abandon_block(side, f"a {side.who} header block was lost in capture")
        side.d_stream = None
        side.decoder.lose_state()
        side.mode = _M_RESYNC
        side.strict = False
        side.dropped = 0
        side.scan = 0
        side.cands = []
        if lost:
            for st in self._streams.values():
                st.lost += lost
                st.keyed_note(_NK_LOST, f"{st.lost} bytes lost in capture")

    def _resync(self, side: _Side, work: bytes, pos: int) -> int:
        """Index of a believable frame boundary at or after ``pos``, or -1 after keeping in
        ``side.buf`` the tail that may still hold one (and counting the bytes dropped).

        A candidate is believed when the frame after it also looks real, or when it ends
        exactly where the captured bytes end (writes are frame-aligned). Candidates that
        cannot be judged yet wait in ``side.cands``; new bytes are scanned meanwhile, so a
        false candidate with a long length cannot hold up the real boundary.
        """
        n = len(work)
        if (
            side.direction is Direction.REQUEST
            and side.frames == 0
            and side.dropped == 0
            and pos == 0
            and not side.scan
        ):
            head = work[: len(PREFACE)]
            if PREFACE.startswith(head):
                if len(head) < len(PREFACE):
                    side.buf = bytearray(head)
                    return -1
                self._saw_connection_start()
                return len(PREFACE)
        limit = side.max_frame if side.max_frame_known else _RESYNC_MAX_FRAME
        waiting: list[int] = []
        for c in side.cands:
            if c < pos:
                continue
            verdict = self._confirm(side, work, c, limit)
            if verdict > 0:
                return self._resynced(side, c)
            if verdict < 0:
                waiting.append(c)
        i = max(pos, side.scan)
        while i + 9 <= n:
            verdict = self._confirm(side, work, i, limit)
            if verdict > 0:
                return self._resynced(side, i)
            if verdict < 0:
                waiting.append(i)
            i += 1
        waiting = waiting[-_RESYNC_CANDIDATES:]
        keep_from = waiting[0] if waiting else max(pos, min(i, n))
        side.dropped += keep_from - pos
        if side.dropped > _RESYNC_GIVE_UP:
            self._fail(f"no HTTP/2 frame boundary in {side.dropped} bytes from the {side.who}")
            return -1
        side.buf = bytearray(work[keep_from:])
        side.scan = max(i, keep_from) - keep_from
        side.cands = [c - keep_from for c in waiting]
        side.need = 0
        return -1

    def _resynced(self, side: _Side, at: int) -> int:
        side.scan = 0
        side.cands = []
        return at

    def _confirm(self, side: _Side, work: bytes, i: int, limit: int) -> int:
        """1: a frame starts at ``i``; 0: it does not; -1: cannot tell yet."""
        size = self._plausible(side, work, i, limit)
        if not size:
            return 0
        end = i + size
        n = len(work)
        if end == n:
            return 1
        if end + 9 <= n:
            return 1 if self._plausible(side, work, end, limit) else 0
        return -1

    def _saw_connection_start(self) -> None:
        """Joined "mid-connection" but the client preface came by: HPACK state is fresh."""
        if not self._streams:
            for side in self._sides:
                side.decoder = TolerantDecoder()
        self.midstream = False

    def _plausible(self, side: _Side, work: bytes, i: int, limit: int) -> int:
        """Total size of the frame at ``work[i]`` if its header looks real, else 0."""
        length = (work[i] << 16) | (work[i + 1] << 8) | work[i + 2]
        ftype = work[i + 3]
        flags = work[i + 4]
        if ftype > _CONTINUATION or length > limit or flags & ~_DEFINED_FLAGS[ftype]:
            return 0
        if work[i + 5] & 0x80:  # reserved bit
            return 0
        sid = int.from_bytes(work[i + 5 : i + 9], "big")
        if ftype in _CONNECTION_FRAMES:
            if sid:
                return 0
        elif sid == 0 and ftype != _WINDOW_UPDATE:
            return 0
        fixed = _FIXED_LENGTH.get(ftype)
        if fixed is not None and length != fixed:
            return 0
        if ftype == _SETTINGS and (length % 6 or (flags & _ACK and length)):
            return 0
        if ftype == _GOAWAY and length < 8:
            return 0
        client = side.direction is Direction.REQUEST
        if ftype == _PUSH_PROMISE and (client or not sid & 1):
            return 0
        if client and ftype in (_HEADERS, _DATA, _CONTINUATION) and not sid & 1:
            return 0  # clients open and send on odd streams only
        padded = flags & _PADDED and ftype in (_DATA, _HEADERS, _PUSH_PROMISE)
        if padded and (length < 1 or (i + 9 < len(work) and work[i + 9] >= length)):
            return 0
        return 9 + length

    def _gap(self, side: _Side, size: int) -> None:
        if side.mode == _M_DATA and size <= side.d_left + side.d_pad:
            # Entirely inside a DATA payload: the body loses bytes, framing survives.
            body = min(size, side.d_left)
            side.d_left -= body
            side.d_pad -= size - body
            st = side.d_stream
            if st is not None and body and self._streams.get(st.sid) is st:
                self._on_data_gap(st, side.direction, body)
            if not side.d_left and not side.d_pad:
                self._data_end(side)
            return
        if side.mode == _M_SKIP and size <= side.skip_left:
            side.skip_left -= size
            if not side.skip_left:
                side.mode = _M_FRAMES
            return
        st = side.d_stream
        live = st is not None and self._streams.get(st.sid) is st
        if side.mode == _M_DATA and live and side.d_left:
            # The frame's remaining length is known: the body's true size stays right.
            # (The lost-bytes note counts the whole gap, below.)
            self._on_data_gap(st, side.direction, side.d_left, note=False)  # type: ignore[arg-type]
        if side.mode == _M_RESYNC:
            # Bytes before and after a gap are not contiguous: the window starts afresh.
            side.dropped += len(side.buf)
            side.buf = bytearray()
            side.need = 0
            side.scan = 0
            side.cands = []
            for st in self._streams.values():
                st.lost += size
                st.keyed_note(_NK_LOST, f"{st.lost} bytes lost in capture")
            return
        self._lose(side, size)

    # -- frames --------------------------------------------------------------------------

    def _frame(self, side: _Side, ftype: int, flags: int, sid: int, payload: bytes) -> None:
        if ftype in (_HEADERS, _CONTINUATION, _PUSH_PROMISE):
            self._header_fragment(side, ftype, flags, sid, payload)
        elif ftype == _RST_STREAM:
            st = self._streams.get(sid)
            if st is not None and len(payload) == 4:
                code = int.from_bytes(payload, "big")
                st.ex.note(f"reset by {side.who}: {error_name(code)}")
                self._merge_grpc_notes(st)
                self._finish(st, None, complete=st.resp_ended)
        elif ftype == _SETTINGS:
            if not flags & _ACK and sid == 0:
                self._settings(side, payload)
        elif ftype == _GOAWAY and len(payload) >= 8:
            self._goaway(side, payload)
        # PRIORITY, PING, WINDOW_UPDATE and unknown types carry nothing we show.

    def _settings(self, side: _Side, payload: bytes) -> None:
        # Settings bind the *peer*: the sender's limits apply to frames and header blocks
        # travelling towards it, i.e. in the other direction.
        other = self._sides[1 - side.direction]
        for i in range(0, len(payload) - 5, 6):
            ident = int.from_bytes(payload[i : i + 2], "big")
            value = int.from_bytes(payload[i + 2 : i + 6], "big")
            if ident == _SETTINGS_HEADER_TABLE_SIZE:
                other.decoder.set_table_size_limit(value)
            elif ident == _SETTINGS_MAX_FRAME_SIZE and _DEFAULT_MAX_FRAME <= value <= _ANY_FRAME:
                other.max_frame = value
                other.max_frame_known = True

    def _goaway(self, side: _Side, payload: bytes) -> None:
        last = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF
        code = error_name(int.from_bytes(payload[4:8], "big"))
        debug = payload[8:72].decode("utf-8", "replace").strip()
        detail = f"{code}, debug: {debug}" if debug else code
        # last_stream_id counts the streams the *receiver* of the GOAWAY opened.
        parity = 1 if side.direction is Direction.RESPONSE else 0
        for st in list(self._streams.values()):
            if st.sid % 2 != parity:
                continue
            if st.sid > last:
                text = f"closed unanswered: GOAWAY from {side.who} ({detail}; last stream {last})"
                self._finish(st, text, complete=False)
            elif code != "NO_ERROR":
                st.ex.note(f"GOAWAY from {side.who}: {detail}")

    # -- header blocks -------------------------------------------------------------------

    def _header_fragment(
        self,
        side: _Side,
        ftype: int,
        flags: int,
        sid: int,
        payload: bytes | None,
    ) -> None:
        """A HEADERS, PUSH_PROMISE or CONTINUATION frame (``payload`` None: not buffered)."""
        if ftype == _CONTINUATION:
            if not side.hb_sid or side.hb_sid != sid:
                # Its HEADERS was never seen: whatever it indexed is lost.
                side.decoder.lose_state()
                return
        else:
            if sid == 0:
                side.decoder.lose_state()  # malformed; its block cannot be trusted
                return
            fragment = None
            promised = 0
            if payload is not None:
                fragment, promised = _block_fragment(ftype, flags, payload)
            side.hb_sid = sid
            side.hb_kind = ftype
            side.hb_end_stream = bool(flags & _END_STREAM) and ftype == _HEADERS
            side.hb_promised = promised
            side.hb_parts = []
            side.hb_size = 0
            side.hb_lost = False
            side.hb_ts = self._ts
            payload = fragment
        if payload is None:
            side.hb_lost = True
            side.hb_parts = []
        elif not side.hb_lost:
            side.hb_size += len(payload)
            if side.hb_size > _MAX_HEADER_BLOCK:
                side.hb_lost = True
                side.hb_parts = []
            else:
                side.hb_parts.append(payload)
        if flags & _END_HEADERS:
            self._header_block_done(side)

    def _abandon_block(self, side: _Side, why: str) -> None:
        st = self._streams.get(side.hb_sid)
        if st is not None:
            st.ex.note(why)
        side.hb_sid = 0
        side.hb_parts = []
        side.decoder.lose_state()

    def _header_block_done(self, side: _Side) -> None:
        sid = side.hb_sid
        side.hb_sid = 0
        parts = side.hb_parts
        side.hb_parts = []
        block: DecodedBlock | None = None
        if side.hb_lost:
            side.decoder.lose_state()  # the insertions of the undecoded block are unknown
        else:
            block = side.decoder.decode(parts[0] if len(parts) == 1 else b"".join(parts))
        if side.hb_kind == _PUSH_PROMISE:
            if side.direction is Direction.RESPONSE and side.hb_promised:
                self._on_push_promise(side, sid, side.hb_promised, block)
            return
        if side.direction is Direction.REQUEST:
            self._on_request_headers(side, sid, block, side.hb_end_stream)
        else:
            self._on_response_headers(side, sid, block, side.hb_end_stream)

    def _block_notes(self, side: _Side, st: _Stream, block: DecodedBlock | None) -> Headers:
        """Headers of ``block``, noting on ``st`` what could not be decoded."""
        if block is None:
            st.ex.note(f"a {side.who} header block was not decoded (too large or lost)")
            return []
        if block.unknown:
            st.undecodable += block.unknown
            joined = self.midstream and not side.decoder.in_sync
            if joined:
                text = f"joined mid-connection: {st.undecodable} header(s) not decodable"
            else:
                text = f"HPACK state lost: {st.undecodable} header(s) not decodable"
            st.keyed_note(_NK_UNDECODABLE, text)
        if block.truncated:
            st.ex.note(f"{side.who} header list too large: later fields dropped")
        if block.error:
            st.ex.note(f"malformed {side.who} header block: {block.error}")
        return block.headers

    def _on_request_headers(
        self, side: _Side, sid: int, block: DecodedBlock | None, end_stream: bool
    ) -> None:
        st = self._streams.get(sid)
        if st is None:
            if sid in self._closed or not sid & 1:
                return
            st = self._open(sid)
            st.ex.timings.request_start = side.hb_ts
            headers = self._block_notes(side, st, block)
            self._apply_request_head(st, headers)
            st.req_headers_done = True
        else:
            headers = self._block_notes(side, st, block)
            if st.req_headers_done:
                st.ex.request.trailers = [h for h in headers if not h[0].startswith(":")]
            else:
                self._apply_request_head(st, headers)
                st.req_headers_done = True
        self._dirty[sid] = st
        if end_stream:
            self._end_of_stream(st, Direction.REQUEST)

    def _apply_request_head(self, st: _Stream, headers: Headers) -> None:
        req = st.ex.request
        req.http_version = "2"
        regular = req.headers
        for name, value in headers:
            if name[:1] == ":":
                if name == ":method":
                    req.method = value
                elif name == ":path":
                    req.path = value
                elif name == ":authority":
                    req.authority = value
                elif name == ":scheme":
                    req.scheme = value
            else:
                regular.append((name, value))
        content_type = find_header(regular, "content-type")
        if is_grpc(content_type):
            self._start_grpc(st)
        elif content_type is None and st.undecodable:
            st.sniff = True

    def _on_response_headers(
        self, side: _Side, sid: int, block: DecodedBlock | None, end_stream: bool
    ) -> None:
        st = self._streams.get(sid)
        if st is None:
            st = self._implicit(side, sid)
            if st is None:
                return
        headers = self._block_notes(side, st, block)
        ex = st.ex
        if not st.resp_final:
            resp = ex.response
            if resp is None:
                resp = ex.response = Response(http_version="2")
                ex.timings.response_start = side.hb_ts
            status = None
            regular: Headers = []
            for name, value in headers:
                if name[:1] == ":":
                    if name == ":status":
                        status = _int_or_none(value)
                else:
                    regular.append((name, value))
            if status is not None and 100 <= status < 200 and not end_stream:
                ex.note(f"informational response {status}")
            else:
                st.resp_final = True
                resp.status = status
                resp.headers = regular
                if ex.grpc is None and is_grpc(find_header(regular, "content-type")):
                    self._start_grpc(st)
                if ex.grpc is not None:
                    st.grpc_resp = self._framer(find_header(regular, "grpc-encoding"))
                    if end_stream:
                        apply_status(ex.grpc, regular)  # trailers-only response
        else:
            if ex.response is None:  # pragma: no cover - resp_final implies a response
                ex.response = Response(http_version="2")
            trailers = [h for h in headers if not h[0].startswith(":")]
            ex.response.trailers = trailers
            if ex.grpc is not None:
                apply_status(ex.grpc, trailers)
        self._dirty[sid] = st
        if end_stream:
            self._end_of_stream(st, Direction.RESPONSE)

    def _on_push_promise(
        self, side: _Side, sid: int, promised: int, block: DecodedBlock | None
    ) -> None:
        if promised in self._streams or promised in self._closed or promised & 1:
            return
        st = self._open(promised)
        headers = self._block_notes(side, st, block)
        self._apply_request_head(st, headers)
        st.req_headers_done = True
        st.req_ended = True
        st.ex.timings.request_start = st.ex.timings.request_end = self._ts
        st.ex.note(f"server push (promised on stream {sid})")
        self._dirty[promised] = st

    # -- streams -------------------------------------------------------------------------

    def _open(self, sid: int) -> _Stream:
        while len(self._streams) >= self.max_streams:
            oldest = next(iter(self._streams.values()))
            self._finish(
                oldest,
                f"evicted: more than {self.max_streams} open streams on this connection",
                complete=False,
            )
        ex = Exchange(connection=self.connection, stream_id=sid)
        ex.request.http_version = "2"
        st = _Stream(sid, ex)
        self._streams[sid] = st
        return st

    def _stream_for(self, side: _Side, sid: int) -> _Stream | None:
        st = self._streams.get(sid)
        if st is None:
            st = self._implicit(side, sid)
        return st

    def _implicit(self, side: _Side, sid: int) -> _Stream | None:
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

    def _finish(self, st: _Stream, note: str | None, *, complete: bool) -> None:
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

    def _end_of_stream(self, st: _Stream, direction: Direction) -> None:
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

    # -- bodies and gRPC -----------------------------------------------------------------

    def _framer(self, encoding: str | None) -> GrpcFramer:
        return GrpcFramer(encoding=encoding, limit=self.body_limit)

    def _start_grpc(self, st: _Stream) -> None:
        ex = st.ex
        ex.grpc = new_call(ex.request.path)
        st.grpc_req = framer = self._framer(ex.request.header("grpc-encoding"))
        body = ex.request.body
        if body.size:
            # Recognised late (from the response): split what the request body kept.
            if body.truncated:
                framer.gap(body.size)
            else:
                ex.grpc.requests.extend(framer.feed(body.data))

    def _on_data(self, st: _Stream, direction: Direction, chunk: bytes) -> None:
        ex = st.ex
        if st.sniff:
            self._sniff(st, direction, chunk)
        if direction is Direction.REQUEST:
            ex.request.body.append(chunk, self.body_limit)
            framer = st.grpc_req
            if framer is not None:
                msgs = framer.feed(chunk)
                if msgs:
                    ex.grpc.requests.extend(msgs)  # type: ignore[union-attr]
                if framer.notes:
                    self._merge_grpc_notes(st)
        else:
            resp = ex.response
            if resp is None:
                resp = ex.response = Response(http_version="2")
                ex.timings.response_start = self._ts
                if not st.implicit:
                    ex.note("response DATA before response headers")
            resp.body.append(chunk, self.body_limit)
            framer = st.grpc_resp
            if framer is None and ex.grpc is not None:
                framer = st.grpc_resp = self._framer(None)
            if framer is not None:
                msgs = framer.feed(chunk)
                if msgs:
                    ex.grpc.responses.extend(msgs)  # type: ignore[union-attr]
                if framer.notes:
                    self._merge_grpc_notes(st)
        self._dirty[st.sid] = st

    def _sniff(self, st: _Stream, direction: Direction, chunk: bytes) -> None:
        ex = st.ex
        if ex.grpc is not None:
            st.sniff = False
            return
        if direction is Direction.REQUEST:
            body = ex.request.body
        elif ex.response is not None and ex.response.headers and not st.implicit:
            st.sniff = False  # the response head was decoded and is not gRPC
            return
        else:
            body = ex.response.body if ex.response is not None else None
        head = (body.data if body is not None else b"") + chunk
        if len(head) < 5:
            return  # decide once there are enough bytes
        st.sniff = False
        if looks_like_grpc(head[:65536]) and (body is None or not body.truncated):
            self._start_grpc(st)
            ex.note("gRPC recognised from message framing (content-type not decodable)")

    def _on_data_gap(
        self, st: _Stream, direction: Direction, size: int, *, note: bool = True
    ) -> None:
        ex = st.ex
        if note:
            st.lost += size
            st.keyed_note(_NK_LOST, f"{st.lost} bytes lost in capture")
        grpc: GrpcCall | None = ex.grpc
        if direction is Direction.REQUEST:
            ex.request.body.skip(size)
            if st.grpc_req is not None and grpc is not None:
                grpc.requests.extend(st.grpc_req.gap(size))
        else:
            if ex.response is None:
                ex.response = Response(http_version="2")
            ex.response.body.skip(size)
            if st.grpc_resp is not None and grpc is not None:
                grpc.responses.extend(st.grpc_resp.gap(size))
        self._merge_grpc_notes(st)
        self._dirty[st.sid] = st

    def _merge_grpc_notes(self, st: _Stream) -> None:
        for framer in (st.grpc_req, st.grpc_resp):
            if framer is not None:
                for text in framer.notes:
                    st.ex.note(text)


def _block_fragment(ftype: int, flags: int, payload: bytes) -> tuple[bytes | None, int]:
    """(header block fragment, promised stream id) of a HEADERS or PUSH_PROMISE payload."""
    start = 0
    end = len(payload)
    if flags & _PADDED:
        if end < 1:
            return None, 0
        end -= payload[0]
        start = 1
    promised = 0
    if ftype == _PUSH_PROMISE:
        if end - start < 4:
            return None, 0
        promised = int.from_bytes(payload[start : start + 4], "big") & 0x7FFFFFFF
        start += 4
    elif flags & _PRIORITY_FLAG:
        start += 5
    if start > end:
        return None, 0
    return payload[start:end], promised


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
