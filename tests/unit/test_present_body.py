"""Bodies decoded for display (``httptap.present``): encodings and what the notes say of
them, JSON, charsets, hex, protobuf, gRPC, bombs."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from httptap.content import encoding
from httptap.model import Body, GrpcMessage
from httptap.present import DISPLAY_LIMIT, decode_body, hexdump


def _body(data: bytes, *, size: int | None = None, truncated: bool = False) -> Body:
    return Body(data, len(data) if size is None else size, truncated)


def test_gzip_json_is_pretty_printed():
    raw = json.dumps({"id": 7, "name": "Zoë", "tags": ["a", "b"]}).encode()
    out = decode_body(_body(gzip.compress(raw)),
                      [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
    assert out.kind == "json"
    assert out.encodings == ["gzip"]
    assert out.text.splitlines()[:3] == ["{", '  "id": 7,', '  "name": "Zoë",']
    assert any("decoded to" in n for n in out.notes)


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_wrapped_and_raw(wbits):
    c = zlib.compressobj(wbits=wbits)
    data = c.compress(b"hello deflate") + c.flush()
    out = decode_body(_body(data), [("content-type", "text/plain"),
                                    ("content-encoding", "deflate")])
    assert (out.kind, out.text) == ("text", "hello deflate")


def test_stacked_encodings_are_undone_in_reverse():
    data = gzip.compress(zlib.compress(b"two layers"))
    out = decode_body(_body(data), [("Content-Type", "text/plain"),
                                    ("Content-Encoding", "deflate, gzip")])
    assert out.text == "two layers"
    assert out.encodings == ["gzip", "deflate"]


def test_decompression_bomb_is_capped_with_a_note():
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))  # ~8 KiB that expands to 8 MiB
    out = decode_body(_body(bomb), [("Content-Encoding", "gzip")], limit=64 * 1024)
    assert any("capped" in n and "bomb" in n for n in out.notes)
    assert out.kind == "hex"
    assert len(out.text.splitlines()) == 64 * 1024 // 16
    assert DISPLAY_LIMIT >= 1024 * 1024


def test_truncated_gzip_shows_the_decoded_prefix():
    full = gzip.compress(json.dumps(list(range(5000))).encode())
    cut = full[: len(full) // 2]
    out = decode_body(_body(cut, size=len(full), truncated=True),
                      [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
    assert any("truncated at capture" in n for n in out.notes)
    assert any("incomplete stream" in n for n in out.notes)
    assert any("JSON body truncated" in n for n in out.notes)
    assert out.text.startswith("[0, 1, 2")


def test_corrupt_gzip_falls_back_to_the_bytes():
    out = decode_body(_body(b"not gzip at all"), [("Content-Encoding", "gzip")])
    assert any("gzip decoding failed" in n for n in out.notes)
    assert out.text == "not gzip at all"


@pytest.mark.parametrize("coding,module", [("br", "brotli"), ("zstd", "zstandard")])
def test_optional_codecs_say_what_is_missing(coding, module, monkeypatch):
    # As on a machine without the package, whether or not this one has it.
    monkeypatch.setattr(encoding, "_import_first", lambda *names: None)
    out = decode_body(_body(b"\x8b\x02\x80hi\x03"), [("Content-Encoding", coding)])
    assert any(module in n and "pip install" in n for n in out.notes)
    assert out.kind == "hex"


def test_unknown_encoding_is_named():
    out = decode_body(_body(b"abc"), [("Content-Encoding", "compress")])
    assert any("'compress' not known" in n for n in out.notes)


def test_charset_from_content_type():
    out = decode_body(_body("café".encode("latin-1")),
                      [("Content-Type", "text/html; charset=ISO-8859-1")])
    assert (out.kind, out.text) == ("text", "café")


def test_text_mime_without_charset_that_is_not_utf8_is_latin1():
    out = decode_body(_body(b"caf\xe9"), [("Content-Type", "text/plain")])
    assert out.text == "café"
    assert any("Latin-1" in n for n in out.notes)


def test_truncated_utf8_sequence_at_the_cut_is_not_binary():
    data = "naïve ✓".encode()[:-1]
    out = decode_body(_body(data, size=len(data) + 1, truncated=True),
                      [("Content-Type", "text/plain")])
    assert out.kind == "text" and out.text.startswith("naïve")


def test_binary_is_a_hex_dump():
    data = bytes(range(40))
    out = decode_body(_body(data), [("Content-Type", "application/octet-stream")])
    assert out.kind == "hex"
    first = out.text.splitlines()[0]
    assert first == ("00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  "
                     "|................|")


def test_hexdump_ascii_column_and_limit():
    dump = hexdump(b"Hello, world!\n" * 4, limit=20)
    lines = dump.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("|Hello, world!.He|")
    assert lines[1].startswith("00000010  6c 6c 6f 2c")


def test_json_sniffed_without_content_type():
    out = decode_body(_body(b'{"a":1}'), [])
    assert out.kind == "json" and out.text == '{\n  "a": 1\n}'


def test_invalid_json_with_json_type_is_text_with_a_note():
    out = decode_body(_body(b'{"a":'), [("Content-Type", "application/json")])
    assert out.kind == "text" and any("not valid JSON" in n for n in out.notes)


def test_form_fields_are_listed():
    out = decode_body(_body(b"a=1&b=x+y"),
                      [("Content-Type", "application/x-www-form-urlencoded")])
    assert out.kind == "form"
    assert out.text.endswith("a = 1\nb = x y")


def test_empty_and_uncaptured_bodies():
    assert decode_body(Body(), []).text == "(no body)"
    out = decode_body(Body(b"", 500, True), [])
    assert out.text == "(body not captured)"
    assert any("0B kept of 500B" in n for n in out.notes)


def test_protobuf_body_is_decoded_raw():
    # field 1 varint 150, field 2 string "hi"
    data = b"\x08\x96\x01\x12\x02hi"
    out = decode_body(_body(data), [("Content-Type", "application/x-protobuf")])
    assert out.kind == "protobuf"
    assert out.text.splitlines() == ["1: 150", '2: "hi"']


def test_grpc_messages_are_decoded_one_by_one():
    msgs = [GrpcMessage(6, False, b"\x08\x96\x01\x12\x02hi"), GrpcMessage(0, False, b"")]
    out = decode_body(_body(b"\0\0\0\0\x06" + msgs[0].data),
                      [("content-type", "application/grpc")], grpc_messages=msgs)
    assert out.kind == "grpc"
    lines = out.text.splitlines()
    assert lines[0].startswith("── message 1 · 6B")
    assert lines[1:3] == ["1: 150", '2: "hi"']
    assert lines[3].startswith("── message 2") and lines[4] == "(empty message)"
