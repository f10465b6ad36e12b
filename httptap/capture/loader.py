"""The bcc side: compile bpf/capture.c, fill its maps, read its ring buffer.

The only module that imports bcc. Everything it hands out is plain Python: ring-buffer
records as bytes (``events.decode`` turns one into an ``Event``).
"""

from __future__ import annotations

import contextlib
import ctypes as ct
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path

from httptap.capture import kheaders, ringbuf, uprobes
from httptap.capture.events import SockFlag

CHUNK = 16 * 1024
MAX_CHUNKS = 16  # 256 KiB copied per syscall; the rest of a call becomes a size-only gap

_IO = ("ht_enter_io", "ht_exit_io")
_DUP = ("ht_enter_dup", "ht_exit_dup")
_ACCEPT = ("ht_enter_accept", "ht_exit_accept")

#: The syscalls followed, by x86-64 number: the bpf/capture.c programs their raw
#: sys_enter / sys_exit tracepoints tail-call (None: nothing to do at the exit).
SYSCALLS: dict[str, tuple[int, str, str | None]] = {
    "read": (0, *_IO), "write": (1, *_IO), "readv": (19, *_IO), "writev": (20, *_IO),
    "sendto": (44, *_IO), "recvfrom": (45, *_IO), "sendmsg": (46, *_IO),
    "recvmsg": (47, *_IO), "recvmmsg": (299, *_IO), "sendmmsg": (307, *_IO),
    "sendfile": (40, "ht_enter_sendfile", "ht_exit_sendfile"),
    "socket": (41, "ht_enter_socket", "ht_exit_socket"),
    "connect": (42, "ht_enter_connect", "ht_exit_connect"),
    "getsockopt": (55, "ht_enter_getsockopt", None),  # phases: SO_ERROR after a connect
    "accept": (43, *_ACCEPT), "accept4": (288, *_ACCEPT),
    "close": (3, "ht_enter_close", None),
    "close_range": (436, "ht_enter_close_range", None),
    "dup": (32, *_DUP), "dup2": (33, *_DUP), "dup3": (292, *_DUP), "fcntl": (72, *_DUP),
    "mmap": (9, "ht_enter_mmap", "ht_exit_mmap"),
}
#: what the syscall table and the register layout in bpf/capture.c are written for
ARCHITECTURES = ("x86_64",)


_SSL_ENTRY = {
    "SSL_write": b"ssl_write_enter",
    "SSL_write_ex": b"ssl_write_ex_enter",
    "SSL_read": b"ssl_read_enter",
    "SSL_read_ex": b"ssl_read_ex_enter",
}


class LoadError(Exception):
    """The BPF program could not be loaded; ``remedy`` says what to do."""

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy


def _source() -> str:
    """capture.c, then go_tls.c (Go's crypto/tls probes use capture.c's maps and helpers)."""
    return "\n".join(_bpf_file(name) for name in ("capture.c", "go_tls.c"))


def _bpf_file(name: str) -> str:
    local = Path(__file__).resolve().parents[2] / "bpf" / name
    if local.exists():
        return local.read_text()
    return resources.files("httptap.bpf").joinpath(name).read_text()


def _possible_cpus() -> int:
    try:
        text = Path("/sys/devices/system/cpu/possible").read_text().strip()
        return int(text.split("-")[-1]) + 1
    except (OSError, ValueError):
        return os.cpu_count() or 1


class _SockKey(ct.Structure):
    _fields_ = [("tgid", ct.c_uint32), ("fd", ct.c_uint32)]


class _SockVal(ct.Structure):
    _fields_ = [
        ("gen", ct.c_uint64),
        ("flags", ct.c_uint32),
        ("pad", ct.c_uint32),
        ("lost", ct.c_uint64 * 2),
    ]


