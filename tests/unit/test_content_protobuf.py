"""Schema-less protobuf decoding (decode_raw / format_raw)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from httptap.content.protobuf import ERROR, I32, I64, LEN, VARINT, decode_raw, format_raw


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(number: int, wt: int) -> bytes:
    return _varint(number << 3 | wt)


def _len(number: int, payload: bytes) -> bytes:
    return _key(number, LEN) + _varint(len(payload)) + payload


def test_scalars() -> None:
    data = (
        _key(1, VARINT)
        + _varint(150)
        + _key(2, VARINT)
        + _varint((1 << 64) - 3)  # int64 -3
        + _key(3, I64)
        + struct.pack("<d", 1.5)
        + _key(4, I32)
        + struct.pack("<f", -2.0)
        + _key(5, VARINT)
        + _varint(5)  # zigzag -3
    )
    f = decode_raw(data)
    assert [(x.number, x.wire_type, x.kind) for x in f] == [
        (1, VARINT, "varint"),
        (2, VARINT, "varint"),
        (3, I64, "i64"),
        (4, I32, "i32"),
        (5, VARINT, "varint"),
    ]
    assert f[0].value == 150 and f[1].signed == -3 and f[4].zigzag == -3
    assert f[3].signed == struct.unpack("<i", struct.pack("<f", -2.0))[0]
    text = format_raw(f, hints=True)
    assert "1: 150" in text and "int64 -3" in text and "double 1.5" in text
    assert "float -2.0" in text and "zigzag -3" in text
    assert format_raw(f).splitlines()[2] == "3: 0x3ff8000000000000"


def test_nested_messages_and_strings() -> None:
    inner = _len(1, b"alice") + _key(2, VARINT) + _varint(30)
    nested = _len(1, inner) + _len(2, "héllo wörld".encode())
    data = _len(3, nested) + _len(4, b"") + _len(5, b"line one\nline two")
    (three, four, five) = decode_raw(data)
    assert three.kind == "message"
    user, greeting = three.message
    assert user.kind == "message" and user.message[0].text == "alice"
    assert user.message[1].value == 30
    assert greeting.text == "héllo wörld"
    assert four.kind == "string" and four.text == ""
    assert five.text == "line one\nline two"  # text with newlines is still text
    assert format_raw(decode_raw(data)) == "\n".join(
        [
            "3 {",
            "  1 {",
            '    1: "alice"',
            "    2: 30",
            "  }",
            '  2: "héllo wörld"',
            "}",
            '4: ""',
            '5: "line one\\nline two"',
        ]
    )


def test_short_text_is_text_not_a_message() -> None:
    # "hello world" happens to parse as fields; printable text wins.
    (f,) = decode_raw(_len(1, b"hello world"))
    assert f.kind == "string"


def test_message_with_control_byte_lengths_is_a_message() -> None:
    (f,) = decode_raw(_len(1, _len(1, b"0123456789")))  # "\n\n0123456789"
    assert f.kind == "message" and f.message[0].text == "0123456789"


def test_packed_varints() -> None:
    (f,) = decode_raw(_len(4, b"".join(_varint(v) for v in (1, 2, 3, 300, 70000))))
    assert f.kind == "bytes" and f.packed == [1, 2, 3, 300, 70000]
    assert "packed varints? [1, 2, 3, 300, 70000]" in format_raw([f], hints=True)
    assert format_raw([f]) == '4: "\\001\\002\\003\\254\\002\\360\\242\\004"'


def test_binary_bytes() -> None:
    (f,) = decode_raw(_len(7, b"\xff\xfe\x80"))
    assert f.kind == "bytes" and f.packed is None
    assert format_raw([f]) == '7: "\\377\\376\\200"'


def test_garbage_gives_a_partial_decode_and_an_error_marker() -> None:
    data = _key(1, VARINT) + _varint(7) + b"\xff\xff"
    f = decode_raw(data)
    assert f[0].value == 7
    marker = f[-1]
    assert marker.wire_type == ERROR and marker.kind == "error"
    assert "truncated" in marker.error and marker.value == b"\xff\xff"
    assert "# error: truncated field key at offset 2 (2 bytes not decoded)" in format_raw(f)


def test_groups_and_bad_wire_types_are_rejected() -> None:
    assert "groups" in decode_raw(_key(1, 3) + b"\x00")[-1].error
    assert "invalid wire type" in decode_raw(_key(1, 7))[-1].error
    assert "invalid field number 0" in decode_raw(b"\x00\x01")[-1].error
    assert "truncated length-delimited" in decode_raw(_key(1, LEN) + b"\x05ab")[-1].error


def test_depth_is_bounded() -> None:
    data = b"\x08\x01"
    for _ in range(20):
        data = _len(1, data)
    f = decode_raw(data, max_depth=4)
    depth = 0
    while f and f[0].message is not None:
        f = f[0].message
        depth += 1
    assert depth == 3 and f[0].kind == "bytes"


def test_output_is_bounded() -> None:
    data = (_key(1, VARINT) + _varint(1)) * 50_000
    text = format_raw(decode_raw(data), max_chars=1000)
    assert len(text) < 1100 and text.endswith("# … output truncated")
    long = format_raw(decode_raw(_len(1, b"a" * 100_000)))
    assert len(long) < 5000 and long.endswith("…")


@given(st.binary(max_size=512))
def test_never_raises(data: bytes) -> None:
    fields = decode_raw(data)
    format_raw(fields, hints=True)
    assert all(f.wire_type != ERROR for f in fields[:-1])
