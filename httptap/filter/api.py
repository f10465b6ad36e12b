"""``compile_filter`` and ``Filter``: what front ends use to select exchanges;
``compile_message_filter`` and ``MessageFilter``: the same language over one exchange's
WebSocket messages and server-sent events (a messages view)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from httptap.filter.evaluate import Node, TextContains
from httptap.filter.fields import BoundField
from httptap.filter.message_fields import EXCHANGE_FIELDS
from httptap.filter.parser import parse
from httptap.filter.table import MESSAGE
from httptap.model import Exchange, Message


class _Compiled:
    """A compiled filter over one kind of subject; the empty filter matches everything."""

    __slots__ = ("_root", "text")

    def __init__(self, text: str, root: Node | None) -> None:
        self.text = text
        self._root = root

    def matches(self, subject: Exchange | Message) -> bool:
        """Whether ``subject`` (an exchange, or a message for a message filter) passes."""
        return True if self._root is None else self._root.matches(subject)

    __call__ = matches

    @property
    def empty(self) -> bool:
        """True for a blank filter."""
        return self._root is None

    @property
    def tree(self) -> Node | None:
        """The syntax tree (its ``str`` is the filter fully parenthesised)."""
        return self._root

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"


class Filter(_Compiled):
    """A compiled exchange filter; the empty filter matches everything."""

    __slots__ = ("_uses_messages",)

    def __init__(self, text: str, root: Node | None) -> None:
        super().__init__(text, root)
        # asked for every exchange a filter turns away: walked once, here
        self._uses_messages = root is not None and any(
            name in _MESSAGE_FIELD_NAMES for name in _field_names(root)
        )

    def pids(self) -> set[int] | None:
        """The pids every match must have (for pid selection at capture), or None.

        An empty set means the filter pins contradicting pids and can never match.
        """
        return None if self._root is None else self._root.pids()

    @property
    def uses_messages(self) -> bool:
        """Whether it looks at an exchange's messages (``ws.text``, ``sse.event``, …): such
        an exchange can only be judged as its messages arrive, after it completed."""
        return self._uses_messages


def compile_filter(text: str) -> Filter:
    """Parse and check ``text``; raises ``FilterError`` pointing at the first mistake."""
    return Filter(text, parse(text))


class MessageFilter(_Compiled):
    """A compiled message filter; the empty filter matches every message."""

    __slots__ = ()


def compile_message_filter(text: str) -> MessageFilter:
    """Parse ``text`` over the message fields (a word alone: the data contains it);
    raises ``FilterError`` pointing at the first mistake."""
    return MessageFilter(text, parse(text, MESSAGE, TextContains))


_MESSAGE_FIELD_NAMES = frozenset(f.name for f in EXCHANGE_FIELDS)


def _field_names(node: object) -> Iterator[str]:
    """The names of the fields a syntax tree reads."""
    if isinstance(node, BoundField):
        yield node.field.name
    elif isinstance(node, tuple):
        for item in node:
            yield from _field_names(item)
    elif dataclasses.is_dataclass(node) and isinstance(node, Node):
        for f in dataclasses.fields(node):
            yield from _field_names(getattr(node, f.name))
