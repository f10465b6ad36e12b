"""A tolerant HPACK decoder: never raises, shows what it cannot know as placeholders.

A passive observer can lose the HPACK dynamic table (attached mid-connection, or a capture gap
swallowed a header block). hpack's ``Decoder`` raises on the first index into an unknown entry;
this one yields ``("<unknown-header-N>", "")`` instead, counts it, and keeps learning: every
literal field "with incremental indexing" seen from then on enters the table at the right
position, so later references to it decode. Entries known to the decoder are always correct
(newest-first positions are exact); only references beyond them become placeholders.

Huffman decoding and the static table come from hpack; the decode loop is ours.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hpack.exceptions import HPACKDecodingError
from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

#: RFC 7541 appendix A, as text; index 1 is ``_STATIC[0]``.
_STATIC: tuple[tuple[str, str], ...] = tuple(
    (name.decode("ascii"), value.decode("ascii")) for name, value in HeaderTable.STATIC_TABLE
)
_STATIC_LEN = len(_STATIC)

#: RFC 7540's initial SETTINGS_HEADER_TABLE_SIZE.
DEFAULT_TABLE_SIZE = 4096
#: Largest dynamic table we keep, whatever the peer announces (memory bound per connection).
MAX_TABLE_SIZE = 1 << 20
#: Largest decoded header list (RFC 7541 sizes: name + value + 32 per field) kept per block.
DEFAULT_MAX_HEADER_LIST_SIZE = 1 << 20
#: Decoded blocks remembered per decoder, and the largest block worth remembering.
_CACHE_ENTRIES = 64
_CACHE_BLOCK = 512
#: HPACK integers longer than this many continuation bytes are malformed (hpack uses the same).
_MAX_INT_BYTES = 10


class _Malformed(Exception):
    """The block cannot be decoded further (internal; never leaves this module)."""


@dataclass(slots=True)
class DecodedBlock:
    """The fields of one header block, and how well they could be decoded."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    #: fields shown as placeholders (unknown table entry, bad Huffman code)
    unknown: int = 0
    #: the header list went over the size cap; later fields were dropped (but still indexed)
    truncated: bool = False
    #: the block was malformed and decoding stopped there; the table is no longer trusted
    error: str = ""


