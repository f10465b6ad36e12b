"""The frame reader: bytes → frames for each direction, resynchronisation after a loss.

The 9-byte frame header is read with arithmetic; DATA payloads are streamed to the bodies
without buffering whole frames, other frames are buffered (up to a bound) and dispatched.
A direction that loses frame sync (capture gap, garbage, joined mid-connection) looks for a
believable frame boundary: a plausible header whose successor is plausible too, or that ends
exactly where the captured bytes end (writes are frame-aligned).
"""

from __future__ import annotations

from hyperframe.frame import GoAwayFrame, RstStreamFrame

from httptap.protocols.base import Direction
from httptap.protocols.http2._frames import (
    ACK,
    ANY_FRAME,
    CONTINUATION,
    DATA,
    DEFAULT_MAX_FRAME,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PADDED,
    PREFACE,
    PUSH_PROMISE,
    RST_STREAM,
    SETTINGS,
    SETTINGS_HEADER_TABLE_SIZE,
    SETTINGS_MAX_FRAME_SIZE,
    error_name,
    plausible,
)
from httptap.protocols.http2._headers import HeaderBlocks
from httptap.protocols.http2._hpack import TolerantDecoder
from httptap.protocols.http2._side import M_DATA, M_FRAMES, M_PREFACE, M_RESYNC, M_SKIP, Side
from httptap.protocols.http2._streams import NK_LOST

#: While resynchronising without known SETTINGS, candidate frames longer than this are not
#: believed (Go advertises 1 MiB, most others 16 KiB).
_RESYNC_MAX_FRAME = 1 << 20
#: Non-DATA frames longer than this are skipped, not buffered (memory bound).
_MAX_BUFFERED_FRAME = 1 << 20
#: Unconfirmed resync candidates remembered per direction.
_RESYNC_CANDIDATES = 32
#: Give up on a direction after discarding this many bytes without finding a frame boundary.
_RESYNC_GIVE_UP = 4 << 20


