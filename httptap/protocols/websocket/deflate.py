"""Bounded inflating of permessage-deflate messages (RFC 7692), one side of a connection.

wsproto's ``PerMessageDeflate`` inflates each frame whole (``decompress`` without a maximum
length), so one small frame can expand without bound; here output comes in slices, only a
prefix is kept, and a message stops inflating past ``max_inflate`` bytes.
"""

from __future__ import annotations

import zlib

from httptap.model import Body

_SLICE = 64 * 1024
#: the empty stored block a sender strips from the end of every message (RFC 7692 §7.2.1)
_TAIL = b"\x00\x00\xff\xff"
#: inflating one message stops past this (a decompression bomb); its size is then a floor
MAX_INFLATE = 256 * 1024 * 1024


class Inflater:
    """Inflates the messages one side sends, with its window and context-takeover setting."""

    def __init__(self, window_bits: int = 15, no_context_takeover: bool = False,
                 max_inflate: int = MAX_INFLATE) -> None:
        self._bits = min(max(window_bits, 9), 15)
        self._fresh = no_context_takeover
        self._max = max_inflate
        self._z: zlib._Decompress | None = None
        self._made = 0  # bytes inflated in the current message
        #: the shared context was lost (an error, a bomb, a gap): later messages may fail
        self.context_lost = False

    def start(self) -> None:
        """A compressed message begins."""
        if self._z is None or self._fresh:
            self._z = zlib.decompressobj(-self._bits)
        self._made = 0

    def feed(self, data: bytes, out: Body, limit: int) -> str | None:
        """Inflate ``data`` into ``out`` (kept up to ``limit``); why it stopped, or None."""
        return self._inflate(data, out, limit)

    def finish(self, out: Body, limit: int) -> str | None:
        """The message's last frame ended: flush its tail; why it failed, or None."""
        err = self._inflate(_TAIL, out, limit)
        if self._fresh:
            self._z = None
        return err

    def lose_context(self) -> None:
        """Bytes of this side were missed: the next message starts a new context."""
        if self._z is not None and not self._fresh:
            self.context_lost = True
        self._z = None

    def _inflate(self, data: bytes, out: Body, limit: int) -> str | None:
        z = self._z
        if z is None:
            return "no inflate context"
        try:
            while True:
                room = self._max - self._made
                if room <= 0:
                    self.lose_context()
                    return f"inflating stopped at {self._max} bytes (a decompression bomb?)"
                want = min(_SLICE, room)
                piece = z.decompress(data, want)
                self._made += len(piece)
                out.append(piece, limit)
                data = z.unconsumed_tail
                if z.eof or (not data and len(piece) < want):
                    return None
        except zlib.error as exc:
            self.lose_context()
            return f"cannot inflate: {exc}"
