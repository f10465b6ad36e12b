"""The h11 reference path: a second opinion on message heads that llhttp rejects.

llhttp is strict: it refuses obs-fold continuation lines, bare-LF line ends, methods outside
its fixed list and repeated identical Content-Length headers, all of which real peers send and
real servers accept. A passive observer should see what the peers saw, so a head llhttp
rejects is given to h11 before the connection is declared unparseable. Only heads reach here,
so this costs nothing on the hot path.
"""

from __future__ import annotations

import h11

Fields = list[tuple[str, str]]
# A parsed head: (method, target, version, headers, special), or for a response (status,
# reason, version, headers, special), where ``special`` holds (lowercased name, value) for the
# headers that decide framing.
RequestHead = tuple[str, str, str, Fields, Fields]
ResponseHead = tuple[int, str, str, Fields, Fields]

# The header fields that framing and pairing read (Connection is not needed: a close is seen).
SPECIAL_NAMES = frozenset(("host", "upgrade", "content-length", "transfer-encoding"))
SPECIAL_LENS = frozenset(len(n) for n in SPECIAL_NAMES)


def _headers(raw: list[tuple[bytes, bytes]]) -> tuple[Fields, Fields]:
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw]
    special = [(n.lower(), v) for n, v in headers if n.lower() in SPECIAL_NAMES]
    return headers, special


def request_head(head: bytes | bytearray, max_size: int) -> RequestHead | None:
    """Parse a complete request head with h11, or None if h11 rejects it too."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_size + 1)
    try:
        conn.receive_data(bytes(head))
        ev = conn.next_event()
    except h11.ProtocolError:
        return None
    if not isinstance(ev, h11.Request):
        return None
    headers, special = _headers(list(ev.headers.raw_items()))
    return (
        ev.method.decode("latin-1"),
        ev.target.decode("latin-1"),
        ev.http_version.decode("latin-1"),
        headers,
        special,
    )


def response_head(head: bytes | bytearray, max_size: int) -> ResponseHead | None:
    """Parse a complete response head (final or 1xx) with h11, or None if it rejects it."""
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_size + 1)
    try:
        # h11 frames a response by its request; the method is irrelevant for the head itself.
        conn.send(h11.Request(method="GET", target="/", headers=[("Host", "h")]))
        conn.send(h11.EndOfMessage())
        conn.receive_data(bytes(head))
        ev = conn.next_event()
    except h11.ProtocolError:
        return None
    if not isinstance(ev, (h11.Response, h11.InformationalResponse)):
        return None
    headers, special = _headers(list(ev.headers.raw_items()))
    return (
        ev.status_code,
        ev.reason.decode("latin-1"),
        ev.http_version.decode("latin-1"),
        headers,
        special,
    )