class Program:
    """The loaded program. Not thread-safe: use it from the engine thread only."""

    def __init__(self, *, ring_kib: int = 8 * 1024) -> None:
        """Compile, load and attach the syscall probes; ``read`` then hands out records."""
        machine = platform.machine()
        if machine not in ARCHITECTURES:
            raise LoadError(
                f"httptap's syscall probes are written for x86-64; this machine is {machine}",
                "run httptap on an x86-64 Linux machine",
            )
        try:
            from bcc import BPF  # type: ignore[import-not-found]
        except ImportError as exc:
            raise LoadError(
                "bcc is not importable", "install Debian's python3-bpfcc (make install)"
            ) from exc
        self.headers = kheaders.configure_bcc()
        pages = 1
        while pages * 4 < ring_kib:
            pages *= 2
        cflags = [
            *(f"-DHT_NR_{name}={nr}" for name, (nr, _enter, _exit) in SYSCALLS.items()),
            f"-DHT_CHUNK={CHUNK}",
            f"-DHT_MAX_CHUNKS={MAX_CHUNKS}",
            f"-DHT_RING_PAGES={pages}",
            f"-DHT_NCPU={_possible_cpus()}",
            "-Wno-macro-redefined",
        ]
        with tempfile.TemporaryFile() as log:
            try:
                with _stderr_to(log.fileno()):
                    self._bpf = BPF(text=_source().encode(), cflags=cflags)
                    self._fill_syscalls(BPF.RAW_TRACEPOINT)
            except Exception as exc:
                log.seek(0)
                errors = [ln for ln in log.read().decode("utf-8", "replace").splitlines()
                          if "error" in ln.lower()]
                detail = "; ".join(errors[-3:]) or str(exc)
                raise LoadError(
                    f"could not load the BPF program: {detail}",
                    "run `httptap doctor` to see what this machine lacks",
                ) from exc
        self._traced = self._bpf[b"traced"]
        self._sockets = self._bpf[b"sockets"]
        self._lost = self._bpf[b"lost"]
        self._open_ring(pages * os.sysconf("SC_PAGE_SIZE"))
        self._uprobes: uprobes.UprobeSet | None = None
        self._everywhere: set[tuple[str, str]] = set()  # (path, symbol) probed globally
        self.tls_notes: list[str] = []  # what about TLS hooking a user should know
        self.closed = False
        _release_compiler_memory()

    def _fill_syscalls(self, prog_type: int) -> None:
        """Point the dispatch arrays at each syscall's programs: exits first, so that no
        entry is recorded whose exit would not run."""
        for table, index in ((b"exit_calls", 2), (b"enter_calls", 1)):
            calls = self._bpf[table]
            for entry in SYSCALLS.values():
                name = entry[index]
                if name is not None:
                    fn = self._bpf.load_func(name.encode(), prog_type)
                    calls[ct.c_int(entry[0])] = ct.c_int(fn.fd)

    def _open_ring(self, size: int) -> None:
        """Read the ring through its mmap (``ringbuf``); where plain loads do not order
        the positions, through libbpf's consumer and a callback per record."""
        table = self._bpf[b"events"]
        self._reader: ringbuf.RingReader | None = None
        self._fallback: list[bytes] = []
        if ringbuf.supported():
            self._reader = ringbuf.RingReader(table.map_fd, size)
            return
        string_at = ct.string_at
        append = self._fallback.append

        def _callback(_ctx: object, data: int, size: int) -> int:
            append(string_at(data, size))
            return 0

        self._callback = _callback  # keep a reference: C calls it
        table.open_ring_buffer(_callback)

    # -- traced processes and sockets ------------------------------------------------------

    def trace_pid(self, pid: int) -> None:
        self._traced[ct.c_uint32(pid)] = ct.c_uint8(1)

    def untrace_pid(self, pid: int) -> None:
        with contextlib.suppress(KeyError):
            del self._traced[ct.c_uint32(pid)]

    def add_socket(self, pid: int, fd: int, gen: int, flags: SockFlag) -> None:
        """List an fd found in /proc; an entry the kernel already made is kept."""
        key = _SockKey(pid, fd)
        if key in self._sockets:
            return
        self._sockets[key] = _SockVal(gen, int(flags), 0, (ct.c_uint64 * 2)(0, 0))

    def disable_socket(self, pid: int, fd: int, gen: int) -> bool:
        """Stop copying data of the connection (pid, fd, gen); False if the fd moved on."""
        key = _SockKey(pid, fd)
        try:
            val = self._sockets[key]
        except KeyError:
            return False
        if val.gen != gen:
            return False
        val.flags |= int(SockFlag.DISABLED)
        self._sockets[key] = val
        return True

    def forget_pid(self, pid: int, before_ns: int | None = None) -> None:
        """Drop the socket entries of ``pid`` (it exited), or those made before ``before_ns``.

        After an exec the new image may have made sockets by the time we get here; their
        generations (creation times, the same clock as events) are later than the exec's.
        """
        stale = [k for k, v in self._sockets.items()
                 if k.tgid == pid and (before_ns is None or v.gen < before_ns)]
        for k in stale:
            with contextlib.suppress(KeyError):
                del self._sockets[k]

    def attach_tls(self, path: str, symbols: Sequence[str], pid: int) -> int:
        """uprobes + uretprobes on OpenSSL's read/write functions in ``path``, hit by
        process ``pid`` and the children it forks (``uprobes``); returns probes placed.

        Where the kernel refuses a per-process probe (another uprobe with a reference
        counter holds the address) the function is probed for every process, as bcc does,
        and ``tls_notes`` says so: TLS is then still seen, at a cost to untraced processes.
        """
        from bcc import BPF  # type: ignore[import-not-found]

        try:
            probes = self.uprobe_set()
        except uprobes.UprobeError as exc:
            self.tls_notes.append(f"TLS not hooked: {exc}")
            return 0
        placed = 0
        for sym in symbols:
            entry = _SSL_ENTRY.get(sym)
            if entry is None:
                continue
            try:  # a symbol that cannot be resolved is just not hooked
                _path, offset = BPF._check_path_symbol(path.encode(), sym.encode(), None, -1, 0)
            except Exception:
                continue
            try:
                for fn_name, ret in ((entry, False), (b"ssl_exit_probe", True)):
                    prog_fd = self._bpf.load_func(fn_name, BPF.KPROBE).fd
                    key = probes.add(path, offset, ret, prog_fd)
                    probes.scope(key, pid)
            except uprobes.UprobeError as exc:
                if not self._attach_everywhere(path, sym, entry, exc):
                    continue
            placed += 1
        return placed

    def _attach_everywhere(self, path: str, sym: str, entry: bytes, why: Exception) -> bool:
        """The fallback: bcc's attach, for every process. Debian 12's bcc passes a stray
        semaphore offset (its binding omits ``ref_ctr_offset``), the very thing that leaves
        such refused addresses behind; it is used only where nothing else can hook ``sym``."""
        if (path, sym) in self._everywhere:
            return True
        try:
            self._bpf.attach_uprobe(name=path.encode(), sym=sym.encode(), fn_name=entry)
            self._bpf.attach_uretprobe(name=path.encode(), sym=sym.encode(),
                                       fn_name=b"ssl_exit_probe")
        except Exception:
            self.tls_notes.append(f"{sym} in {path} not hooked ({why})")
            return False
        self._everywhere.add((path, sym))
        self.tls_notes.append(
            f"{sym} in {path} is probed in every process: the kernel refused a probe for the "
            "traced ones only (another uprobe holds that address)"
        )
        return True

    # -- probes of library functions: the hookers' building blocks ------------------------

    def probe_fd(self, fn_name: str) -> int:
        """The fd of the uprobe program ``fn_name`` (loaded once, by bcc)."""
        from bcc import BPF  # type: ignore[import-not-found]

        return int(self._bpf.load_func(fn_name.encode(), BPF.KPROBE).fd)

    def uprobe_set(self) -> uprobes.UprobeSet:
        """The per-process uprobes of this program (made on first use; raises UprobeError)."""
        if self._uprobes is None:
            self._uprobes = uprobes.UprobeSet()
        return self._uprobes

    def set_go_offsets(self, pid: int, offsets: tuple[int, int, int, int]) -> None:
        """The tls.Conn -> fd chain offsets for process ``pid`` (bpf/go_tls.c)."""
        table = self._bpf[b"go_offsets"]
        table[table.Key(pid)] = table.Leaf(*offsets)

    def forget_go(self, pid: int) -> None:
        with contextlib.suppress(KeyError):
            del self._bpf[b"go_offsets"][ct.c_uint32(pid)]

    def attach_dns(self, path: str, pid: int) -> int:
        """Phases: uprobes + uretprobes on the name lookups of the libc at ``path``, hit by
        ``pid`` and its children (scoped like the TLS ones); returns the probes placed."""
        from httptap.capture.dns import attach_lookups

        try:
            probes = self.uprobe_set()
        except uprobes.UprobeError:
            return 0
        return attach_lookups(self._bpf, probes, path, pid)

    def release_tls(self, pid: int) -> None:
        """Process ``pid`` is gone: its uprobe memberships go too."""
        if self._uprobes is not None:
            self._uprobes.release(pid)

    def lost(self) -> tuple[int, int]:
        """(events, bytes) the kernel could not deliver, summed over CPUs."""
        events = sum(self._lost[ct.c_int(0)])
        nbytes = sum(self._lost[ct.c_int(1)])
        return int(events), int(nbytes)

    # -- running ---------------------------------------------------------------------------

    def read(self, limit: int) -> list[bytes]:
        """Up to ``limit`` waiting records, oldest first (more only on the fallback path).

        The kernel side submits without wakeups: the caller reads on a timer, and reads
        again at once while a full batch comes back.
        """
        if self._reader is not None:
            return self._reader.read(limit)
        self._bpf.ring_buffer_consume()
        out = self._fallback[:]
        self._fallback.clear()
        return out

    def close(self) -> None:
        """Detach every probe and free the maps; idempotent."""
        if not self.closed:
            self.closed = True
            try:
                if self._reader is not None:
                    self._reader.close()
                if self._uprobes is not None:
                    self._uprobes.close()
            finally:  # whatever failed above, the syscall probes go
                self._bpf.cleanup()