class FrameReader(HeaderBlocks):
    """Both directions' byte streams, cut into frames and dispatched."""

    _sides: tuple[Side, Side]

    def _consume(self, side: Side, data: bytes) -> None:
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

    def _parse(self, side: Side, work: bytes) -> int:
        """Consume ``work`` from 0; return where the unconsumed tail starts."""
        pos = 0
        n = len(work)
        while pos < n and not self._failed:
            mode = side.mode
            if mode == M_DATA:
                pos = self._data_payload(side, work, pos)
                continue
            if mode == M_SKIP:
                take = min(side.skip_left, n - pos)
                side.skip_left -= take
                pos += take
                if side.skip_left == 0:
                    side.mode = M_FRAMES
                continue
            if mode == M_PREFACE:
                expected = PREFACE[side.preface_pos :]
                got = work[pos : pos + len(expected)]
                if not expected.startswith(got):
                    self._fail("no HTTP/2 connection preface from the client")
                    return n
                side.preface_pos += len(got)
                pos += len(got)
                if side.preface_pos == len(PREFACE):
                    side.mode = M_FRAMES
                continue
            if mode == M_RESYNC:
                found = self._resync(side, work, pos)
                if found < 0:
                    return n  # _resync kept what it still needs in side.buf
                pos = found
                side.mode = M_FRAMES
                side.dropped = 0
                continue
            # M_FRAMES: a frame header
            if n - pos < 9:
                side.need = 9
                return pos
            length = (work[pos] << 16) | (work[pos + 1] << 8) | work[pos + 2]
            ftype = work[pos + 3]
            flags = work[pos + 4]
            sid = int.from_bytes(work[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
            if length > side.max_frame:
                self._bad_frame(side, f"frame of {length} bytes over the size limit")
                if side.mode == M_RESYNC:
                    pos += 1  # look for the next boundary after this false one
                continue
            if side.strict:
                if ftype != SETTINGS:
                    self._fail(f"the {side.who}'s first frame is not SETTINGS")
                    return n
                side.strict = False
            if side.hb_sid and ftype != CONTINUATION:
                # RFC 9113 6.10: nothing may come between a header block's frames.
                self._abandon_block(side, "header block interrupted by another frame")
            if ftype == DATA:
                if flags & PADDED:
                    if n - pos < 10:
                        side.need = 10
                        return pos
                    pad = work[pos + 9]
                    if length < 1 or pad > length - 1:
                        self._bad_frame(side, "DATA padding longer than the frame")
                        if side.mode == M_RESYNC:
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
                side.d_end = bool(flags & END_STREAM)
                side.d_stream = self._stream_for(side, sid) if sid else None
                side.mode = M_DATA
                if not side.d_left and not side.d_pad:
                    self._data_end(side)  # empty DATA (often just END_STREAM)
                continue
            if length > _MAX_BUFFERED_FRAME:
                side.frames += 1
                pos += 9
                side.mode = M_SKIP
                side.skip_left = length
                if ftype in (HEADERS, CONTINUATION, PUSH_PROMISE):
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

    def _data_payload(self, side: Side, work: bytes, pos: int) -> int:
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

    def _data_end(self, side: Side) -> None:
        side.mode = M_FRAMES
        st = side.d_stream
        side.d_stream = None
        if st is not None and side.d_end and self._streams.get(st.sid) is st:
            self._end_of_stream(st, side.direction)

    def _bad_frame(self, side: Side, why: str) -> None:
        if side.strict:
            self._fail(f"not HTTP/2: {why}")
        else:
            for st in self._streams.values():
                st.ex.note(f"HTTP/2 framing lost ({why}); resynchronised")
            self._lose(side)

    def _lose(self, side: Side, lost: int = 0) -> None:
        """Frame sync is gone in ``side``: drop partial state, forget HPACK, look for a frame."""
        side.buf = bytearray()
        side.need = 0
        if side.hb_sid:
            self._abandon_block(side, f"a {side.who} header block was lost in capture")
        side.d_stream = None
        side.decoder.lose_state()
        side.mode = M_RESYNC
        side.strict = False
        side.dropped = 0
        side.scan = 0
        side.cands = []
        if lost:
            for st in self._streams.values():
                st.lost += lost
                st.keyed_note(NK_LOST, f"{st.lost} bytes lost in capture")

    def _resync(self, side: Side, work: bytes, pos: int) -> int:
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

    def _resynced(self, side: Side, at: int) -> int:
        side.scan = 0
        side.cands = []
        return at

    def _confirm(self, side: Side, work: bytes, i: int, limit: int) -> int:
        """1: a frame starts at ``i``; 0: it does not; -1: cannot tell yet."""
        size = plausible(side.direction is Direction.REQUEST, work, i, limit)
        if not size:
            return 0
        end = i + size
        n = len(work)
        if end == n:
            return 1
        if end + 9 <= n:
            client = side.direction is Direction.REQUEST
            return 1 if plausible(client, work, end, limit) else 0
        return -1

    def _saw_connection_start(self) -> None:
        """Joined "mid-connection" but the client preface came by: HPACK state is fresh."""
        if not self._streams:
            for side in self._sides:
                side.decoder = TolerantDecoder()
        self.midstream = False

    def _gap(self, side: Side, size: int) -> None:
        if side.mode == M_DATA and size <= side.d_left + side.d_pad:
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
        if side.mode == M_SKIP and size <= side.skip_left:
            side.skip_left -= size
            if not side.skip_left:
                side.mode = M_FRAMES
            return
        st = side.d_stream
        live = st is not None and self._streams.get(st.sid) is st
        if side.mode == M_DATA and st is not None and live and side.d_left:
            # The frame's remaining length is known: the body's true size stays right.
            # (The lost-bytes note counts the whole gap, below.)
            self._on_data_gap(st, side.direction, side.d_left, note=False)
        if side.mode == M_RESYNC:
            # Bytes before and after a gap are not contiguous: the window starts afresh.
            side.dropped += len(side.buf)
            side.buf = bytearray()
            side.need = 0
            side.scan = 0
            side.cands = []
            for st in self._streams.values():
                st.lost += size
                st.keyed_note(NK_LOST, f"{st.lost} bytes lost in capture")
            return
        self._lose(side, size)

    def _frame(self, side: Side, ftype: int, flags: int, sid: int, payload: bytes) -> None:
        if ftype in (HEADERS, CONTINUATION, PUSH_PROMISE):
            self._header_fragment(side, ftype, flags, sid, payload)
        elif ftype == RST_STREAM:
            st = self._streams.get(sid)
            if st is not None and len(payload) == 4:  # so hyperframe cannot raise
                rst = RstStreamFrame(sid)
                rst.parse_body(memoryview(payload))
                st.ex.note(f"reset by {side.who}: {error_name(rst.error_code)}")
                self._merge_grpc_notes(st)
                self._finish(st, None, complete=st.resp_ended)
        elif ftype == SETTINGS:
            if not flags & ACK and sid == 0:
                self._settings(side, payload)
        elif ftype == GOAWAY and len(payload) >= 8:
            self._goaway(side, payload)

    def _settings(self, side: Side, payload: bytes) -> None:
        # Settings bind the *peer*: the sender's limits apply to frames and header blocks
        # travelling towards it, i.e. in the other direction.
        other = self._sides[1 - side.direction]
        for i in range(0, len(payload) - 5, 6):
            ident = int.from_bytes(payload[i : i + 2], "big")
            value = int.from_bytes(payload[i + 2 : i + 6], "big")
            if ident == SETTINGS_HEADER_TABLE_SIZE:
                other.decoder.set_table_size_limit(value)
            elif ident == SETTINGS_MAX_FRAME_SIZE and DEFAULT_MAX_FRAME <= value <= ANY_FRAME:
                other.max_frame = value
                other.max_frame_known = True

    def _goaway(self, side: Side, payload: bytes) -> None:
        frame = GoAwayFrame(0)  # whatever its stream id: GOAWAY is about the connection
        frame.parse_body(memoryview(payload))  # the caller checked its length: cannot raise
        last = frame.last_stream_id
        code = error_name(frame.error_code)
        debug = frame.additional_data[:64].decode("utf-8", "replace").strip()
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
