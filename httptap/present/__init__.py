"""One formatting for every front end: sizes, durations, clock and ISO times, status
classes, bodies made displayable, WebSocket messages and SSE events as rows. Imports only
the model, ``httptap.content`` and third-party libraries; never a front end, the engine or
capture."""

from httptap.present.body import decode_body, decode_request, decode_response
from httptap.present.clock import clock, date_clock, iso_utc
from httptap.present.messages import MessageRow, message_data, message_row
from httptap.present.status import RICH_STYLES, StatusClass, exchange_status, status_class
from httptap.present.text import DISPLAY_LIMIT, HEX_LIMIT, Decoded, hexdump
from httptap.present.units import human_ms, human_size
from httptap.present.waterfall import phase_columns, waterfall, waterfall_lines

__all__ = [
    "DISPLAY_LIMIT",
    "HEX_LIMIT",
    "RICH_STYLES",
    "Decoded",
    "MessageRow",
    "StatusClass",
    "clock",
    "date_clock",
    "decode_body",
    "decode_request",
    "decode_response",
    "exchange_status",
    "hexdump",
    "human_ms",
    "human_size",
    "iso_utc",
    "message_data",
    "message_row",
    "phase_columns",
    "status_class",
    "waterfall",
    "waterfall_lines",
]
