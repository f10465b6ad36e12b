"""RFC 6455 frame headers: decoded from any bytes without raising, and judged.

wsproto's ``FrameDecoder`` raises ``ParseFailed`` on the first irregular header, must be told
which peer it is (and then refuses the other side's masking) and cannot skip a gap, so the
header is decoded here; the opcodes and the unmasking are wsproto's.
"""

from __future__ import annotations

from dataclasses import dataclass

from wsproto.frame_protocol import Opcode

#: opcodes of control frames (ping, pong, close): at most 125 bytes, never fragmented
CONTROL = frozenset({Opcode.CLOSE, Opcode.PING, Opcode.PONG})
#: every opcode RFC 6455 defines
KNOWN = frozenset(Opcode)
#: the longest frame header: 2 bytes, an 8-byte length, a 4-byte mask key
MAX_HEADER = 14
#: a data frame longer than this is not believed when resynchronising
_PLAUSIBLE_LENGTH = 1 << 31


@dataclass(slots=True, frozen=True)
class FrameHeader:
    """One frame's header; ``size`` is its own length in bytes."""

    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: int
    masked: bool
    length: int
    mask: bytes
    size: int
    minimal: bool  # the length used the shortest encoding

    @property
    def control(self) -> bool:
        return self.opcode in CONTROL


def parse_header(buf: bytes | bytearray | memoryview, pos: int = 0) -> FrameHeader | None:
    """The frame header at ``buf[pos:]``, or None while it is incomplete. Never raises."""
    avail = len(buf) - pos
    if avail < 2:
        return None
    b0 = buf[pos]
    b1 = buf[pos + 1]
    masked = bool(b1 & 0x80)
    length = b1 & 0x7F
    size = 2
    minimal = True
    if length == 126:
        if avail < 4:
            return None
        length = int.from_bytes(buf[pos + 2:pos + 4], "big")
        size = 4
        minimal = length > 125
    elif length == 127:
        if avail < 10:
            return None
        length = int.from_bytes(buf[pos + 2:pos + 10], "big")
        size = 10
        minimal = length > 0xFFFF
    mask = b""
    if masked:
        if avail < size + 4:
            return None
        mask = bytes(buf[pos + size:pos + size + 4])
        size += 4
    return FrameHeader(
        fin=bool(b0 & 0x80), rsv1=bool(b0 & 0x40), rsv2=bool(b0 & 0x20), rsv3=bool(b0 & 0x10),
        opcode=b0 & 0x0F, masked=masked, length=length, mask=mask, size=size, minimal=minimal,
    )


def broken(h: FrameHeader) -> str | None:
    """Why ``h`` cannot be a frame header at all (a parser in sync gives up on it), or None.

    Masking on the wrong side, a needless long length or RSV1 without a negotiated extension
    are tolerated: an observer decodes what peers accept.
    """
    if h.opcode not in KNOWN:
        return f"reserved opcode {h.opcode:#x}"
    if h.control and not h.fin:
        return "fragmented control frame"
    if h.control and h.length > 125:
        return f"control frame of {h.length} bytes"
    if h.rsv2 or h.rsv3:
        return "RSV2/RSV3 set"
    if h.length >> 63:
        return "64-bit length with its top bit set"
    return None


def plausible(h: FrameHeader, *, from_client: bool, deflate: bool) -> bool:
    """Whether ``h`` could start a frame from this side: the strict test of resynchronising."""
    if broken(h) is not None or not h.minimal or h.masked != from_client:
        return False
    if h.rsv1 and (not deflate or h.opcode not in (Opcode.TEXT, Opcode.BINARY)):
        return False
    return h.control or h.length < _PLAUSIBLE_LENGTH
