"""permessage-deflate (RFC 7692) as the opening handshake negotiated it."""

from __future__ import annotations

from dataclasses import dataclass

from wsproto.extensions import PerMessageDeflate

from httptap.model import Headers, find_header


@dataclass(slots=True, frozen=True)
class Deflate:
    """The negotiated parameters; each side compresses with its own window and takeover."""

    client_no_context_takeover: bool = False
    server_no_context_takeover: bool = False
    client_max_window_bits: int = 15
    server_max_window_bits: int = 15

    def window_bits(self, from_client: bool) -> int:
        """Window of the messages one side sends."""
        return self.client_max_window_bits if from_client else self.server_max_window_bits

    def no_context_takeover(self, from_client: bool) -> bool:
        """Whether that side starts every message with a fresh compressor."""
        return self.client_no_context_takeover if from_client else self.server_no_context_takeover


def negotiated_deflate(request: Headers, response: Headers) -> Deflate | None:
    """permessage-deflate as the 101 response accepted it, or None when not in use.

    The response decides (RFC 7692 §5); the request only has to have offered it. Parameters
    that do not parse keep their defaults (window 15, context takeover): the widest window
    inflates what any narrower one compressed.
    """
    offered = _values(request)
    if not any(_name(v) == PerMessageDeflate.name for v in offered):
        return None
    for value in _values(response):
        if _name(value) != PerMessageDeflate.name:
            continue
        ext = PerMessageDeflate()
        for param in value.split(";")[1:]:
            # wsproto's finalize reads the accepted parameters; one at a time so a bad one
            # (it raises ValueError) leaves the others standing.
            param = param.strip().replace('"', "")
            try:
                ext.finalize(f"{PerMessageDeflate.name}; {param}")
            except (ValueError, IndexError):
                continue
        return Deflate(
            client_no_context_takeover=ext.client_no_context_takeover,
            server_no_context_takeover=ext.server_no_context_takeover,
            client_max_window_bits=ext.client_max_window_bits,
            server_max_window_bits=ext.server_max_window_bits,
        )
    return None


def is_websocket_upgrade(request: Headers, status: int | None, response: Headers) -> bool:
    """A 101 answer to a request to upgrade to WebSocket."""
    upgrade = (find_header(response, "upgrade") or find_header(request, "upgrade") or "")
    return status == 101 and "websocket" in upgrade.lower()


def _values(headers: Headers) -> list[str]:
    out: list[str] = []
    for key, value in headers:
        if key.lower() == "sec-websocket-extensions":
            out.extend(piece.strip() for piece in value.split(","))
    return out


def _name(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()
