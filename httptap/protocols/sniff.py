"""Guess a connection's protocol from the first bytes seen in one direction.

``sniff`` classifies the first chunk of a connection; ``looks_like_message_start`` tells the
HTTP/1 parser whether a feed may begin a message (resynchronisation and mid-stream joins).
Both are cheap: a few slices, set lookups and anchored regular expressions, never a loop over
every byte.
"""

from __future__ import annotations

import enum
import re

from httptap.protocols.base import Direction

__all__ = [
    "H2_PREFACE",
    "METHODS",
    "Sniff",
    "looks_like_message_start",
    "message_start",
    "sniff",
]

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# RFC 9110 methods, WebDAV/CalDAV and the others llhttp knows; method names are case-sensitive.
METHODS: frozenset[bytes] = frozenset(
    (
        *(b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE"),
        *(b"PATCH", b"PROPFIND", b"PROPPATCH", b"MKCOL", b"COPY", b"MOVE", b"LOCK"),
        *(b"UNLOCK", b"SEARCH", b"BIND", b"REBIND", b"UNBIND", b"ACL", b"REPORT"),
        *(b"MKACTIVITY", b"CHECKOUT", b"MERGE", b"M-SEARCH", b"NOTIFY", b"SUBSCRIBE"),
        *(b"UNSUBSCRIBE", b"PURGE", b"MKCALENDAR", b"LINK", b"UNLINK", b"SOURCE", b"QUERY"),
    )
)
_METHOD_PREFIXES: frozenset[bytes] = frozenset(m[:i] for m in METHODS for i in range(1, len(m) + 1))
_MAX_METHOD = max(len(m) for m in METHODS)
# Beyond this a request line that is still consistent is taken as plausible rather than
# waiting forever for its end (huge URLs exist).
_MAX_REQUEST_LINE = 16384

_NO, _MAYBE, _YES = 0, 1, 2


class Sniff(enum.Enum):
    """What the first bytes of a direction look like."""

    HTTP1_REQUEST = "http1-request"
    HTTP1_RESPONSE = "http1-response"
    H2_PREFACE = "h2-preface"
    H2_FRAMES = "h2-frames"
    TLS = "tls"
    NEED_MORE = "need-more"
    UNKNOWN = "unknown"


def _prefix_re(*atoms: bytes) -> re.Pattern[bytes]:
    """A pattern matching any prefix (including all) of the sequence ``atoms``."""
    pattern = b""
    for atom in reversed(atoms):
        pattern = b"(?:" + atom + pattern + b")?"
    return re.compile(pattern)


_TARGET = rb"[^\x00-\x20\x7f]+"
_REQUEST_LINE = re.compile(rb"([A-Z][A-Z-]*) " + _TARGET + rb" HTTP/1\.[01]\r?\n")
# After "METHOD ": a partial target, or a whole target and a partial version.
_REQUEST_TAIL_PARTIAL = re.compile(
    rb"[^\x00-\x20\x7f]*|"
    + _TARGET
    + rb" "
    + _prefix_re(*(rb"H T T P / 1 \. [01] \r".split())).pattern
)
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] [1-9][0-9][0-9][ \r]")
_STATUS_PARTIAL = _prefix_re(*(rb"H T T P / 1 \. [01] \x20 [1-9] [0-9] [0-9]".split()))
_STATUS_MIN = 9  # b"HTTP/1.1 "


def _request_state(data: bytes) -> int:
    sp = data.find(b" ", 0, _MAX_METHOD + 1)
    if sp < 0:
        return _MAYBE if len(data) <= _MAX_METHOD and data in _METHOD_PREFIXES else _NO
    if data[:sp] not in METHODS:
        return _NO
    head = data[: _MAX_REQUEST_LINE + 2]
    if _REQUEST_LINE.match(head):
        return _YES
    if b"\n" in head:
        return _NO
    if _REQUEST_TAIL_PARTIAL.fullmatch(head, sp + 1):
        return _YES if len(head) > _MAX_REQUEST_LINE else _MAYBE
    return _NO


def _response_state(data: bytes) -> int:
    if _STATUS_LINE.match(data):
        return _YES
    if len(data) < 13 and _STATUS_PARTIAL.fullmatch(data):
        return _MAYBE
    return _NO


