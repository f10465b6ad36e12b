"""The httptools (llhttp) fast path: one C call validates a whole head.

Once llhttp has accepted a head its grammar is known to be strict (CRLF line ends, no
obs-fold, one colon after a token name), so its fields are split with str methods rather than
collected through a Python callback per header line (measured cheaper).
"""

from __future__ import annotations

from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser, HttpResponseParser

from httptap.protocols.http1._h11 import SPECIAL_LENS, Fields


class _Sink:
    """httptools callbacks: only whether the head, and the whole message, were complete.

    No url/status/header callbacks: each costs a Python call per field, while splitting the
    head that llhttp has just validated costs one ``split`` and a short loop.
    """

    __slots__ = ("complete", "msg_complete")

    def __init__(self) -> None:
        self.complete = False
        self.msg_complete = False

    def on_headers_complete(self) -> None:
        self.complete = True

    def on_message_complete(self) -> None:
        self.msg_complete = True


class HeadValidator:
    """One direction's llhttp parser, reused from head to head while llhttp allows it."""

    __slots__ = ("_is_request", "_parser", "_sink")

    def __init__(self, is_request: bool) -> None:
        self._is_request = is_request
        self._sink = _Sink()
        self._parser: HttpRequestParser | HttpResponseParser | None = None

    def reset(self) -> None:
        """Forget the parser's state (after a loss of sync)."""
        self._parser = None

    def accepts(self, head: bytes | bytearray, retry: bool = True) -> bool:
        """Whether llhttp accepts ``head`` (one complete head, nothing after it)."""
        sink = self._sink
        sink.complete = sink.msg_complete = False
        parser = self._parser
        fresh = parser is None
        if parser is None:
            parser = self._parser = (
                HttpRequestParser(sink) if self._is_request else HttpResponseParser(sink)
            )
        try:
            parser.feed_data(head)
        except HttpParserUpgrade:
            self._parser = None  # paused for the switch; whether it happens is decided here
        except HttpParserError:
            self._parser = None
            if sink.complete:
                # Raised after the head, about what follows it (a pause for a switch llhttp
                # half-recognised, a transfer coding it refuses): framing is decided here.
                return True
            # A reused parser may refuse for its own reasons (llhttp's "Data after
            # Connection: close"); only a fresh parser's verdict is about this head.
            return self.accepts(head, False) if retry and not fresh else False
        if not sink.msg_complete:
            self._parser = None  # it expects a body we will not feed it
        return sink.complete


def split_fields(lines: list[str]) -> tuple[Fields, Fields]:
    """(headers, special) from the lines of a head llhttp accepted (so: no obs-fold,
    CRLF line ends, one colon after a token name); ``special`` has lowercased names."""
    headers: Fields = []
    special: Fields = []
    add = headers.append
    for line in lines[1:-2]:
        name, _, value = line.partition(":")
        if len(name) in SPECIAL_LENS:
            value = value.strip(" \t")
            add((name, value))
            special.append((name.lower(), value))
        else:
            add((name, value.strip(" \t")))
    return headers, special
