"""The engine's totals: Stats records, and Lost records for what the kernel dropped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from httptap.records import Lost, Record, Stats

if TYPE_CHECKING:
    from httptap.capture.loader import Program
    from httptap.streams import StreamTable

#: connections listed in Stats.per_connection at most (those that lost the most)
MAX_PER_CONNECTION = 50


class Totals:
    """Turns the kernel's loss counters and the stream table's counts into records."""

    def __init__(self, program: Program, streams: StreamTable) -> None:
        self._program = program
        self._streams = streams
        self._lost_seen = 0

    def records(self, pending: int) -> list[Record]:
        """A Lost record if the ring buffer dropped events since the last call, then Stats."""
        out: list[Record] = []
        lost_events, lost_bytes = self._program.lost()
        streams = self._streams
        if lost_events > self._lost_seen:
            # drops are counted per CPU: name the connection that reported lost bytes, else
            # the one active last, whose traffic most likely filled the buffer
            near = streams.take_last_lossy() or streams.last_active()
            pid, fd = near if near is not None else (None, None)
            out.append(Lost(lost_events - self._lost_seen, pid, fd))
            self._lost_seen = lost_events
        s = streams.stats
        lossy = sorted(streams.lost_by_connection.items(), key=lambda kv: -kv[1])
        out.append(
            Stats(
                events=s.events,
                bytes=s.bytes,
                lost=lost_events,
                lost_bytes=lost_bytes,
                connections=s.connections,
                exchanges=s.exchanges,
                pending=pending,
                not_http=s.not_http,
                evicted=s.evicted,
                per_connection=dict(lossy[:MAX_PER_CONNECTION]),
            )
        )
        return out
