"""The capture engine running bcc in this process (needs root or CAP_BPF + CAP_PERFMON)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from httptap.capture import procfs, tls_libs
from httptap.capture.events import Kind, SockFlag, decode
from httptap.capture.golang.hooks import GoTlsHooks  # Go crypto/tls
from httptap.engine.api import Capture, CaptureError, CaptureOptions
from httptap.model import Exchange
from httptap.records import Completed, Lost, Pending, ProcessExit, Ready, Record, Stats
from httptap.streams import StreamTable, snapshot

_POLL_S = 0.025  # the drain period: the kernel does not wake us per record
_BATCH = 2048  # records per drain at most: bounds what the engine holds at once under load
_NOTE_UNANSWERED = "no response before capture ended"


class _Resolver:
    """Socket addresses from /proc, with the per-process socket table cached."""

    def __init__(self) -> None:
        self._tables: dict[int, tuple[float, dict[int, procfs.SocketInfo]]] = {}

    def __call__(self, pid: int, fd: int) -> tuple[str, str]:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            return "", ""
        if not target.startswith("socket:["):
            return "", ""
        inode = int(target[8:-1])
        cached = self._tables.get(pid)
        info = cached[1].get(inode) if cached else None
        if info is None and (cached is None or time.monotonic() - cached[0] > 0.05):
            table = procfs.socket_table(pid)
            self._tables[pid] = (time.monotonic(), table)
            info = table.get(inode)
        if info is None:
            return "", ""
        return info.local, info.remote

    def forget(self, pid: int) -> None:
        self._tables.pop(pid, None)


class InProcessCapture(Capture):
    """Loads the BPF program here and turns its events into records on the engine thread."""

    def __init__(self, pids: Sequence[int], options: CaptureOptions) -> None:
        super().__init__()
        self.pids = list(dict.fromkeys(pids))
        self.options = options
        self._program = None  # httptap.capture.loader.Program, once attached
        self._alive: set[int] = set()
        self._resolver = _Resolver()
        self._streams = StreamTable(
            body_limit=options.body_limit,
            resolve=self._resolver,
            clock_offset_ns=time.time_ns() - time.monotonic_ns(),
            snapshot_pending=False,  # _publish copies only the Pendings it emits
        )
        self._open: dict[str, Exchange] = {}
        self._lost_seen = 0
        self._mask = None
        self._mask_names: dict[str, bool] = {}  # header name -> masking may change its value
        if not options.show_secrets:
            from httptap.secrets import mask_exchange

            self._mask = mask_exchange
        self.attach_seconds = 0.0
        self.headers_message = ""
        self._tls_hooked: dict[tuple[int, int], tls_libs.TlsLibrary] = {}
        self._tls_inspected: dict[tuple[int, int], tls_libs.TlsLibrary | None] = {}
        self._tls_scoped: dict[int, set[tuple[int, int]]] = {}  # pid -> file ids hooked for it
        self._system_tls: list[str] = []
        self.go_tls: GoTlsHooks | None = None  # Go crypto/tls probes (httptap.capture.golang)
        self.notes: list[str] = []  # what cannot be seen, said with the readiness line

    # -- attach ----------------------------------------------------------------------------

    def attach(self) -> None:
        """Load the probes and list the targets' sockets; raises CaptureError."""
        if not self.pids:
            raise CaptureError("no PID given", "pass --pid PID")
        for pid in self.pids:
            if pid <= 0 or not procfs.exists(pid):
                raise CaptureError(f"no process with PID {pid}", "check the PID with `ps`")
            if procfs.tgid_of(pid) not in (pid, None):
                raise CaptureError(
                    f"PID {pid} is a thread of process {procfs.tgid_of(pid)}",
                    f"attach to the process: --pid {procfs.tgid_of(pid)}",
                )
        if os.geteuid() != 0 and not _has_bpf_caps():
            raise CaptureError(
                "attaching needs root (or CAP_BPF and CAP_PERFMON)",
                "run with sudo, or use the helper (see README: httptap-helper)",
            )
        from httptap.capture.loader import LoadError, Program

        started = time.monotonic()
        try:
            self._program = Program(ring_kib=self.options.ring_kib)
        except LoadError as exc:
            raise CaptureError(exc.message, exc.remedy) from exc
        self.headers_message = self._program.headers.message
        self.go_tls = GoTlsHooks(self._program)  # Go crypto/tls
        try:
            self._system_tls = tls_libs.system_libssl()
            for pid in self.pids:
                for p in [pid, *procfs.descendants(pid)]:
                    self._trace(p)
            gone = [p for p in self.pids if not procfs.exists(p)]
            if gone:
                raise CaptureError(
                    f"PID {gone[0]} exited while httptap attached", "start it again and retry"
                )
        except BaseException:
            self._program.close()
            raise
        self.attach_seconds = time.monotonic() - started

    def _trace(self, pid: int, forked: bool = False) -> None:
        program = self._program
        assert program is not None
        program.trace_pid(pid)
        self._alive.add(pid)
        # Listed after the pid is traced, so a socket made in between is listed by the kernel.
        socks = procfs.socket_fds(pid)
        table = procfs.socket_table(pid) if socks else {}
        # a connection whose local port this process listens on is one it accepted
        listening = {info.local.rsplit(":", 1)[-1] for info in table.values() if info.listening}
        for i, (fd, inode) in enumerate(socks):
            flags = SockFlag.PREEXISTING
            info = table.get(inode)
            if info is not None and info.remote and not info.listening:
                port = info.local.rsplit(":", 1)[-1]
                flags |= SockFlag.SERVER if port in listening else SockFlag.CLIENT
            program.add_socket(pid, fd, time.monotonic_ns() + i, flags)
        if forked:  # a child forked since attach inherits its parent's TLS probes
            return
        if procfs.elf_class(f"/proc/{pid}/exe") == 1:
            # nothing of it is seen: the probes skip its syscalls, and the TLS programs read
            # x86-64 arguments (a 32-bit libssl takes them on the stack)
            self.notes.append(
                f"PID {pid} ({procfs.comm(pid)}) is a 32-bit program: its syscalls are not "
                "seen (the probes follow x86-64 syscalls)"
            )
            return
        self._scan_tls(pid)

    def _scan_tls(self, pid: int) -> None:
        """Hook, for ``pid``, the system libssl (even if not loaded yet) and every OpenSSL
        the process maps (private copies, static executables)."""
        # -- Go crypto/tls (httptap.capture.golang) --
        if self.go_tls is not None and (go_note := self.go_tls.attach(pid)):
            self.notes.append(go_note)
        # -- end Go crypto/tls --
        for path in [*self._system_tls, *tls_libs.mapped_executables(pid)]:
            self._hook_tls(path, pid)

    def _hook_tls(self, path: str, pid: int) -> None:
        fid = tls_libs.file_id(path)
        scoped = self._tls_scoped.setdefault(pid, set())
        if fid is None or fid in scoped:
            return
        scoped.add(fid)
        if fid in self._tls_inspected:
            lib = self._tls_inspected[fid]
        else:
            lib = self._tls_inspected[fid] = tls_libs.inspect(path, version=False)
            if lib is not None and lib.go:
                self.notes.append(f"{path}: a Go binary, TLS not hooked (no uretprobes on Go)")
        if lib is None or lib.go:
            return
        program = self._program
        assert program is not None
        if program.attach_tls(path, lib.symbols, pid):
            self._tls_hooked[fid] = lib
        for note in program.tls_notes:
            if note not in self.notes:
                self.notes.append(note)

    @property
    def tls_libraries(self) -> list[tls_libs.TlsLibrary]:
        return list(self._tls_hooked.values())

    # -- the engine loop -------------------------------------------------------------------

    def _run(self) -> None:
        program = self._program
        assert program is not None
        try:
            pids = ", ".join(map(str, self.pids))
            tls = len(self._tls_hooked)
            libs = f"{tls} TLS librar{'y' if tls == 1 else 'ies'}"
            # what cannot be seen (a Go binary's TLS, a 32-bit program) is said once, here
            notes = "".join(f"; {note}" for note in self.notes)
            self._emit([Ready(sorted(self._alive), f"attached to PID {pids} ({libs}){notes}")])
            next_stats = time.monotonic() + self.options.stats_interval
            while not self._stop.is_set() and self._alive:
                events = program.read(_BATCH)
                out = self._drain(events)
                now = time.monotonic()
                if now >= next_stats:
                    next_stats = now + self.options.stats_interval
                    out.extend(self._lost_and_stats())
                self._emit(out)
                if len(events) < _BATCH:  # drained: wait for more (a full batch reads on)
                    self._stop.wait(_POLL_S)
            out = []
            while events := program.read(_BATCH):
                out.extend(self._drain(events))
            out.extend(self._finish(self._streams.close_all(time.monotonic_ns())))
            out.extend(self._lost_and_stats())
            self._emit(out)
        finally:
            program.close()

    def _drain(self, events: list[bytes]) -> list[Record]:
        out: list[Record] = []
        streams = self._streams
        handle = streams.handle
        program = self._program
        assert program is not None
        rescan: set[int] = set()
        data_kinds = (Kind.DATA, Kind.GAP)
        for raw in events:
            ev = decode(raw)
            kind = ev.kind
            if kind in data_kinds:
                recs = handle(ev)
                if recs:
                    out.extend(recs)
            elif kind is Kind.MMAP_EXEC:
                rescan.add(ev.pid)
            elif kind is Kind.FORK:
                self._on_fork(ev.aux)
            elif kind is Kind.EXIT:
                out.extend(self._finish(streams.close_pid(ev.pid, ev.ts_ns)))
                self._alive.discard(ev.pid)
                program.forget_pid(ev.pid)
                program.release_tls(ev.pid)
                if self.go_tls is not None:  # Go crypto/tls
                    self.go_tls.release(ev.pid)
                self._tls_scoped.pop(ev.pid, None)
                self._resolver.forget(ev.pid)
                out.append(ProcessExit(ev.pid, remaining=len(self._alive)))
            elif kind is Kind.EXEC:
                out.extend(self._finish(streams.close_pid(ev.pid, ev.ts_ns)))
                program.forget_pid(ev.pid, before_ns=ev.ts_ns)
                self._resolver.forget(ev.pid)
                self._trace(ev.pid)
            else:
                out.extend(streams.handle(ev))
        for pid in rescan:
            self._scan_tls(pid)
        for pid, fd, gen in streams.take_disabled():
            if fd >= 0:
                program.disable_socket(pid, fd, gen)
        return self._publish(out)

    def _on_fork(self, child: int) -> None:
        program = self._program
        assert program is not None
        tgid = procfs.tgid_of(child)
        if tgid == child:
            self._trace(child, forked=True)
        else:
            program.untrace_pid(child)  # a thread (or already gone)

    def _publish(self, records: list[Record]) -> list[Record]:
        """Mask secrets at the source; one Pending per exchange per batch, none at all for
        an exchange that also completed in the batch.

        The stream table hands out Pendings of live exchanges (no copy per request); the
        copy (``snapshot``) is made here, only for the Pendings that are emitted, at the
        place of the exchange's first Pending and with its state at the end of the batch.
        """
        out: list[Record] = []
        first_pending: dict[str, int] = {}
        completed: set[str] = set()
        mask = self._mask_fast if self._mask is not None else None
        for rec in records:
            if type(rec) is Completed:
                ex = rec.exchange
                if mask is not None:
                    mask(ex)
                self._open.pop(ex.id, None)
                completed.add(ex.id)
            elif type(rec) is Pending:
                ex_id = rec.exchange.id
                self._open[ex_id] = rec.exchange
                if ex_id not in first_pending:
                    first_pending[ex_id] = len(out)
                    out.append(rec)
                continue
            out.append(rec)
        if not first_pending:
            return out
        for ex_id, i in first_pending.items():
            if ex_id in completed:
                out[i] = None  # type: ignore[call-overload]
            else:
                ex = snapshot(self._open[ex_id])
                if mask is not None:
                    mask(ex)
                out[i] = Pending(ex)
        return [rec for rec in out if rec is not None]

    def _mask_fast(self, ex: Exchange) -> None:
        """``mask_exchange``, skipped when it would change nothing (the common case): no
        header whose value it masks, and no query or userinfo in the path."""
        names = self._mask_names
        req = ex.request
        resp = ex.response
        path = req.path
        if "?" in path or "@" in path:
            self._mask(ex)  # type: ignore[misc]
            return
        for headers in (req.headers, req.trailers,
                        resp.headers if resp is not None else (),
                        resp.trailers if resp is not None else ()):
            for name, _value in headers:
                hit = names.get(name)
                if hit is None:
                    hit = names[name] = _maskable(name)
                    if len(names) > 4096:
                        names.clear()
                if hit:
                    self._mask(ex)  # type: ignore[misc]
                    return

    def _finish(self, records: list[Record]) -> list[Record]:
        for rec in records:
            if isinstance(rec, Completed) and not rec.exchange.complete:
                rec.exchange.note(_NOTE_UNANSWERED)
        return self._publish(records)

    def _lost_and_stats(self) -> list[Record]:
        program = self._program
        assert program is not None
        out: list[Record] = []
        lost_events, _lost_bytes = program.lost()
        if lost_events > self._lost_seen:
            out.append(Lost(lost_events - self._lost_seen))
            self._lost_seen = lost_events
        s = self._streams.stats
        out.append(
            Stats(
                events=s.events,
                bytes=s.bytes,
                lost=lost_events,
                connections=s.connections,
                exchanges=s.exchanges,
                pending=len(self._open),
                not_http=s.not_http,
                evicted=s.evicted,
            )
        )
        return out


def _maskable(name: str) -> bool:
    from httptap import secrets

    return secrets.is_secret_header(name) or name.lower() in secrets._URL_HEADERS


def _has_bpf_caps() -> bool:
    """CAP_BPF (39) and CAP_PERFMON (38) in the effective set."""
    try:
        with open("/proc/self/status") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    for line in lines:
        if line.startswith("CapEff:"):
            caps = int(line.split()[1], 16)
            return bool(caps & (1 << 39)) and bool(caps & (1 << 38))
    return False
