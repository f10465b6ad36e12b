"""Reading a BPF ring buffer map through its own mmap, without a callback per record.

The kernel maps a ring buffer as: one writable page holding the consumer position, one
read-only page holding the producer position, then the data pages mapped twice in a row,
so a record that wraps around the end reads as one contiguous slice. Each record starts
with an 8-byte header: its length with a BUSY bit (still being written) and a DISCARD bit,
and is padded to 8 bytes.

Reading it here instead of through libbpf's ``ring_buffer__consume`` saves a ctypes
callback per record and, above all, bounds a batch: a consumer that falls behind takes
``limit`` records at a time instead of the whole ring (which made the engine hold tens of
thousands of parsed exchanges at once under load).

The positions are read and written with plain loads and stores; that is correct on x86-64,
whose loads are not reordered with other loads nor stores with older loads (the ordering
the kernel's ``smp_load_acquire``/``smp_store_release`` pair asks for). ``supported()``
says whether this machine is one; elsewhere the loader keeps libbpf's consumer.
"""

from __future__ import annotations

import mmap
import os
import platform
import struct

_BUSY = 1 << 31
_DISCARD = 1 << 30
_HDR = 8
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def supported() -> bool:
    """Whether plain loads and stores order the positions correctly here (x86-64)."""
    return platform.machine() in ("x86_64", "AMD64")


class RingReader:
    """The consumer side of one ring buffer map, by its fd and data size."""

    def __init__(self, map_fd: int, data_size: int) -> None:
        if data_size <= 0 or data_size & (data_size - 1):
            raise ValueError(f"ring buffer size {data_size} is not a power of two")
        page = os.sysconf("SC_PAGE_SIZE")
        self._mask = data_size - 1
        self._base = page  # data starts after the producer page in the read-only map
        self._cons = mmap.mmap(map_fd, page, mmap.MAP_SHARED,
                               mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        try:
            self._ring = mmap.mmap(map_fd, page + 2 * data_size, mmap.MAP_SHARED,
                                   mmap.PROT_READ, offset=page)
        except BaseException:
            self._cons.close()
            raise

    def read(self, limit: int) -> list[bytes]:
        """Up to ``limit`` records (their payloads), oldest first; consumed once returned."""
        cons_map, ring = self._cons, self._ring
        cons = _U64.unpack_from(cons_map, 0)[0]
        prod = _U64.unpack_from(ring, 0)[0]
        out: list[bytes] = []
        if cons >= prod:
            return out
        mask, base = self._mask, self._base
        hdr_of = _U32.unpack_from
        append = out.append
        while cons < prod and len(out) < limit:
            off = base + (cons & mask)
            hdr = hdr_of(ring, off)[0]
            if hdr & _BUSY:
                break  # reserved, not yet submitted: records after it wait for it
            size = hdr & ~(_BUSY | _DISCARD)
            if not hdr & _DISCARD:
                append(ring[off + _HDR : off + _HDR + size])
            cons += (size + _HDR + 7) & ~7
        _U64.pack_into(cons_map, 0, cons)
        return out

    def pending(self) -> bool:
        """Whether records (maybe still busy) wait to be read."""
        return _U64.unpack_from(self._cons, 0)[0] < _U64.unpack_from(self._ring, 0)[0]

    def close(self) -> None:
        self._cons.close()
        self._ring.close()
