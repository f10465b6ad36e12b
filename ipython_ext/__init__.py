"""The IPython/Jupyter extension: ``%load_ext httptap``, then ``cap = %httptap PID``.

Installed as ``httptap.ipython_ext``; ``httptap.load_ipython_extension`` delegates here.
All capture goes through the engine API (``httptap.engine.api.open_capture``): in-process
when IPython runs as root, otherwise through ``httptap-helper`` under sudo.
"""

from __future__ import annotations

import atexit
from typing import Any

from .handle import CaptureHandle
from .magic import HttptapMagics

__all__ = ["CaptureHandle", "HttptapMagics", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%httptap``; captures are stopped when the interpreter (kernel) exits."""
    if _magics(ipython) is not None:
        return  # loaded under both names (httptap, httptap.ipython_ext): one set of captures
    magics = HttptapMagics(ipython)
    ipython.register_magics(magics)
    # InteractiveShell runs its own atexit operations from Python's atexit too; kernel
    # shutdown (and a terminal IPython's exit) therefore detach everything here.
    atexit.register(magics.shutdown)


def unload_ipython_extension(ipython: Any) -> None:
    """Stop every capture started in this shell and remove ``%httptap``."""
    magics = _magics(ipython)
    if magics is None:
        return
    magics.shutdown()
    atexit.unregister(magics.shutdown)
    manager = ipython.magics_manager
    manager.magics["line"].pop("httptap", None)
    manager.registry.pop(type(magics).__name__, None)


def _magics(ipython: Any) -> HttptapMagics | None:
    found = ipython.magics_manager.registry.get(HttptapMagics.__name__)
    return found if isinstance(found, HttptapMagics) else None
