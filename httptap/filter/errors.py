"""FilterError: a bad filter, with the column where it went wrong and what was expected."""

from __future__ import annotations

import unicodedata

_PREFIX = "bad filter: "


class FilterError(Exception):
    """A filter that does not parse or does not type-check.

    ``str(err)`` is the message every front end shows: the filter quoted, a caret under
    ``column`` (0-based, into ``text``) and what was ``expected`` there. A front end that
    prints something before the message on its first line (``httptap: ``, IPython's
    ``UsageError: ``) renders it with ``render(lead)`` so the caret still points at the column.
    """

    def __init__(self, text: str, column: int, expected: str) -> None:
        self.text = text
        self.column = max(0, min(column, len(text)))
        self.expected = expected
        super().__init__(self._render())

    def __str__(self) -> str:
        return self._render()

    def render(self, lead: str = "") -> str:
        """The message for a display that prints ``lead`` just before its first line."""
        return self._render(_display_width(lead))

    def _render(self, lead_width: int = 0) -> str:
        # Tabs and newlines would break the caret's alignment: show them as spaces.
        shown = "".join(" " if ch in "\t\r\n\v\f" else ch for ch in self.text)
        pad = lead_width + len(_PREFIX) + _display_width(shown[: self.column])
        return f"{_PREFIX}{shown}\n{' ' * pad}^ expected {self.expected}"


def _display_width(text: str) -> int:
    """Terminal columns of ``text``: wide (CJK) characters take two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width
