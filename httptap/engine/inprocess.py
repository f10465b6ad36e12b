"""The capture engine running bcc in this process (needs root or CAP_BPF + CAP_PERFMON).

The parts: ``permissions`` (attach checks), ``targets`` (traced processes, socket
allow-list), ``tls_hooks`` and ``dns_hooks`` (library uprobes, driven as one ``HookSet``),
``dispatch`` (events → records), ``publish`` (Pending merging, masking), ``masking`` (the fast
path), ``totals`` (Stats, Lost), ``resolver`` (addresses and process names from /proc). This
module wires them and runs the loop on the engine thread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from httptap.capture import procfs
from httptap.engine import permissions
from httptap.engine.api import Capture, CaptureError, CaptureOptions
from httptap.engine.dispatch import Dispatcher, SocketSwitch
from httptap.engine.dns_hooks import DnsHooks
from httptap.engine.hooks import HookSet
from httptap.engine.masking import FastMasker
from httptap.engine.publish import Publisher
from httptap.engine.resolver import SocketResolver
from httptap.engine.targets import Targets
from httptap.engine.tls_hooks import GoHooks, OpenSslHooks
from httptap.engine.totals import Totals
from httptap.records import Ready, Record
from httptap.streams import StreamTable

if TYPE_CHECKING:
    from httptap.capture import tls_libs
    from httptap.capture.golang.hooks import GoTlsHooks
    from httptap.capture.loader import Program

_POLL_S = 0.025  # the drain period: the kernel does not wake us per record
_BATCH = 2048  # records per drain at most: bounds what the engine holds at once under load


class InProcessCapture(Capture):
    """Loads the BPF program here and turns its events into records on the engine thread."""

    def __init__(self, pids: Sequence[int], options: CaptureOptions) -> None:
        super().__init__()
        self.pids = list(dict.fromkeys(pids))
        self.options = options
        self._program: Program | None = None
        self._resolver = SocketResolver()
        self._streams = StreamTable(
            body_limit=options.body_limit,
            resolve=self._resolver,
            comm=self._resolver.comm,
            clock_offset_ns=time.time_ns() - time.monotonic_ns(),
            snapshot_pending=False,  # the publisher copies only the Pendings it emits
        )
        self._publisher = Publisher(None if options.show_secrets else FastMasker())
        self._tls: OpenSslHooks | None = None
        #: Go crypto/tls: which pids are hooked, which Go executables were found
        self.go_tls: GoTlsHooks | None = None
        self._targets: Targets | None = None
        self._dispatcher: Dispatcher | None = None
        self.attach_seconds = 0.0
        self.headers_message = ""
        self.notes: list[str] = []  # what cannot be seen, said with the readiness line

    @classmethod
    def offline(cls, options: CaptureOptions, program: SocketSwitch) -> InProcessCapture:
        """A capture fed raw events by hand through ``drain`` (benchmarks): no bcc, no
        processes; ``program`` receives the socket switch-offs."""
        cap = cls([], options)
        cap._dispatcher = Dispatcher(
            program, cap._streams, cap._publisher, None, None, cap._resolver
        )
        return cap

    # -- attach ----------------------------------------------------------------------------

    def attach(self) -> None:
        """Load the probes and list the targets' sockets; raises CaptureError."""
        permissions.check_targets(self.pids)
        permissions.check_privileges()
        from httptap.capture.loader import LoadError, Program

        started = time.monotonic()
        try:
            program = self._program = Program(ring_kib=self.options.ring_kib)
        except LoadError as exc:
            raise CaptureError(exc.message, exc.remedy) from exc
        self.headers_message = program.headers.message
        try:
            tls = self._tls = OpenSslHooks(program, self.notes)
            go = GoHooks(program, self.notes)
            self.go_tls = go.go
            # every hooker of library functions (TLS, name lookups for phases), scoped alike
            hooks = HookSet(tls, go, DnsHooks(program))
            targets = self._targets = Targets(program, hooks, self.notes)
            self._dispatcher = Dispatcher(
                program, self._streams, self._publisher, targets, hooks, self._resolver
            )
            tls.find_system()
            for pid in self.pids:
                for p in [pid, *procfs.descendants(pid)]:
                    targets.trace(p)
            gone = [p for p in self.pids if not procfs.exists(p)]
            if gone:
                raise CaptureError(
                    f"PID {gone[0]} exited while httptap attached", "start it again and retry"
                )
        except BaseException:
            program.close()
            raise
        self.attach_seconds = time.monotonic() - started

    @property
    def tls_libraries(self) -> list[tls_libs.TlsLibrary]:
        return self._tls.libraries if self._tls is not None else []

    def drain(self, events: list[bytes]) -> list[Record]:
        """Records for one batch of raw ring-buffer events (the engine loop's step)."""
        assert self._dispatcher is not None, "attach() (or offline()) first"
        return self._dispatcher.drain(events)

    # -- the engine loop -------------------------------------------------------------------

    def _run(self) -> None:
        program, targets, tls = self._program, self._targets, self._tls
        assert program is not None and targets is not None and tls is not None
        totals = Totals(program, self._streams)
        publisher = self._publisher
        drain = self.drain
        try:
            pids = ", ".join(map(str, self.pids))
            n = len(tls.libraries)
            libs = f"{n} TLS librar{'y' if n == 1 else 'ies'}"
            # what cannot be seen (a Go binary's TLS, a 32-bit program) is said once, here
            notes = "".join(f"; {note}" for note in self.notes)
            self._emit([Ready(sorted(targets.alive), f"attached to PID {pids} ({libs}){notes}")])
            next_stats = time.monotonic() + self.options.stats_interval
            while not self._stopping() and targets.alive:
                events = program.read(_BATCH)
                out = drain(events)
                now = time.monotonic()
                if now >= next_stats:
                    next_stats = now + self.options.stats_interval
                    out.extend(totals.records(publisher.pending))
                self._emit(out)
                if len(events) < _BATCH:  # drained: wait for more (a full batch reads on)
                    self._pause(_POLL_S)
            out = []
            while events := program.read(_BATCH):
                out.extend(drain(events))
            assert self._dispatcher is not None
            out.extend(self._dispatcher.close(time.monotonic_ns()))
            out.extend(totals.records(publisher.pending))
            self._emit(out)
        finally:
            program.close()
