"""Message heads: their fields (llhttp first, h11 for what llhttp refuses)."""

from __future__ import annotations

from http import HTTPStatus

from httptap.protocols.http1 import _h11
from httptap.protocols.http1._framing import MAX_HEAD
from httptap.protocols.http1._h11 import RequestHead, ResponseHead
from httptap.protocols.http1._llhttp import HeadValidator, split_fields


def request_fields(llhttp: HeadValidator, head: bytes | bytearray) -> RequestHead | None:
    """The fields of a complete request head, or None if neither llhttp nor h11 accepts it."""
    if llhttp.accepts(head):
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) == 3:
            headers, special = split_fields(lines)
            return parts[0], parts[1], parts[2][5:], headers, special
    return _h11.request_head(head, MAX_HEAD)


def response_fields(llhttp: HeadValidator, head: bytes | bytearray) -> ResponseHead | None:
    """The fields of a complete response head, or None if neither llhttp nor h11 accepts it."""
    if llhttp.accepts(head):
        lines = head.decode("latin-1").split("\r\n")
        line = lines[0]  # validated: "HTTP/d.d ddd[ reason]"
        headers, special = split_fields(lines)
        return int(line[9:12]), line[13:], line[5:8], headers, special
    return _h11.response_head(head, MAX_HEAD)


def status_note(status: int, reason: str) -> str:
    """"100 Continue": how an informational response is noted on its exchange."""
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    return f"{status} {reason}".rstrip()


def protocol_name(upgrade: str) -> str:
    """The protocol an ``Upgrade`` header value switches to, as ``Upgraded`` names it."""
    tokens = [t.strip().lower() for t in upgrade.split(",") if t.strip()]
    for token in tokens:
        if token == "h2c":
            return "h2c"
        if token.startswith("websocket"):
            return "websocket"
    return tokens[0] if tokens else "unknown"
