"""Garbage-collector settings for httptap's own processes (the CLI and the helper)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Collect less often: parsing allocates many short-lived, acyclic objects per exchange.

    With the default threshold the cyclic collector runs every few exchanges and, on a busy
    capture, costs more CPU than the JSON output (bench/RESULTS.md). Objects alive at start
    (modules, bcc) are frozen out of every collection. Only in httptap's own process.
    """
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