class TolerantDecoder:
    """HPACK decoder for one direction of one connection; ``decode`` never raises.

    ``in_sync=False`` starts with an unknown dynamic table (joined mid-connection).
    """

    __slots__ = (
        "_cache",
        "_gen",
        "_max_list",
        "_size",
        "_size_update_seen",
        "_table",
        "in_sync",
        "max_size",
    )

    def __init__(
        self,
        *,
        in_sync: bool = True,
        max_header_list_size: int = DEFAULT_MAX_HEADER_LIST_SIZE,
    ) -> None:
        # newest first: (name, value, RFC 7541 size, decoded cleanly, name octets)
        self._table: deque[tuple[str, str, int, bool, int]] = deque()
        self._size = 0
        self.max_size = DEFAULT_TABLE_SIZE
        self._max_list = max_header_list_size
        #: False once the table's content is (or may be) unknown
        self.in_sync = in_sync
        self._size_update_seen = in_sync
        # Blocks that changed nothing decode the same while the table is unchanged: gRPC
        # calls repeat the same all-indexed blocks. Keyed by bytes; valid for one generation.
        self._gen = 0
        self._cache: dict[bytes, tuple[int, DecodedBlock]] = {}

    def lose_state(self) -> None:
        """Forget the dynamic table: header blocks were lost, so positions may have shifted."""
        self._table.clear()
        self._size = 0
        self.in_sync = False
        self._size_update_seen = False
        self._gen += 1

    def set_table_size_limit(self, value: int) -> None:
        """The peer's SETTINGS_HEADER_TABLE_SIZE: the most the encoder may use.

        The encoder signals the size it really uses inside a header block; only when that
        size is unknown (table lost) do we assume the limit, which keeps learned entries
        as long as the encoder possibly can.
        """
        if not self._size_update_seen:
            self._resize(value)

    def decode(self, block: bytes) -> DecodedBlock:
        """Decode one complete header block (HEADERS/PUSH_PROMISE + CONTINUATION fragments).

        The returned ``headers`` list may be shared with later results: do not mutate it.
        """
        gen = self._gen
        hit = self._cache.get(block)
        if hit is not None and hit[0] == gen:
            return hit[1]
        out = self._decode(block)
        if self._gen == gen and not out.error and len(block) <= _CACHE_BLOCK:
            if len(self._cache) >= _CACHE_ENTRIES:
                self._cache.clear()
            self._cache[block] = (gen, out)
        return out

    def _decode(self, block: bytes) -> DecodedBlock:
        out = DecodedBlock()
        headers = out.headers
        listed = 0
        i = 0
        n = len(block)
        try:
            while i < n:
                b = block[i]
                if b & 0x80:  # indexed field
                    index, i = _integer(block, i, 0x7F)
                    name, value, ok, _ = self._lookup(index)
                elif b & 0x40:  # literal with incremental indexing
                    index, i = _integer(block, i, 0x3F)
                    name, value, ok, i, name_octets, value_octets = self._literal(block, i, index)
                    self._add(name, value, ok, name_octets, value_octets)
                elif b & 0x20:  # dynamic table size update
                    size, i = _integer(block, i, 0x1F)
                    self._size_update_seen = True
                    self._resize(size)
                    continue
                else:  # literal without indexing (0x00) or never indexed (0x10)
                    index, i = _integer(block, i, 0x0F)
                    name, value, ok, i, _, _ = self._literal(block, i, index)
                if not ok:
                    out.unknown += 1
                listed += len(name) + len(value) + 32
                if listed > self._max_list:
                    out.truncated = True  # keep decoding: later fields still change the table
                else:
                    headers.append((name, value))
        except _Malformed as exc:
            out.error = str(exc)
            # The rest of the block may have inserted entries we did not see.
            self.lose_state()
        return out

    # -- table ---------------------------------------------------------------------------

    def _lookup(self, index: int) -> tuple[str, str, bool, int]:
        """(name, value, known, name octets) of table entry ``index``."""
        if 0 < index <= _STATIC_LEN:
            name, value = _STATIC[index - 1]
            return name, value, True, len(name)
        k = index - _STATIC_LEN - 1
        if 0 <= k < len(self._table):
            name, value, _, ok, octets = self._table[k]
            return name, value, ok, octets
        # An entry from before we joined (or before a capture gap): show that it was there.
        return f"<unknown-header-{index}>", "", False, 0

    def _add(self, name: str, value: str, ok: bool, name_octets: int, value_octets: int) -> None:
        # RFC 7541 4.1 counts octets as sent, not decoded characters.
        self._gen += 1
        size = name_octets + value_octets + 32
        if size > self.max_size:
            # An entry larger than the table empties it (RFC 7541 4.4).
            self._table.clear()
            self._size = 0
            return
        self._table.appendleft((name, value, size, ok, name_octets))
        self._size += size
        self._evict()

    def _resize(self, size: int) -> None:
        self._gen += 1
        self.max_size = min(size, MAX_TABLE_SIZE)
        self._evict()

    def _evict(self) -> None:
        table = self._table
        while self._size > self.max_size and table:
            self._size -= table.pop()[2]

    # -- literals ------------------------------------------------------------------------

    def _literal(self, block: bytes, i: int, index: int) -> tuple[str, str, bool, int, int, int]:
        """(name, value, decoded cleanly, next index, name octets, value octets)."""
        if index:
            name, _, ok, name_octets = self._lookup(index)
        else:
            name, ok, i, name_octets = _string(block, i)
        value, good, i, value_octets = _string(block, i)
        return name, value, ok and good, i, name_octets, value_octets


def _integer(block: bytes, i: int, mask: int) -> tuple[int, int]:
    """HPACK integer with a ``mask``-bit prefix at ``block[i]``: (value, next index)."""
    value = block[i] & mask
    i += 1
    if value < mask:
        return value, i
    shift = 0
    end = min(len(block), i + _MAX_INT_BYTES)
    while i < end:
        b = block[i]
        i += 1
        value += (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
    raise _Malformed("truncated or overlong HPACK integer")


def _string(block: bytes, i: int) -> tuple[str, bool, int, int]:
    """HPACK string literal at ``block[i]``: (text, decoded cleanly, next index, octets)."""
    if i >= len(block):
        raise _Malformed("header block ends inside a field")
    huffman = block[i] & 0x80
    length, i = _integer(block, i, 0x7F)
    end = i + length
    if end > len(block):
        raise _Malformed("string literal runs past the end of the header block")
    raw = block[i:end]
    if huffman:
        try:
            raw = decode_huffman(raw)
        except HPACKDecodingError:
            return "<undecodable>", False, end, length
    return _text(raw), True, end, len(raw)


def _text(raw: bytes) -> str:
    # Header values are meant to be ASCII; UTF-8 is common; latin-1 keeps any byte printable.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
