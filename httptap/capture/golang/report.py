"""What ``httptap doctor --pid N`` says about a Go process's crypto/tls."""

from __future__ import annotations

from httptap.capture.golang.binary import FUNCTIONS, inspect
from httptap.capture.golang.hooks import exe_path


def describe(pid: int) -> list[tuple[bool, str]]:
    """(ok, line) pairs for ``pid``'s executable; [] when it is not a Go program."""
    binary = inspect(exe_path(pid))
    if binary is None:
        return []
    if not binary.hookable:
        return [(False, binary.describe())]
    lines = [(True, binary.describe())]
    for fn in binary.functions:
        lines.append((True, f"{fn.name} at {fn.address:#x} (file offset {fn.offset:#x}): "
                            f"entry + {len(fn.rets)} RET probes, hooked at attach"))
    hooked = {fn.name for fn in binary.functions}
    lines.extend((False, f"{name} not hooked") for name in FUNCTIONS if name not in hooked)
    return lines