def _tls_state(data: bytes) -> int:
    if data[0] not in (0x14, 0x15, 0x16, 0x17):
        return _NO
    if len(data) == 1:
        return _MAYBE
    if data[1] != 3:
        return _NO
    if len(data) == 2:
        return _MAYBE
    return _YES if data[2] <= 4 else _NO


def _h2_frames_state(data: bytes) -> int:
    """A SETTINGS frame on stream 0 (what a server sends first), judged byte by byte."""
    n = len(data)
    if data[0] != 0:
        return _NO
    if n >= 3:
        length = (data[1] << 8) | data[2]
        if length > 16384 or length % 6:
            return _NO
    if n >= 4 and data[3] != 0x04:
        return _NO
    if n >= 5:
        flags = data[4]
        if flags not in (0, 1) or (flags == 1 and n >= 3 and data[1:3] != b"\0\0"):
            return _NO
    if any(data[5:9]):
        return _NO
    return _YES if n >= 9 else _MAYBE


def sniff(data: bytes) -> Sniff:
    """Classify the first bytes of one direction of a connection."""
    if not data:
        return Sniff.NEED_MORE
    if data.startswith(H2_PREFACE):
        return Sniff.H2_PREFACE
    preface_prefix = H2_PREFACE.startswith(data)
    states = (
        (Sniff.HTTP1_REQUEST, _request_state(data)),
        (Sniff.HTTP1_RESPONSE, _response_state(data)),
        (Sniff.TLS, _tls_state(data)),
        (Sniff.H2_FRAMES, _h2_frames_state(data)),
    )
    maybe = preface_prefix
    for kind, state in states:
        if state == _YES:
            return kind
        if state == _MAYBE:
            maybe = True
            preface_prefix = False  # something else is still possible: wait
    if preface_prefix:
        return Sniff.H2_PREFACE
    return Sniff.NEED_MORE if maybe else Sniff.UNKNOWN


def message_start(direction: Direction, data: bytes | bytearray) -> bool | None:
    """Whether ``data`` may begin an HTTP/1.x request (REQUEST) or response (RESPONSE):
    True, False, or None when it is too short to tell but consistent so far.

    True needs a whole request line, or at least "METHOD " / "HTTP/1.x " followed by
    nothing inconsistent (the rest of the line may come in the next feed).
    """
    data = bytes(data[: _MAX_REQUEST_LINE + 2])
    if not data:
        return None
    if direction == Direction.REQUEST:
        state = _request_state(data)
        if state == _MAYBE:
            return True if data.find(b" ", 0, _MAX_METHOD + 1) > 0 else None
    else:
        state = _response_state(data)
        if state == _MAYBE:
            return True if len(data) >= _STATUS_MIN else None
    return state == _YES


def looks_like_message_start(direction: Direction, data: bytes | bytearray) -> bool:
    """Whether ``data`` plausibly begins an HTTP/1.x message in ``direction``."""
    return message_start(direction, data) is True


_H2_MAX_TYPE = 0x9


def plausible_h2_frames(data: bytes) -> bool:
    """Whether ``data`` reads as a chain of whole HTTP/2 frames (a chunk joined mid-stream).

    Every 9-byte header must name a known type, keep the reserved bit clear and fit the
    default maximum frame size; the chain must end exactly at the end of ``data`` (syscalls
    carry whole frames far more often than not) or in a frame cut short.
    """
    pos, frames, n = 0, 0, len(data)
    while pos + 9 <= n:
        length = int.from_bytes(data[pos : pos + 3], "big")
        ftype = data[pos + 3]
        if length > 16384 or ftype > _H2_MAX_TYPE or data[pos + 5] & 0x80:
            return False
        stream = int.from_bytes(data[pos + 5 : pos + 9], "big")
        if ftype in (0x4, 0x6, 0x7) and stream != 0:  # SETTINGS, PING, GOAWAY
            return False
        if ftype in (0x0, 0x1, 0x3, 0x9) and stream == 0:  # DATA, HEADERS, RST, CONT.
            return False
        frames += 1
        pos += 9 + length
        if frames >= 64:
            break
    return frames > 0 and (pos >= n or frames >= 64)
