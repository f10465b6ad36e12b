"""Name-lookup hooking for the phases: libc's getaddrinfo/gethostbyname* per traced process.

Like the OpenSSL probes, these sit on a file and are scoped to the processes that use it
(and what they fork), so untraced processes never hit them. A libc seen under two paths (a
symlink, /proc/PID/root) is one file: probed once, by its (device, inode).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from httptap.capture import dns, tls_libs
from httptap.engine.hooks import FileId

if TYPE_CHECKING:
    from httptap.capture.loader import Program



class DnsHooks:
    """getaddrinfo and gethostbyname(2) hooked in the libc of every traced process."""

    def __init__(self, program: Program) -> None:
        self._program = program
        self._paths: dict[FileId, str] = {}  # the one path each libc file is probed under
        self._scoped: dict[int, set[FileId]] = {}

    def scan(self, pid: int) -> None:
        """Hook, for ``pid``, the lookups of the libc it maps."""
        scoped = self._scoped.setdefault(pid, set())
        for path in dns.libc_paths(pid):
            fid = tls_libs.file_id(path)
            if fid is None or fid in scoped:
                continue
            scoped.add(fid)
            self._program.attach_dns(self._paths.setdefault(fid, path), pid)

    def forget(self, pid: int) -> None:
        """``pid`` exited (its probe scopes go with the TLS ones: ``release_tls``)."""
        self._scoped.pop(pid, None)

