"""The filter language every front end shares: ``compile_filter(text).matches(exchange)``.

See ``help_text()`` (``httptap --help-filter``) for the fields, operators and units.
"""

from __future__ import annotations

from httptap.filter.api import Filter, MessageFilter, compile_filter, compile_message_filter
from httptap.filter.errors import FilterError
from httptap.filter.help import help_text

__all__ = [
    "Filter",
    "FilterError",
    "MessageFilter",
    "compile_filter",
    "compile_message_filter",
    "help_text",
]
