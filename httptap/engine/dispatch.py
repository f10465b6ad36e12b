"""The dispatch loop's body: a batch of raw ring-buffer events in, published records out.

Data events go to the stream table (the hot path: one decode, one dict lookup); process
events (fork, exec, exit, a new code mapping) keep the traced set and TLS probes in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from httptap.capture.events import Kind, decode
from httptap.engine.phases import PhaseTracker
from httptap.records import ProcessExit, Record

if TYPE_CHECKING:
    from httptap.engine.hooks import LibraryHooks
    from httptap.engine.publish import Publisher
    from httptap.engine.resolver import SocketResolver
    from httptap.engine.targets import Targets
    from httptap.streams import StreamTable


class SocketSwitch(Protocol):
    """The part of the loaded program the dispatcher drives: switching sockets off."""

    def disable_socket(self, pid: int, fd: int, gen: int) -> bool: ...


class Dispatcher:
    """Turns batches of raw events into records (``drain``) and closes up at the end."""

    def __init__(
        self,
        program: SocketSwitch,
        streams: StreamTable,
        publisher: Publisher,
        targets: Targets | None,
        hooks: LibraryHooks | None,
        resolver: SocketResolver,
        phases: PhaseTracker | None = None,
    ) -> None:
        self._program = program
        self._streams = streams
        self._publisher = publisher
        self._targets = targets
        self._hooks = hooks
        self._resolver = resolver
        self._phases = phases or PhaseTracker()

    def drain(self, events: list[bytes]) -> list[Record]:
        """Records for one batch of events, published (masked, Pendings merged)."""
        out: list[Record] = []
        streams = self._streams
        handle = streams.handle
        rescan: set[int] = set()
        data_kinds = (Kind.DATA, Kind.GAP)
        phases = self._phases
        settling = phases.settling  # connections before their first exchange: mostly none
        for raw in events:
            ev = decode(raw)
            kind = ev.kind
            if kind in data_kinds:
                if settling:
                    phases.data(ev)
                recs = handle(ev)
                if recs:
                    if settling:
                        phases.stamp(recs)
                    out.extend(recs)
            elif kind is Kind.MMAP_EXEC:
                rescan.add(ev.pid)
            elif kind is Kind.FORK:
                self._require_targets().fork(ev.aux)
            elif kind is Kind.EXIT:
                targets = self._require_targets()
                out.extend(self._publisher.finish(self._stamped(streams.close_pid(ev.pid,
                                                                                   ev.ts_ns))))
                phases.forget(ev.pid)
                targets.exit(ev.pid)
                self._resolver.forget(ev.pid)
                out.append(ProcessExit(ev.pid, remaining=len(targets.alive)))
            elif kind is Kind.EXEC:
                out.extend(self._publisher.finish(self._stamped(streams.close_pid(ev.pid,
                                                                                   ev.ts_ns))))
                phases.forget(ev.pid)
                self._resolver.forget(ev.pid)
                self._require_targets().exec(ev.pid, ev.ts_ns)
            else:
                phases.event(ev)  # phases: connect, its return, accept, name lookups
                recs = handle(ev)
                phases.stamp(recs)
                if kind is Kind.CLOSE:
                    phases.closed(ev)
                out.extend(recs)
        if rescan and self._hooks is not None:
            for pid in rescan:
                self._hooks.scan(pid)
        for pid, fd, gen in streams.take_disabled():
            if fd >= 0:
                self._program.disable_socket(pid, fd, gen)
        return self._publisher.publish(out)

    def close(self, now_ns: int) -> list[Record]:
        """The capture ends: every open exchange, published (unanswered ones noted)."""
        return self._publisher.finish(self._stamped(self._streams.close_all(now_ns)))

    def _stamped(self, records: list[Record]) -> list[Record]:
        self._phases.stamp(records)
        return records

    def _require_targets(self) -> Targets:
        assert self._targets is not None, "process events need the traced targets"
        return self._targets
