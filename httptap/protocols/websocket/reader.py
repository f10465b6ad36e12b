"""One side of a WebSocket connection, read passively: bytes and times in, messages out.

Tolerant where a peer would fail the connection: irregular frames become notes, a frame
header that cannot be one (or a gap) starts a resynchronisation, nothing raises. Memory is
bounded: a message keeps at most ``limit`` bytes, a frame's payload streams through, and
inflating stops at ``max_inflate`` bytes per message.
"""

from __future__ import annotations

from wsproto.frame_protocol import Opcode, XorMaskerSimple

from httptap.model import DEFAULT_BODY_LIMIT, Body
from httptap.protocols.websocket.deflate import MAX_INFLATE, Inflater
from httptap.protocols.websocket.events import WsEvent, WsMessage, WsNote
from httptap.protocols.websocket.frames import FrameHeader, broken, parse_header
from httptap.protocols.websocket.negotiation import Deflate
from httptap.protocols.websocket.resync import Scanner

_NAMES = {Opcode.TEXT: "text", Opcode.BINARY: "binary", Opcode.CLOSE: "close",
          Opcode.PING: "ping", Opcode.PONG: "pong"}


class _Assembly:
    """The data message being joined from its frames."""

    __slots__ = ("body", "compressed", "failed", "opcode")

    def __init__(self, opcode: int, compressed: bool) -> None:
        self.opcode = opcode
        self.compressed = compressed
        self.body = Body()
        self.failed = False  # inflating stopped: the size is a floor


