"""Finding the next frame header in a stream joined mid-way (or after a gap).

A position is taken when its header is ``plausible`` for this side, its payload does not
contradict its opcode, and the header after it is plausible too; a candidate whose frame
is longer than what has arrived is taken once ``WAIT`` bytes have come without a better one.
"""

from __future__ import annotations

import codecs

from wsproto.frame_protocol import Opcode, XorMaskerSimple

from httptap.protocols.websocket.frames import MAX_HEADER, FrameHeader, parse_header, plausible

#: bytes a candidate may wait for its confirmation before it is believed on its own
WAIT = 64 * 1024
_CLOSE_CODES = frozenset(range(1000, 1012)) - {1004, 1005, 1006} | frozenset(range(3000, 5000))


class Scanner:
    """Scans one side's buffer for a frame start; keeps its place between calls."""

    def __init__(self, *, from_client: bool, deflate: bool) -> None:
        self._from_client = from_client
        self._deflate = deflate
        self._next = 0  # first position not scanned yet
        self._pending: list[int] = []  # candidates waiting for more bytes

    def find(self, buf: bytearray, final: bool) -> tuple[int | None, int]:
        """``(start, droppable)``: where a frame starts (or None) and how many leading bytes
        can go (when no start was found)."""
        n = len(buf)
        waiting: list[int] = []
        for p in self._pending:
            verdict = self._judge(buf, p, final)
            if verdict is True:
                return self._found(p)
            if verdict is None:
                waiting.append(p)
        p = self._next
        while p < n:
            if n - p < MAX_HEADER and parse_header(buf, p) is None:
                break  # the header at p is still incomplete
            verdict = self._judge(buf, p, final)
            if verdict is True:
                return self._found(p)
            if verdict is None and len(waiting) < 16:
                waiting.append(p)
            p += 1
        self._next = p
        if waiting and n - waiting[0] >= WAIT:
            return self._found(waiting[0])
        drop = waiting[0] if waiting else p
        self._next -= drop
        self._pending = [q - drop for q in waiting]
        return None, drop

    def reset(self) -> None:
        """The buffer was emptied: scan it from its start."""
        self._next = 0
        self._pending = []

    def _found(self, p: int) -> tuple[int, int]:
        self.reset()
        return p, p

    def _judge(self, buf: bytearray, p: int, final: bool) -> bool | None:
        """True: a frame starts at ``p``; False: none does; None: cannot tell yet."""
        h = parse_header(buf, p)
        if h is None:
            return None
        if not plausible(h, from_client=self._from_client, deflate=self._deflate):
            return False
        if not _payload_fits(h, buf, p):
            return False
        end = p + h.size + h.length
        if end == len(buf):
            return True if final else None
        if end > len(buf):
            return None
        nxt = parse_header(buf, end)
        if nxt is None:
            return True if final else None
        return plausible(nxt, from_client=self._from_client, deflate=self._deflate)


def _payload_fits(h: FrameHeader, buf: bytearray, p: int) -> bool:
    """Whether the payload seen so far agrees with the opcode (text is UTF-8, close codes)."""
    start = p + h.size
    seen = bytes(buf[start:start + min(h.length, 1024)])
    if h.masked and seen:
        seen = bytes(XorMaskerSimple(h.mask).process(bytearray(seen)))
    if h.opcode == Opcode.CLOSE:
        if h.length == 1:
            return False
        return len(seen) < 2 or int.from_bytes(seen[:2], "big") in _CLOSE_CODES
    if h.opcode == Opcode.TEXT and not h.rsv1:
        whole = len(seen) == h.length and h.fin
        try:
            codecs.getincrementaldecoder("utf-8")().decode(seen, final=whole)
        except UnicodeDecodeError:
            return False
    return True
