"""The parsing state of one direction of an HTTP/2 connection."""

from __future__ import annotations

from httptap.protocols.base import Direction
from httptap.protocols.http2._frames import DEFAULT_MAX_FRAME
from httptap.protocols.http2._hpack import TolerantDecoder
from httptap.protocols.http2._streams import Stream

# Per-direction modes.
M_PREFACE = 0  # expecting the client connection preface
M_FRAMES = 1  # at a frame boundary
M_DATA = 2  # inside a DATA frame's payload (streamed)
M_SKIP = 3  # inside a payload that is skipped (oversized or unusable)
M_RESYNC = 4  # looking for a frame boundary


class Side:
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
        self.strict = mode != M_RESYNC
        self.dropped = 0  # bytes discarded since resynchronisation began
        # resync progress within buf: positions below `scan` were looked at; `cands` are
        # plausible frame starts waiting for the bytes that would confirm them
        self.scan = 0
        self.cands: list[int] = []
        self.max_frame = DEFAULT_MAX_FRAME
        self.max_frame_known = False
        # DATA frame being streamed
        self.d_stream: Stream | None = None
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

