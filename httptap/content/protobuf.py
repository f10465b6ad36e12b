"""Schema-less protobuf decoding, like ``protoc --decode_raw``, for showing gRPC messages.

``decode_raw`` never raises: on bytes that are not (or not entirely) protobuf it returns the
fields it could decode followed by one *error marker* — a ``Field`` with ``wire_type == -1``,
``error`` saying what went wrong and ``value`` holding the undecoded rest. Length-delimited
fields are guessed: text when they are printable UTF-8 without control characters, else a
nested message when they parse as one completely, else text, else bytes (with a packed-varint
reading offered in ``packed`` when there is one). Recursion depth and field count are bounded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VARINT = 0
I64 = 1
LEN = 2
SGROUP = 3
EGROUP = 4
I32 = 5
ERROR = -1

#: Fields decoded per ``decode_raw`` call (all depths together) before giving up.
MAX_FIELDS = 100_000
_MAX_FIELD_NUMBER = (1 << 29) - 1
#: Characters of one string or bytes value shown by ``format_raw``.
_MAX_VALUE_CHARS = 4096


@dataclass(slots=True)
class Field:
    """One decoded field. ``value``: int for VARINT/I64/I32 (unsigned), raw bytes for LEN."""

    number: int
    wire_type: int
    value: int | bytes
    #: LEN decoded as a nested message
    message: list[Field] | None = None
    #: LEN shown as text
    text: str | None = None
    #: LEN that also reads as packed varints (a guess, offered alongside bytes)
    packed: list[int] | None = None
    #: set on the error marker only
    error: str = ""

    @property
    def kind(self) -> str:
        """``varint``, ``i64``, ``i32``, ``message``, ``string``, ``bytes`` or ``error``."""
        if self.wire_type == VARINT:
            return "varint"
        if self.wire_type == I64:
            return "i64"
        if self.wire_type == I32:
            return "i32"
        if self.wire_type == LEN:
            if self.message is not None:
                return "message"
            return "string" if self.text is not None else "bytes"
        return "error"

    @property
    def zigzag(self) -> int | None:
        """A varint read as sint32/sint64 (ZigZag), or None for other wire types."""
        if self.wire_type != VARINT or not isinstance(self.value, int):
            return None
        v = self.value
        return (v >> 1) ^ -(v & 1)

    @property
    def signed(self) -> int | None:
        """A varint or fixed value read as a two's-complement int64/int32."""
        v = self.value
        if not isinstance(v, int):
            return None
        bits = 32 if self.wire_type == I32 else 64
        return v - (1 << bits) if v >> (bits - 1) else v


class _Budget:
    __slots__ = ("left",)

    def __init__(self, fields: int) -> None:
        self.left = fields


def decode_raw(data: bytes, *, max_depth: int = 8) -> list[Field]:
    """Decode ``data`` without a schema; never raises (see the module docstring)."""
    fields, error, rest = _decode(bytes(data), max_depth, _Budget(MAX_FIELDS))
    if error:
        fields.append(Field(0, ERROR, rest, error=error))
    return fields


def _decode(data: bytes, depth: int, budget: _Budget) -> tuple[list[Field], str, bytes]:
    """(fields, error or "", undecoded rest)."""
    fields: list[Field] = []
    i = 0
    n = len(data)
    while i < n:
        start = i
        if budget.left <= 0:
            return fields, f"more than {MAX_FIELDS} fields", data[start:]
        key, i = _varint(data, i)
        if key < 0:
            return fields, f"truncated field key at offset {start}", data[start:]
        number = key >> 3
        wt = key & 7
        if not 1 <= number <= _MAX_FIELD_NUMBER:
            return fields, f"invalid field number {number} at offset {start}", data[start:]
        if wt == VARINT:
            value, i = _varint(data, i)
            if value < 0:
                return fields, f"truncated varint at offset {start}", data[start:]
            field = Field(number, wt, value)
        elif wt in (I64, I32):
            size = 8 if wt == I64 else 4
            if i + size > n:
                return fields, f"truncated fixed{size * 8} at offset {start}", data[start:]
            field = Field(number, wt, int.from_bytes(data[i : i + size], "little"))
            i += size
        elif wt == LEN:
            length, i = _varint(data, i)
            if length < 0 or i + length > n:
                return fields, f"truncated length-delimited field at offset {start}", data[start:]
            field = _guess(number, data[i : i + length], depth, budget)
            i += length
        else:
            kind = "groups are not supported" if wt in (SGROUP, EGROUP) else "invalid wire type"
            return fields, f"{kind} ({wt}) at offset {start}", data[start:]
        budget.left -= 1
        fields.append(field)
    return fields, "", b""


