"""gRPC over HTTP/2, sans-IO: call names, length-prefixed messages, status.

The HTTP/2 parser owns streams; for a stream whose content-type is ``application/grpc*`` it
keeps one ``GrpcFramer`` per direction and feeds it the DATA payloads as they arrive. The
framer splits out messages (5-byte prefix: compressed flag, 4-byte big-endian length), however
they are cut across DATA frames, and decompresses them incrementally with a bounded output.
"""

from __future__ import annotations

import urllib.parse
import zlib

from httptap.model import DEFAULT_BODY_LIMIT, GrpcCall, GrpcMessage, Headers, find_header

#: Messages kept per direction of one call; later ones are counted, not kept.
MAX_MESSAGES = 10_000
#: Message data kept per direction of one call (sum of ``GrpcMessage.data``).
MAX_BYTES = 16 * 1024 * 1024

_SNIFF_MAX_MESSAGE = 4 << 20
_ZLIB_ENCODINGS = {"gzip", "deflate", "x-gzip"}
#: wbits: 32 + 15 lets zlib detect a gzip or zlib header itself (gRPC's "deflate" is zlib).
_AUTO_WBITS = 32 + zlib.MAX_WBITS


def is_grpc(content_type: str | None) -> bool:
    """True for ``application/grpc`` and its variants (``+proto``, ``+json``, ``-web``...)."""
    return content_type is not None and content_type.lower().startswith("application/grpc")


def looks_like_grpc(data: bytes) -> bool:
    """Whether a body's first bytes read as gRPC length-prefixed messages.

    Used only when a stream's content-type could not be decoded (HPACK state unknown): the
    messages must chain exactly to the end of ``data``, or the last one run past it with a
    length gRPC would accept (its default limit is 4 MiB).
    """
    i = 0
    n = len(data)
    if n < 5:
        return False
    while i + 5 <= n:
        if data[i] > 1:
            return False
        size = int.from_bytes(data[i + 1 : i + 5], "big")
        if size > _SNIFF_MAX_MESSAGE:
            return False
        i += 5 + size
    return i >= n


def split_path(path: str) -> tuple[str, str]:
    """``"/package.Service/Method"`` → ``("package.Service", "Method")``."""
    path = path.split("?", 1)[0].lstrip("/")
    service, _, method = path.rpartition("/")
    return service, method


def new_call(path: str) -> GrpcCall:
    """A ``GrpcCall`` named after the request's ``:path``."""
    service, method = split_path(path)
    return GrpcCall(service=service, method=method)


def apply_status(call: GrpcCall, headers: Headers) -> bool:
    """Take ``grpc-status``/``grpc-message`` from trailers (or a trailers-only response).

    Returns whether a status was found. ``grpc-message`` is percent-decoded (gRPC spec).
    """
    status = find_header(headers, "grpc-status")
    if status is None:
        return False
    try:
        call.status = int(status.strip())
    except ValueError:
        call.status = None
    message = find_header(headers, "grpc-message")
    if message is not None:
        call.message = urllib.parse.unquote(message, errors="replace")
    return True


