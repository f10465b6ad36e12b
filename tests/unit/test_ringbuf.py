"""The ring-buffer reader against a memfd laid out like the kernel's ring buffer map."""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator

import pytest

from httptap.capture.ringbuf import RingReader

PAGE = os.sysconf("SC_PAGE_SIZE")
BUSY, DISCARD = 1 << 31, 1 << 30


class FakeRing:
    """Consumer page, producer page, then the data area written twice (the kernel maps it
    twice), like a BPF_MAP_TYPE_RINGBUF map's mmap."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.fd = os.memfd_create("ring")
        os.ftruncate(self.fd, 2 * PAGE + 2 * size)
        self.mem = mmap.mmap(self.fd, 2 * PAGE + 2 * size)
        self.prod = 0

    def put(self, payload: bytes, flags: int = 0) -> int:
        """Append a record; returns its position (for flipping bits later)."""
        pos = self.prod
        rec = struct.pack("<II", len(payload) | flags, 0) + payload
        rec += b"\0" * (-len(rec) % 8)
        for copy in (0, self.size):
            for i, b in enumerate(rec):
                self.mem[2 * PAGE + copy + (pos + i) % self.size] = b
        self.prod += len(rec)
        struct.pack_into("<Q", self.mem, PAGE, self.prod)
        return pos

    def set_flags(self, pos: int, length: int, flags: int) -> None:
        for copy in (0, self.size):
            off = 2 * PAGE + copy + pos % self.size
            struct.pack_into("<I", self.mem, off, length | flags)

    @property
    def consumer(self) -> int:
        return struct.unpack_from("<Q", self.mem, 0)[0]


@pytest.fixture
def ring() -> Iterator[FakeRing]:
    r = FakeRing()
    yield r
    r.mem.close()
    os.close(r.fd)


def test_reads_in_order_and_moves_the_consumer(ring: FakeRing) -> None:
    reader = RingReader(ring.fd, ring.size)
    for i in range(5):
        ring.put(b"record %d" % i)
    assert reader.read(100) == [b"record %d" % i for i in range(5)]
    assert ring.consumer == ring.prod
    assert reader.read(100) == []
    assert not reader.pending()
    reader.close()


def test_limit_bounds_a_batch(ring: FakeRing) -> None:
    reader = RingReader(ring.fd, ring.size)
    for i in range(7):
        ring.put(bytes([i]) * (i + 1))
    batches = []
    while batch := reader.read(3):
        batches.append(batch)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r for b in batches for r in b] == [bytes([i]) * (i + 1) for i in range(7)]


def test_records_wrapping_the_end_read_whole(ring: FakeRing) -> None:
    reader = RingReader(ring.fd, ring.size)
    sent = []
    for i in range(200):  # ~15 passes round a 4 KiB ring, records of every length mod 8
        payload = bytes([i % 251]) * (250 + i % 13)
        ring.put(payload)
        sent.append(payload)
        if i % 3 == 2:
            assert reader.read(10) == sent
            sent = []
    assert reader.read(10) == sent


def test_busy_record_stops_the_batch_and_discarded_is_skipped(ring: FakeRing) -> None:
    reader = RingReader(ring.fd, ring.size)
    ring.put(b"first")
    dropped = ring.put(b"dropped", DISCARD)
    busy = ring.put(b"being written", BUSY)
    ring.put(b"after it")
    assert reader.read(10) == [b"first"]
    assert reader.pending()
    assert ring.consumer == busy  # the discarded record is consumed, the busy one is not
    assert dropped < busy
    ring.set_flags(busy, len(b"being written"), 0)
    assert reader.read(10) == [b"being written", b"after it"]


def test_size_must_be_a_power_of_two(ring: FakeRing) -> None:
    with pytest.raises(ValueError, match="power of two"):
        RingReader(ring.fd, 3000)
