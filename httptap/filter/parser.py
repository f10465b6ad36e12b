"""Recursive-descent parser: filter text to a checked syntax tree (``evaluate.Node``).

Grammar (``not`` binds tighter than ``and``, ``and`` tighter than ``or``)::

    filter     := [or_expr] EOF
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | primary
    primary    := "(" or_expr ")" | FIELD OP VALUE | FIELD | WORD | STRING

Values are parsed and type-checked here, and regexes compiled, so every mistake is
reported before a capture starts, with the column where it went wrong.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Iterator
from typing import NoReturn

from httptap.filter import fields as F
from httptap.filter.errors import FilterError
from httptap.filter.evaluate import (
    And,
    Compare,
    Node,
    Not,
    Or,
    Predicate,
    Present,
    UrlContains,
    order_predicate,
    range_predicate,
    regex_predicate,
    text_predicate,
)
from httptap.filter.lexer import KEYWORDS, Kind, Lexer, Token
from httptap.filter.table import EXCHANGE, FieldTable

_TERM = "a comparison such as status>=400, a word or '('"
#: Deepest nesting of parentheses and 'not' (the parser and evaluator recurse on it).
MAX_DEPTH = 100


def parse(text: str, table: FieldTable = EXCHANGE,
          bare: Callable[[str], Node] = UrlContains) -> Node | None:
    """The tree of ``text`` over ``table``'s fields; None for a blank filter.

    ``bare`` makes the node of a word or string alone (exchanges: the URL contains it).
    Raises FilterError.
    """
    return _Parser(text, table, bare).parse()


class _Parser:
    def __init__(self, text: str, table: FieldTable, bare: Callable[[str], Node]) -> None:
        self.text = text
        self.lex = Lexer(text)
        self.depth = 0
        self.table = table
        self.bare = bare

    def parse(self) -> Node | None:
        if self.lex.peek().kind is Kind.EOF:
            return None
        node = self._or()
        tok = self.lex.peek()
        if tok.kind is not Kind.EOF:
            self._fail(tok.start, "'and', 'or' or the end of the filter")
        return node

    def _fail(self, column: int, expected: str) -> NoReturn:
        raise FilterError(self.text, column, expected)

    def _or(self) -> Node:
        items = [self._and()]
        while self.lex.peek().is_keyword("or"):
            self.lex.next()
            items.append(self._and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self) -> Node:
        items = [self._unary()]
        while self.lex.peek().is_keyword("and"):
            self.lex.next()
            items.append(self._unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _unary(self) -> Node:
        tok = self.lex.peek()
        if tok.is_keyword("not"):
            self.lex.next()
            with self._nested(tok):
                return Not(self._unary())
        return self._primary()

    @contextlib.contextmanager
    def _nested(self, tok: Token) -> Iterator[None]:
        # Bounded so that a pathological filter is an error, not a RecursionError.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self._fail(tok.start, f"at most {MAX_DEPTH} nested 'not's and parentheses")
        try:
            yield
        finally:
            self.depth -= 1

    def _primary(self) -> Node:
        tok = self.lex.next()
        if tok.kind is Kind.LPAREN:
            with self._nested(tok):
                node = self._or()
            close = self.lex.next()
            if close.kind is not Kind.RPAREN:
                self._fail(close.start, "'and', 'or' or ')'")
            return node
        if tok.kind is Kind.STRING:
            return self.bare(tok.value)
        if tok.kind is not Kind.WORD or tok.value.lower() in KEYWORDS:
            self._fail(tok.start, _TERM)
        nxt = self.lex.peek()
        if nxt.kind is Kind.OP or nxt.is_keyword("contains"):
            field = self._field(tok, required=True)
            assert field is not None
            self.lex.next()
            return self._comparison(field, nxt)
        field = self._field(tok, required=False)
        return Present(field) if field is not None else self.bare(tok.value)

    def _field(self, tok: Token, *, required: bool) -> F.BoundField | None:
        try:
            field = self.table.resolve(tok.value)
        except ValueError as exc:
            expected, offset = exc.args
            self._fail(tok.start + offset, expected)
        if field is None and required:
            close = difflib.get_close_matches(tok.value.lower(), self.table.names(), n=1)
            hint = f" such as {close[0]}" if close else ""
            self._fail(tok.start, f"a field name{hint} (see httptap --help-filter)")
        return field

    def _comparison(self, field: F.BoundField, op_tok: Token) -> Compare:
        op = F.OPERATOR_ALIASES.get(op_tok.value.lower(), op_tok.value.lower())
        ftype = field.field.type
        allowed = F.TYPE_OPERATORS[ftype]
        if op not in allowed:
            ops = " ".join(allowed[:-1]) + f" or {allowed[-1]}"
            self._fail(op_tok.start, f"{ops} ({field.name} is a {ftype.value} field)")
        val = self.lex.value()
        if val.kind is Kind.EOF:
            self._fail(val.start, f"a value after '{op_tok.value}'")
        negative = op in ("!=", "!~")
        positive = {"!=": "=", "!~": "~"}.get(op, op)
        try:
            test = self._predicate(field, positive, val)
        except ValueError as exc:
            self._fail(val.start, str(exc))
        pinned = None
        if field.field.name == "pid" and op == "=" and val.value.isascii() and val.value.isdigit():
            pinned = frozenset({int(val.value)})
        return Compare(field, op, val.value, test, negative, pinned)

    def _predicate(self, field: F.BoundField, op: str, val: Token) -> Predicate:
        ftype = field.field.type
        text = val.value
        if op == "~":
            return regex_predicate(self._regex(val))
        if op == "contains" or ftype is F.FieldType.TEXT:
            return text_predicate(op, text)
        if ftype is F.FieldType.CHOICE:
            assert field.field.choices is not None
            choice = F.parse_choice(text, field.field.choices)
            return lambda v: v == choice
        if ftype is F.FieldType.BOOL:
            flag = F.parse_bool(text)
            return lambda v: v is flag
        if ftype is F.FieldType.NUMBER:
            number = F.parse_int(text)
            if isinstance(number, tuple):
                return range_predicate(op, *number)
            return order_predicate(op, number)
        if ftype is F.FieldType.DURATION:
            return order_predicate(op, F.parse_duration(text))
        return order_predicate(op, F.parse_size(text))

    def _regex(self, val: Token) -> re.Pattern[str]:
        try:
            return re.compile(val.value, re.IGNORECASE)
        except re.error as exc:
            pos = exc.pos if exc.pos is not None else 0
            self._fail(val.column_of(pos), f"a valid regular expression ({exc.msg})")
