"""TLS-library hooking: OpenSSL files and Go executables, hooked for the traced processes.

uprobes sit on a file (inode), not on a process: the system's libssl files are hooked at
attach (so a later ``import ssl`` is covered with no race), and each traced process's own
mappings (private copies, static executables) are scanned when it is traced or maps new
code. Each file is inspected once; a probe is scoped to the processes that use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from httptap.capture import tls_libs
from httptap.capture.golang.hooks import GoTlsHooks
from httptap.engine.hooks import FileId

if TYPE_CHECKING:
    from httptap.capture.loader import Program

class OpenSslHooks:
    """OpenSSL's SSL_read/SSL_write (and _ex) hooked in every libssl a traced process uses.

    ``scan(pid)`` when a process is traced or maps code, ``forget(pid)`` when it exits;
    ``notes`` collects what cannot be seen, said once with readiness.
    """

    def __init__(self, program: Program, notes: list[str]) -> None:
        self._program = program
        self._notes = notes
        self._system: list[str] = []
        self._hooked: dict[FileId, tls_libs.TlsLibrary] = {}
        self._inspected: dict[FileId, tls_libs.TlsLibrary | None] = {}
        self._scoped: dict[int, set[FileId]] = {}  # pid -> files hooked for it

    def find_system(self) -> None:
        """Look up the system's libssl files (from the loader cache), hooked per process."""
        self._system = tls_libs.system_libssl()

    @property
    def libraries(self) -> list[tls_libs.TlsLibrary]:
        """The libraries hooked so far."""
        return list(self._hooked.values())

    def scan(self, pid: int) -> None:
        """Hook, for ``pid``, the system libssl (even if not loaded yet) and every OpenSSL
        the process maps (private copies, static executables)."""
        for path in [*self._system, *tls_libs.mapped_executables(pid)]:
            self._hook(path, pid)

    def forget(self, pid: int) -> None:
        """``pid`` exited: its probe scopes go."""
        self._program.release_tls(pid)
        self._scoped.pop(pid, None)

    def _hook(self, path: str, pid: int) -> None:
        fid = tls_libs.file_id(path)
        scoped = self._scoped.setdefault(pid, set())
        if fid is None or fid in scoped:
            return
        scoped.add(fid)
        if fid in self._inspected:
            lib = self._inspected[fid]
        else:
            lib = self._inspected[fid] = tls_libs.inspect(path, version=False)
            if lib is not None and lib.go:
                self._note(f"{path}: a Go binary, TLS not hooked (no uretprobes on Go)")
        if lib is None or lib.go:
            return
        if self._program.attach_tls(path, lib.symbols, pid):
            self._hooked[fid] = lib
        for note in self._program.tls_notes:
            self._note(note)

    def _note(self, note: str) -> None:
        if note not in self._notes:
            self._notes.append(note)


class GoHooks:
    """Go's crypto/tls (``httptap.capture.golang``): entry and RET uprobes, never uretprobes.

    ``go`` is the hooker itself (which pids are hooked, which Go executables were found).
    """

    def __init__(self, program: Program, notes: list[str]) -> None:
        self.go = GoTlsHooks(program)
        self._notes = notes

    def scan(self, pid: int) -> None:
        """Hook ``pid``'s executable when it is a Go program (again after an exec)."""
        note = self.go.attach(pid)
        if note and note not in self._notes:
            self._notes.append(note)

    def forget(self, pid: int) -> None:
        """``pid`` exited."""
        self.go.release(pid)

