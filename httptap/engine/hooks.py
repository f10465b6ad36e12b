"""What the engine asks of a hooker of library functions (OpenSSL, Go's crypto/tls, libc's
name lookups), and the set of them a capture drives as one."""

from __future__ import annotations

from typing import Protocol

FileId = tuple[int, int]  # (device, inode): a file probed once, whatever path it is seen under


class LibraryHooks(Protocol):
    """Uprobes on the functions of some library, scoped to the traced processes."""

    def scan(self, pid: int) -> None:
        """Hook what ``pid`` uses (called when it is traced, and when it maps new code)."""

    def forget(self, pid: int) -> None:
        """``pid`` exited: drop what was hooked for it alone."""


class HookSet:
    """Several hookers behind the one ``LibraryHooks`` interface, asked in turn."""

    def __init__(self, *hooks: LibraryHooks) -> None:
        self._hooks = hooks

    def scan(self, pid: int) -> None:
        """Hook what ``pid`` uses, for every kind of library."""
        for hook in self._hooks:
            hook.scan(pid)

    def forget(self, pid: int) -> None:
        """``pid`` exited."""
        for hook in self._hooks:
            hook.forget(pid)
