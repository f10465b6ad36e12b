"""The filter's syntax tree; each node evaluates itself against an Exchange (or, in a
message filter, a Message: the nodes only reach the subject through its fields).

Two-valued logic throughout: a comparison with a missing value is false whatever the
operator, so ``not X`` is always the exact complement of ``X``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from httptap.filter.fields import BoundField, Value
from httptap.filter.message_fields import message_text
from httptap.model import Exchange, Message

Predicate = Callable[[Value], bool]
Subject = Exchange | Message


class Node:
    """A boolean expression over one exchange (or one message)."""

    __slots__ = ()

    def matches(self, ex: Subject) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def pids(self) -> set[int] | None:
        """Pids this expression pins (every match has one of them), or None."""
        return None


@dataclass(frozen=True, slots=True)
class And(Node):
    """All of ``items`` (n-ary, so a long chain does not nest deeply)."""

    items: tuple[Node, ...]

    def matches(self, ex: Subject) -> bool:
        return all(item.matches(ex) for item in self.items)

    def pids(self) -> set[int] | None:
        out: set[int] | None = None
        for item in self.items:
            pids = item.pids()
            if pids is not None:
                out = pids if out is None else out & pids
        return out

    def __str__(self) -> str:
        return "(" + " and ".join(map(str, self.items)) + ")"


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Any of ``items``."""

    items: tuple[Node, ...]

    def matches(self, ex: Subject) -> bool:
        return any(item.matches(ex) for item in self.items)

    def pids(self) -> set[int] | None:
        out: set[int] = set()
        for item in self.items:
            pids = item.pids()
            if pids is None:
                return None
            out |= pids
        return out

    def __str__(self) -> str:
        return "(" + " or ".join(map(str, self.items)) + ")"


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def matches(self, ex: Subject) -> bool:
        return not self.operand.matches(ex)

    def __str__(self) -> str:
        return f"not {self.operand}"


@dataclass(frozen=True, slots=True)
class UrlContains(Node):
    """A bare word or string alone: case-insensitive substring of the URL."""

    needle: str

    def matches(self, ex: Subject) -> bool:
        return isinstance(ex, Exchange) and self.needle.lower() in ex.url.lower()

    def __str__(self) -> str:
        return quote(self.needle)


@dataclass(frozen=True, slots=True)
class TextContains(Node):
    """A bare word or string alone in a message filter: substring of the data's text."""

    needle: str

    def matches(self, ex: Subject) -> bool:
        return isinstance(ex, Message) and self.needle.lower() in message_text(ex).lower()

    def __str__(self) -> str:
        return quote(self.needle)


@dataclass(frozen=True, slots=True)
class Present(Node):
    """A field alone: it has a non-empty, non-zero, non-false value."""

    field: BoundField

    def matches(self, ex: Subject) -> bool:
        return any(bool(v) for v in self.field.values(ex))

    def __str__(self) -> str:
        return self.field.name


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """``field op value``: true when some value satisfies ``test``.

    For the negative operators (``!=``, ``!~``) ``test`` is the positive one and the node is
    true when the field has values and none satisfies it.
    """

    field: BoundField
    op: str
    value: str  # as written, for display
    test: Predicate
    negative: bool = False
    pinned: frozenset[int] | None = None

    def matches(self, ex: Subject) -> bool:
        values = self.field.values(ex)
        if self.negative:
            return bool(values) and not any(self.test(v) for v in values)
        return any(self.test(v) for v in values)

    def pids(self) -> set[int] | None:
        return None if self.pinned is None else set(self.pinned)

    def __str__(self) -> str:
        sep = " " if self.op == "contains" else ""
        return f"{self.field.name}{sep}{self.op}{sep}{quote(self.value)}"


def quote(text: str) -> str:
    """``text`` as a filter string literal that reads back to the same value."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def text_predicate(op: str, value: str) -> Predicate:
    """Case-insensitive equality or substring on the value's text."""
    want = value.lower()
    if op == "=":
        return lambda v: str(v).lower() == want
    return lambda v: want in str(v).lower()


def regex_predicate(rx: re.Pattern[str]) -> Predicate:
    return lambda v: rx.search(str(v)) is not None


def order_predicate(op: str, x: float) -> Predicate:
    """Numeric comparison; values of other types (never expected) do not match."""
    if op == "=":
        return lambda v: v == x
    if op == "<":
        return lambda v: v < x
    if op == "<=":
        return lambda v: v <= x
    if op == ">":
        return lambda v: v > x
    return lambda v: v >= x


def range_predicate(op: str, lo: int, hi: int) -> Predicate:
    """Comparison with a status class (``4xx`` = 400..499)."""
    if op == "=":
        return lambda v: lo <= v <= hi
    if op == "<":
        return lambda v: v < lo
    if op == "<=":
        return lambda v: v <= hi
    if op == ">":
        return lambda v: v > hi
    return lambda v: v >= lo