class WebSocketReader:
    """Reads the frames one side sends (``from_client``: masked, the client's deflate
    parameters). ``synced=False`` when the stream was joined mid-way."""

    def __init__(self, *, from_client: bool, deflate: Deflate | None = None,
                 limit: int = DEFAULT_BODY_LIMIT, synced: bool = True,
                 max_inflate: int = MAX_INFLATE) -> None:
        self._from_client = from_client
        self._deflate = deflate
        self._limit = limit
        self._max_inflate = max_inflate
        self._buf = bytearray()
        self._synced = synced
        self._scanner = Scanner(from_client=from_client, deflate=deflate is not None)
        self._skipped = 0  # bytes passed over while resynchronising
        self._frame: FrameHeader | None = None  # the data frame whose payload is streaming
        self._left = 0
        self._masker: XorMaskerSimple | None = None
        self._msg: _Assembly | None = None
        self._orphan = False  # in continuation frames whose first frame was not seen
        self._inflater: Inflater | None = None
        self._out: list[WsEvent] = []
        self._ts = 0

    def feed(self, data: bytes, ts_ns: int) -> list[WsEvent]:
        """Bytes this side sent, in order; the events they completed."""
        self._ts = ts_ns
        if data:
            self._buf += data
            self._run(final=False)
        return self._take()

    def gap(self, size: int, ts_ns: int) -> list[WsEvent]:
        """``size`` bytes of this side went by uncopied."""
        self._ts = ts_ns
        if size <= 0:
            return []
        if self._synced and self._frame is not None and not self._buf:
            # the frame's own length says how much of the gap is its payload
            part = min(size, self._left)
            self._left -= part
            size -= part
            msg = self._msg
            if msg is not None and not self._orphan:
                if msg.compressed:
                    self._fail(msg, f"{part} bytes of a compressed message were missed")
                    if self._inflater is not None:
                        self._inflater.lose_context()
                else:
                    msg.body.skip(part)
            if self._left == 0:
                self._end_frame()
        if size:
            self._note(f"{size} bytes were missed; resynchronising on the next frame")
            self._abandon("cut by missed bytes")
            self._buf.clear()
            self._scanner.reset()
            self._synced = False
            self._skipped = 0
        return self._take()

    def close(self, ts_ns: int) -> list[WsEvent]:
        """The connection ended: a message still open comes out truncated."""
        self._ts = ts_ns
        if not self._synced and self._buf:
            self._run(final=True)
        if self._frame is not None or self._msg is not None or self._buf:
            self._abandon("cut by the end of the connection")
        self._buf.clear()
        return self._take()

    def _take(self) -> list[WsEvent]:
        out = self._out
        self._out = []
        return out

    def _note(self, text: str) -> None:
        self._out.append(WsNote(text, self._ts))

    def _run(self, final: bool) -> None:
        buf = self._buf
        while buf:
            if not self._synced:
                start, drop = self._scanner.find(buf, final)
                del buf[:drop]
                self._skipped += drop
                if start is None:
                    return
                self._synced = True
                self._note(f"joined mid-stream: resynchronised on a frame header after "
                           f"{self._skipped} bytes")
                self._skipped = 0
                continue
            if self._frame is None:
                h = parse_header(buf)
                if h is None:
                    return
                why = broken(h)
                if why is not None:
                    self._note(f"not a WebSocket frame ({why}); resynchronising")
                    self._abandon("cut by bytes that are not a frame")
                    self._synced = False
                    continue
                if h.control:
                    end = h.size + h.length
                    if len(buf) < end:
                        return
                    payload = bytes(buf[h.size:end])
                    del buf[:end]
                    self._control(h, _unmask(h, payload))
                    continue
                del buf[:h.size]
                self._start_frame(h)
                if self._left:
                    continue
            take = min(self._left, len(buf))
            if take:
                chunk = bytes(buf[:take])
                del buf[:take]
                self._left -= take
                self._payload(chunk)
            if self._left == 0:
                self._end_frame()

    def _control(self, h: FrameHeader, payload: bytes) -> None:
        name = _NAMES[Opcode(h.opcode)]
        code: int | None = None
        reason = ""
        data = payload
        if h.opcode == Opcode.CLOSE:
            if len(payload) >= 2:
                code = int.from_bytes(payload[:2], "big")
                data = payload[2:]
                reason = data.decode("utf-8", "replace")
            elif payload:
                self._note("close frame with a 1-byte payload (no valid code)")
        kept = data[:self._limit]
        self._out.append(WsMessage(name, kept, len(data), len(kept) < len(data), False,
                                   self._ts, code, reason))

    def _start_frame(self, h: FrameHeader) -> None:
        if h.opcode != Opcode.CONTINUATION and self._msg is not None:
            self._abandon("cut by the next message")
        self._frame = h
        self._left = h.length
        self._masker = XorMaskerSimple(h.mask) if h.masked else None
        if h.opcode == Opcode.CONTINUATION:
            if self._msg is None and not self._orphan:
                self._orphan = True
                self._note("continuation frames without their first frame (joined "
                           "mid-message): skipped")
            return
        self._orphan = False
        self._msg = _Assembly(h.opcode, h.rsv1)
        if h.rsv1:
            self._inflater_for_message().start()
            if self._inflater is not None and self._inflater.context_lost:
                self._inflater.context_lost = False
                self._note("the compression context of earlier messages was missed: "
                           "messages that refer to it cannot be inflated")

    def _inflater_for_message(self) -> Inflater:
        if self._inflater is None:
            deflate = self._deflate
            if deflate is None:
                deflate = Deflate()
                self._note("compressed frames without a negotiated permessage-deflate: "
                           "inflating with its defaults")
            self._inflater = Inflater(deflate.window_bits(self._from_client),
                                      deflate.no_context_takeover(self._from_client),
                                      self._max_inflate)
        return self._inflater

    def _payload(self, chunk: bytes) -> None:
        if self._masker is not None:
            chunk = bytes(self._masker.process(bytearray(chunk)))
        msg = self._msg
        if msg is None or self._orphan or msg.failed:
            return
        if msg.compressed:
            assert self._inflater is not None
            err = self._inflater.feed(chunk, msg.body, self._limit)
            if err is not None:
                self._fail(msg, err)
        else:
            msg.body.append(chunk, self._limit)

    def _end_frame(self) -> None:
        h = self._frame
        assert h is not None
        self._frame = None
        self._masker = None
        if not h.fin:
            return
        if self._orphan:
            self._orphan = False
            return
        msg = self._msg
        if msg is None:
            return
        if msg.compressed and not msg.failed:
            assert self._inflater is not None
            err = self._inflater.finish(msg.body, self._limit)
            if err is not None:
                self._fail(msg, err)
        self._emit(msg)

    def _fail(self, msg: _Assembly, why: str) -> None:
        msg.failed = True
        msg.body.truncated = True
        self._note(f"{_NAMES[Opcode(msg.opcode)]} message: {why}")

    def _emit(self, msg: _Assembly) -> None:
        self._msg = None
        b = msg.body
        self._out.append(WsMessage(_NAMES[Opcode(msg.opcode)], b.data, b.size, b.truncated,
                                   msg.compressed, self._ts))

    def _abandon(self, why: str) -> None:
        """Emit the message in progress, truncated, and forget the frame being read."""
        msg = self._msg
        if msg is not None:
            msg.body.truncated = True
            self._note(f"{_NAMES[Opcode(msg.opcode)]} message {why}")
            self._emit(msg)
        if msg is not None and msg.compressed and self._inflater is not None:
            self._inflater.lose_context()
        self._frame = None
        self._left = 0
        self._masker = None
        self._orphan = False


def _unmask(h: FrameHeader, payload: bytes) -> bytes:
    if not h.masked or not payload:
        return payload
    return bytes(XorMaskerSimple(h.mask).process(bytearray(payload)))