@contextlib.contextmanager
def _stderr_to(fd: int) -> Iterator[None]:
    """Keep clang's warnings about the kernel headers off the user's terminal."""
    saved = os.dup(2)
    os.dup2(fd, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_MADV_PAGEOUT = 21  # Linux 5.4+: reclaim these pages now (refaulted if ever touched again)
_COMPILER_LIBS = ("libLLVM", "libclang")


def _release_compiler_memory() -> None:
    """Give back what compiling cost: clang and LLVM are never called again.

    After a compile ~80 MB of LLVM's and clang's code stays resident and ~25 MB of freed
    heap stays with the process; a capture runs for hours next to the service it watches.
    The heap goes back with ``malloc_trim``; the libraries' pages are paged out (a page
    still needed, or one written at load time, simply stays or faults back in).
    """
    try:
        libc = ct.CDLL(None, use_errno=True)
        libc.malloc_trim(0)
        maps = Path("/proc/self/maps").read_text().splitlines()
    except (OSError, AttributeError):
        return
    madvise = libc.madvise
    madvise.argtypes = [ct.c_void_p, ct.c_size_t, ct.c_int]
    for line in maps:
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or not any(lib in parts[5] for lib in _COMPILER_LIBS):
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        madvise(start, end - start, _MADV_PAGEOUT)  # advice: a refusal changes nothing

