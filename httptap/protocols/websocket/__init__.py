"""WebSocket (RFC 6455, permessage-deflate RFC 7692) read passively, one side at a time.

``WebSocketReader`` turns the bytes one peer sends after the 101 handshake into messages;
``negotiated_deflate`` reads the handshake's extension negotiation for it.
"""

from httptap.protocols.websocket.events import WsEvent, WsMessage, WsNote
from httptap.protocols.websocket.negotiation import (
    Deflate,
    is_websocket_upgrade,
    negotiated_deflate,
)
from httptap.protocols.websocket.reader import WebSocketReader

__all__ = ["Deflate", "WebSocketReader", "WsEvent", "WsMessage", "WsNote",
           "is_websocket_upgrade", "negotiated_deflate"]
