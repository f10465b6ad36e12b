"""The two field tables of the one filter language: exchanges and messages.

The parser resolves names against a table; the help prints both. ``EXCHANGE`` is the filter
every front end applies to exchanges; ``MESSAGE`` the filter of a messages view.
"""

from __future__ import annotations

from httptap.filter.fields import FIELDS, HEADER_NAME, BoundField, Field
from httptap.filter.message_fields import EXCHANGE_FIELDS, MESSAGE_FIELDS


class FieldTable:
    """Fields by name, and families (``header.NAME``) by prefix."""

    def __init__(self, fields: tuple[Field, ...]) -> None:
        self.fields = fields
        self._by_name = {f.name: f for f in fields if not f.param}
        self._families = sorted((f for f in fields if f.param), key=lambda f: -len(f.name))

    def names(self) -> list[str]:
        """Every field as the help shows it."""
        return [f.title for f in self.fields]

    def resolve(self, word: str) -> BoundField | None:
        """The field ``word`` names, or None.

        Raises ``ValueError(expected, offset)`` for a family with a bad parameter (``header.=``).
        """
        lower = word.lower()
        if lower in self._by_name:
            return BoundField(self._by_name[lower])
        for fam in self._families:
            if lower.startswith(fam.name):
                arg = lower[len(fam.name) :]
                if not HEADER_NAME.fullmatch(arg):
                    raise ValueError(f"a header name after '{fam.name}'", len(fam.name))
                return BoundField(fam, arg)
        return None


EXCHANGE = FieldTable((*FIELDS, *EXCHANGE_FIELDS))
MESSAGE = FieldTable(MESSAGE_FIELDS)
