"""The tolerant HPACK decoder against hpack's encoder and decoder."""

from __future__ import annotations

from hpack import Decoder, Encoder
from hypothesis import given
from hypothesis import strategies as st

from httptap.protocols.http2 import TolerantDecoder

_names = st.sampled_from(["x-a", "x-b", "content-type", "cookie", "x-ü", ":path", "accept"])
_values = st.text(max_size=40)
_blocks = st.lists(st.lists(st.tuples(_names, _values), max_size=6), max_size=12)


@given(blocks=_blocks, size=st.sampled_from([None, 0, 64, 256, 4096]))
def test_agrees_with_hpack(blocks, size) -> None:
    enc = Encoder()
    reference = Decoder()
    ours = TolerantDecoder()
    for i, headers in enumerate(blocks):
        if size is not None and i == len(blocks) // 2:
            enc.header_table_size = size
        block = enc.encode(headers)
        got = ours.decode(block)
        assert got.headers == reference.decode(block)
        assert got.unknown == 0 and not got.error


def test_unknown_entries_become_placeholders_then_literals_are_learned() -> None:
    enc = Encoder()
    enc.encode([("x-old", "1"), ("x-old-2", "2")])  # before we joined
    ours = TolerantDecoder(in_sync=False)
    got = ours.decode(enc.encode([("x-old", "1"), ("x-new", "n")]))
    assert got.headers == [("<unknown-header-63>", ""), ("x-new", "n")]
    assert got.unknown == 1
    got = ours.decode(enc.encode([("x-new", "n"), ("x-old-2", "2"), (":method", "GET")]))
    assert got.headers == [("x-new", "n"), ("<unknown-header-63>", ""), (":method", "GET")]
    assert got.unknown == 1


def test_literal_with_unknown_indexed_name_keeps_its_value_and_position() -> None:
    enc = Encoder()
    enc.encode([("x-name", "first")])
    ours = TolerantDecoder(in_sync=False)
    got = ours.decode(enc.encode([("x-name", "second"), ("x-z", "z")]))
    assert got.headers[0] == ("<unknown-header-62>", "second") and got.unknown == 1
    got = ours.decode(enc.encode([("x-name", "second"), ("x-z", "z")]))
    assert got.headers[1] == ("x-z", "z")


def test_malformed_block_never_raises() -> None:
    ours = TolerantDecoder()
    for block in (
        b"\xff",
        b"\x40\x85abc",
        b"\x00\x7f",
        b"\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    ):
        got = ours.decode(block)
        assert got.error and not ours.in_sync


def test_bad_huffman_is_a_placeholder() -> None:
    ours = TolerantDecoder()
    got = ours.decode(b"\x00\x01a\x81\xff")  # literal name "a", Huffman value of one 0xff
    assert got.headers == [("a", "<undecodable>")] and got.unknown == 1


def test_header_list_cap() -> None:
    ours = TolerantDecoder(max_header_list_size=200)
    enc = Encoder()
    got = ours.decode(enc.encode([(f"x-{i}", "v" * 50) for i in range(10)]))
    assert got.truncated and len(got.headers) == 2
    # Dropped fields still entered the table: the next block decodes in full.
    ours2 = TolerantDecoder(max_header_list_size=10_000)
    ours2._table = ours._table
    ours2._size = ours._size
    got = ours2.decode(enc.encode([(f"x-{i}", "v" * 50) for i in range(10)]))
    assert got.unknown == 0 and len(got.headers) == 10


def test_settings_limit_is_assumed_only_when_the_size_is_unknown() -> None:
    known = TolerantDecoder()
    known.set_table_size_limit(100)
    assert known.max_size == 4096  # a known table follows the encoder's own size updates
    unknown = TolerantDecoder(in_sync=False)
    unknown.set_table_size_limit(65536)
    assert unknown.max_size == 65536


@given(st.binary(max_size=300))
def test_fuzz(data: bytes) -> None:
    TolerantDecoder(in_sync=False).decode(data)
    TolerantDecoder().decode(data)
