"""Tokens of the filter language, scanned on demand by the parser.

The scanner has two modes because a value is lexed differently from the rest: after an
operator, a bare value runs to the next blank or ``)`` (so ``path~^/v1/a=b`` or
``latency>1.5s`` need no quotes), while elsewhere ``= ! < > ~`` end a word.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from httptap.filter.errors import FilterError

#: Symbolic operators, longest first so that ``<=`` wins over ``<``.
SYMBOL_OPERATORS = ("<=", ">=", "!=", "!~", "==", "=", "<", ">", "~")
KEYWORDS = frozenset({"and", "or", "not", "contains"})

_WORD_STOP = frozenset(" \t\r\n\v\f()\"'=!<>~")
_SPACE = frozenset(" \t\r\n\v\f")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


class Kind(enum.Enum):
    WORD = "word"
    STRING = "string"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    EOF = "end of filter"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``value`` is the unescaped text, ``start``/``end`` columns in the source.

    For strings ``offsets[i]`` is the source column of ``value[i]``, so an error inside a
    quoted regex can still be pointed at precisely.
    """

    kind: Kind
    value: str
    start: int
    end: int
    offsets: tuple[int, ...] = ()

    def column_of(self, index: int) -> int:
        """Source column of character ``index`` of ``value``."""
        if self.offsets and 0 <= index < len(self.offsets):
            return self.offsets[index]
        if self.kind is Kind.STRING:
            return self.end - 1 if index >= len(self.value) else self.start
        return self.start + min(max(index, 0), len(self.value))

    def is_keyword(self, word: str) -> bool:
        return self.kind is Kind.WORD and self.value.lower() == word


class Lexer:
    """Scans ``text`` from ``pos``; ``peek``/``next`` in term mode, ``value`` after operators."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> Token:
        saved = self.pos
        try:
            return self.next()
        finally:
            self.pos = saved

    def next(self) -> Token:
        self._skip_space()
        text, i = self.text, self.pos
        if i >= len(text):
            return Token(Kind.EOF, "", i, i)
        ch = text[i]
        if ch == "(":
            self.pos = i + 1
            return Token(Kind.LPAREN, ch, i, i + 1)
        if ch == ")":
            self.pos = i + 1
            return Token(Kind.RPAREN, ch, i, i + 1)
        if ch in "\"'":
            return self._string()
        for op in SYMBOL_OPERATORS:
            if text.startswith(op, i):
                self.pos = i + len(op)
                return Token(Kind.OP, op, i, self.pos)
        if ch == "!":
            raise FilterError(text, i, "'!=', '!~' or the word 'not'")
        j = i
        while j < len(text) and text[j] not in _WORD_STOP:
            j += 1
        self.pos = j
        return Token(Kind.WORD, text[i:j], i, j)

    def value(self) -> Token:
        """The value after an operator: a quoted string, or everything up to a blank or ')'."""
        self._skip_space()
        text, i = self.text, self.pos
        if i < len(text) and text[i] in "\"'":
            return self._string()
        j = i
        while j < len(text) and text[j] not in _SPACE and text[j] != ")":
            j += 1
        self.pos = j
        if j == i:
            return Token(Kind.EOF, "", i, i)
        return Token(Kind.WORD, text[i:j], i, j)

    def _skip_space(self) -> None:
        text, i = self.text, self.pos
        while i < len(text) and text[i] in _SPACE:
            i += 1
        self.pos = i

    def _string(self) -> Token:
        text, start = self.text, self.pos
        quote = text[start]
        out: list[str] = []
        offsets: list[int] = []
        i = start + 1
        while i < len(text):
            ch = text[i]
            if ch == quote:
                self.pos = i + 1
                return Token(Kind.STRING, "".join(out), start, i + 1, tuple(offsets))
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    offsets.append(i)
                    i += 2
                    continue
                if nxt in "xu":
                    width = 2 if nxt == "x" else 4
                    digits = text[i + 2 : i + 2 + width]
                    if len(digits) != width or any(
                        c not in "0123456789abcdefABCDEF" for c in digits
                    ):
                        raise FilterError(text, i, f"{width} hex digits after \\{nxt}")
                    out.append(chr(int(digits, 16)))
                    offsets.append(i)
                    i += 2 + width
                    continue
                # Any other escape is kept as written, so regexes such as "\d+" or "\." need
                # no doubled backslashes.
                out.append(ch)
                offsets.append(i)
                i += 1
                continue
            out.append(ch)
            offsets.append(i)
            i += 1
        raise FilterError(text, len(text), f"a closing {quote} (string opened at column {start})")