def _guess(number: int, raw: bytes, depth: int, budget: _Budget) -> Field:
    field = Field(number, LEN, raw)
    text = _text(raw)
    if text is not None and not any(c < " " for c in text):
        field.text = text  # plain text: the common case, and often also "parses" as fields
        return field
    if raw and depth > 1:
        saved = budget.left
        inner, error, _ = _decode(raw, depth - 1, budget)
        if not error:
            field.message = inner
            return field
        budget.left = saved
    if text is not None:
        field.text = text
        return field
    field.packed = _packed(raw)
    return field


def _text(raw: bytes) -> str | None:
    """``raw`` as text if it is UTF-8 whose only control characters are tab/CR/LF."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.isprintable():
        return text
    for c in text:
        if not c.isprintable() and c not in "\t\n\r":
            return None
    return text


def _packed(raw: bytes) -> list[int] | None:
    if not raw:
        return None
    out: list[int] = []
    i = 0
    while i < len(raw):
        value, i = _varint(raw, i)
        if value < 0:
            return None
        out.append(value)
    return out


def _varint(data: bytes, i: int) -> tuple[int, int]:
    """(value, next index); value -1 when truncated or longer than 10 bytes."""
    value = 0
    shift = 0
    n = len(data)
    while i < n and shift < 70:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, i
        shift += 7
    return -1, i


# -- text form -----------------------------------------------------------------------------


def format_raw(fields: list[Field], *, hints: bool = False, max_chars: int = 65536) -> str:
    """protoc ``--decode_raw``-style text of ``fields``, at most about ``max_chars`` long.

    ``hints`` adds comments with other readings (zigzag, signed, float, packed varints).
    """
    lines: list[str] = []
    budget = [max_chars]
    _format(fields, 0, hints, lines, budget)
    if budget[0] < 0:
        lines.append("# … output truncated")
    return "\n".join(lines)


def _format(
    fields: list[Field], indent: int, hints: bool, lines: list[str], budget: list[int]
) -> None:
    pad = "  " * indent
    for f in fields:
        if budget[0] < 0:
            return
        if f.wire_type == ERROR:
            rest = len(f.value) if isinstance(f.value, bytes) else 0
            line = f"{pad}# error: {f.error} ({rest} bytes not decoded)"
        elif f.message is not None:
            _emit(lines, budget, f"{pad}{f.number} {{")
            _format(f.message, indent + 1, hints, lines, budget)
            line = f"{pad}}}"
        else:
            line = f"{pad}{f.number}: {_value(f)}"
            if hints:
                hint = _hint(f)
                if hint:
                    line += f"  # {hint}"
        _emit(lines, budget, line)


def _emit(lines: list[str], budget: list[int], line: str) -> None:
    if budget[0] >= 0:
        lines.append(line)
        budget[0] -= len(line) + 1


def _value(f: Field) -> str:
    v = f.value
    if isinstance(v, int):
        if f.wire_type == I64:
            return f"0x{v:016x}"
        if f.wire_type == I32:
            return f"0x{v:08x}"
        return str(v)
    if f.text is not None:
        return _quote(f.text)
    return _quote_bytes(v)


def _hint(f: Field) -> str:
    v = f.value
    if f.wire_type == VARINT and isinstance(v, int):
        parts = []
        signed = f.signed
        if signed is not None and signed < 0:
            parts.append(f"int64 {signed}")
        if v:
            parts.append(f"zigzag {f.zigzag}")
        return ", ".join(parts)
    if f.wire_type == I64 and isinstance(v, int):
        return f"double {struct.unpack('<d', v.to_bytes(8, 'little'))[0]!r}, int64 {f.signed}"
    if f.wire_type == I32 and isinstance(v, int):
        return f"float {struct.unpack('<f', v.to_bytes(4, 'little'))[0]!r}, int32 {f.signed}"
    if f.packed is not None:
        shown = f.packed[:32]
        more = ", …" if len(f.packed) > 32 else ""
        return f"packed varints? [{', '.join(map(str, shown))}{more}]"
    return ""


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _quote(text: str) -> str:
    cut = len(text) > _MAX_VALUE_CHARS
    text = text[:_MAX_VALUE_CHARS]
    body = "".join(_ESCAPES.get(c, c) for c in text)
    return f'"{body}"' + ("…" if cut else "")


def _quote_bytes(raw: bytes) -> str:
    cut = len(raw) > _MAX_VALUE_CHARS // 4
    out = []
    for b in raw[: _MAX_VALUE_CHARS // 4]:
        c = chr(b)
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")  # octal, as protoc prints bytes
    return '"' + "".join(out) + '"' + ("…" if cut else "")
