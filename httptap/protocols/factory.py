"""The parser for a connection once its protocol is known (server-sent events tapped)."""

from __future__ import annotations

from httptap.model import Connection, Proto
from httptap.protocols.base import ProtocolParser
from httptap.protocols.messages import sse_tap


def make_parser(proto: Proto, connection: Connection, body_limit: int, midstream: bool,
                *, upgraded: bool = False) -> ProtocolParser | None:
    """HTTP/1.x or HTTP/2 (``upgraded``: after an ``Upgrade: h2c``); None when unavailable."""
    tap = sse_tap(connection, body_limit)
    if proto is Proto.HTTP1:
        from httptap.protocols.http1 import Http1Parser

        return Http1Parser(connection, body_limit=body_limit, midstream=midstream, body_tap=tap)
    try:
        from httptap.protocols.http2 import Http2Parser
    except ImportError:
        return None
    return Http2Parser(connection, body_limit=body_limit, midstream=midstream and not upgraded,
                       upgraded=upgraded, body_tap=tap)
