"""The parsing state of one direction of an HTTP/1 connection."""

from __future__ import annotations

from httptap.model import Body, Exchange, Request, Response
from httptap.protocols.base import BodyTap
from httptap.protocols.http1._llhttp import HeadValidator

# Per-direction states.
HEAD = 0  # between messages or inside a head
CL = 1  # Content-Length body, ``remaining`` bytes to go
CHUNK_SIZE = 2  # expecting a chunk-size line
CHUNK_DATA = 3  # inside a chunk, ``remaining`` bytes to go
CHUNK_END = 4  # expecting the CRLF after a chunk's data
TRAILERS = 5  # after the last chunk: trailer fields up to an empty line
CLOSE = 6  # response body delimited by the connection's close
HOLD = 7  # client bytes held until the server accepts or refuses a protocol switch
DESYNC = 8  # lost: waiting for a feed that begins like a message
IGNORE = 9  # upgraded or failed: nothing more to parse

#: States in the middle of a request body (a close there leaves the request incomplete).
IN_BODY = (CL, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS)

STOP = 1 << 62  # a position past any buffer: the byte loop stops


class Side:
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
        self.llhttp = HeadValidator(is_request)
        self.tap: BodyTap | None = None  # sees the (de-chunked) body as it arrives: SSE

    def stash(self, buf: bytes | bytearray, pos: int) -> int:
        """Keep the unconsumed tail of ``buf`` for the next feed; returns ``STOP``."""
        if isinstance(buf, bytearray):
            self.buf = buf if pos == 0 else buf[pos:]  # no copy when already growable
        else:
            self.buf = bytearray(memoryview(buf)[pos:])
        return STOP

    def reset_message(self) -> None:
        """Between messages: no exchange, message or body under way."""
        self.ex = self.msg = self.body = None
        self.first_ts = None

    def desync(self) -> None:
        """Lost: drop what was buffered and wait for a feed that begins like a message."""
        self.buf = b""
        self.scan = 0
        self.probation = False
        self.state = DESYNC
        self.llhttp.reset()