class GrpcFramer:
    """Splits one direction of one gRPC call into messages, incrementally.

    ``feed`` returns the messages completed by this chunk. ``data`` of a message holds at most
    ``limit`` bytes (decompressed when the encoding is known); ``size`` is the length on the
    wire. Problems become ``notes`` (strings for the exchange), never exceptions.
    """

    __slots__ = (
        "_compressed",
        "_decomp",
        "_header",
        "_kept_bytes",
        "_left",
        "_out",
        "_out_capped",
        "_raw",
        "_raw_capped",
        "_ready",
        "_size",
        "encoding",
        "limit",
        "lost",
        "max_bytes",
        "max_messages",
        "messages",
        "notes",
    )

    def __init__(
        self,
        *,
        encoding: str | None = None,
        limit: int = DEFAULT_BODY_LIMIT,
        max_messages: int = MAX_MESSAGES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.encoding = (encoding or "identity").strip().lower()
        self.limit = limit
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        #: messages seen (kept or not)
        self.messages = 0
        self.notes: list[str] = []
        #: framing lost (a gap crossed a message boundary): nothing more is split out
        self.lost = False
        self._kept_bytes = 0
        self._header = b""  # partial 5-byte prefix
        self._left = -1  # bytes of the current message still to come; -1: between messages
        self._size = 0
        self._compressed = False
        self._raw = bytearray()
        self._raw_capped = False
        self._out = bytearray()
        self._out_capped = False
        self._decomp: zlib._Decompress | None = None
        self._ready: list[GrpcMessage] = []

    @property
    def in_message(self) -> bool:
        """A message has started and not ended."""
        return self._left >= 0 or bool(self._header)

    def feed(self, data: bytes) -> list[GrpcMessage]:
        """Split ``data`` (a DATA payload, padding removed); return the completed messages."""
        if self.lost:
            return []
        i = 0
        n = len(data)
        while i < n:
            if self._left < 0:
                need = 5 - len(self._header)
                if n - i < need:
                    self._header += data[i:]
                    break
                prefix = self._header + data[i : i + need]
                i += need
                self._header = b""
                self._start(prefix[0] & 1 == 1, int.from_bytes(prefix[1:5], "big"))
                if self._left == 0:
                    self._finish()
                continue
            take = min(self._left, n - i)
            self._chunk(data[i : i + take])
            i += take
            self._left -= take
            if self._left == 0:
                self._finish()
        return self._take()

    def gap(self, size: int) -> list[GrpcMessage]:
        """``size`` bytes of this direction were not captured; return messages it completed."""
        if self.lost or size <= 0:
            return []
        if size <= self._left and not self._header:
            # Inside one message: it is truncated, framing survives.
            self._left -= size
            self._raw_capped = True
            if self._compressed and self.encoding in _ZLIB_ENCODINGS:
                self._compressed_failed()
                self._note("gRPC message partly not captured: kept compressed")
            if self._left == 0:
                self._finish()
            return self._take()
        self.lost = True
        self._note(f"gRPC framing lost: {size} bytes not captured")
        return []

    def close(self) -> None:
        """The direction ended: note a message cut short."""
        if self.in_message and not self.lost:
            self._note("stream ended inside a gRPC message")

    # -- internals -----------------------------------------------------------------------

    def _take(self) -> list[GrpcMessage]:
        ready = self._ready
        if ready:
            self._ready = []
        return ready

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _start(self, compressed: bool, size: int) -> None:
        self._left = size
        self._size = size
        self._compressed = compressed
        self._raw = bytearray()
        self._out = bytearray()
        self._raw_capped = self._out_capped = False
        self._decomp = None
        if compressed:
            if self.encoding in _ZLIB_ENCODINGS:
                self._decomp = zlib.decompressobj(_AUTO_WBITS)
            elif self.encoding == "identity":
                self._note("compressed gRPC message without grpc-encoding: kept raw")
            else:
                self._note(f"gRPC encoding {self.encoding!r} not decoded: messages kept raw")

    def _chunk(self, chunk: bytes) -> None:
        room = self.limit - len(self._raw)
        if room >= len(chunk):
            self._raw += chunk
        else:
            if room > 0:
                self._raw += chunk[:room]
            self._raw_capped = True
        d = self._decomp
        if d is None:
            return
        room = self.limit - len(self._out)
        if room <= 0:
            # Output is capped; decompressing further would only be thrown away.
            self._out_capped = True
            self._decomp = None
            return
        try:
            self._out += d.decompress(chunk, room)
        except zlib.error:
            self._note(f"gRPC message not decompressible as {self.encoding}: kept raw")
            self._compressed_failed()
            return
        if d.unconsumed_tail:
            self._out_capped = True
            self._decomp = None

    def _compressed_failed(self) -> None:
        # Fall back to the raw (compressed) bytes for this message.
        self._decomp = None
        self._out = bytearray()
        self._out_capped = False

    def _finish(self) -> None:
        self._left = -1
        self.messages += 1
        if self._compressed and self.encoding in _ZLIB_ENCODINGS and (self._out or self._decomp):
            d = self._decomp
            if len(self._out) >= self.limit:
                self._out_capped = True
            if d is not None and not d.eof and not self._out_capped:
                # A truncated or corrupt deflate stream: show what came out, keep it honest.
                self._note(f"gRPC message not a complete {self.encoding} stream")
                self._out_capped = True
            data, truncated = bytes(self._out), self._out_capped
        else:
            data, truncated = bytes(self._raw), self._raw_capped
        self._raw = bytearray()
        self._out = bytearray()
        self._decomp = None
        if self.messages > self.max_messages:
            self._note(f"more than {self.max_messages} gRPC messages: later ones not kept")
            return
        if self._kept_bytes + len(data) > self.max_bytes:
            self._note(f"gRPC message data over {self.max_bytes} bytes: later data not kept")
            data, truncated = b"", True
        self._kept_bytes += len(data)
        self._ready.append(GrpcMessage(self._size, self._compressed, data, truncated))
