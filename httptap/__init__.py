"""httptap: see the HTTP traffic of a running Linux process, live, with eBPF."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext httptap``: register the ``%httptap`` magic."""
    from httptap.ipython_ext import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext httptap``: stop every capture the magic started."""
    from httptap.ipython_ext import unload_ipython_extension as _unload

    _unload(ipython)
