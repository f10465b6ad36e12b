"""The options every front end shares, defined once: name, type, default and help.

``httptap`` (cli/main.py), ``%httptap`` (ipython_ext/magic.py) and ``httptap-helper``
(engine/helper_main.py) all build their arguments from these (IPython's magic_arguments
wraps argparse too), so a default or a rule cannot drift between them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from httptap import argtypes
from httptap.model import DEFAULT_BODY_LIMIT

__all__ = [
    "BODY_LIMIT", "COUNT", "DEFAULT_BODY_LIMIT", "DEFAULT_RING_KIB", "DURATION", "FILTER",
    "MAX_BODY_LIMIT", "MAX_RING_KIB", "RING_KIB", "SHOW_SECRETS", "Option",
]

#: kernel ring buffer, KiB: ~1 s of 20k small exchanges/s, ~45 drain periods of 25 ms
DEFAULT_RING_KIB = 8 * 1024
#: the helper's bounds (it runs as root for an unprivileged caller)
MAX_BODY_LIMIT = 16 * 1024 * 1024
MAX_RING_KIB = 256 * 1024


@dataclass(frozen=True, slots=True)
class Option:
    """One option: its flags and its ``add_argument`` keywords."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def spec(self, *short: str, **override: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
        """``(flags, kwargs)`` for ``add_argument`` or IPython's ``@argument``; ``short``
        adds flags (``-d``), ``override`` replaces keywords (a stricter ``type``)."""
        return (*self.flags, *short), {**self.kwargs, **override}

    def add_to(self, parser: argparse.ArgumentParser | Any, *short: str, **override: Any) -> None:
        """Add this option to an argparse parser (or argument group)."""
        flags, kwargs = self.spec(*short, **override)
        parser.add_argument(*flags, **kwargs)


BODY_LIMIT = Option(("--body-limit",), {
    "type": argtypes.size, "default": DEFAULT_BODY_LIMIT, "metavar": "BYTES",
    "help": "bytes of each body kept and shown (default 64k; 0 keeps headers only; true "
    "sizes are always counted)",
})
RING_KIB = Option(("--ring-kib",), {
    "type": argtypes.positive_int, "default": DEFAULT_RING_KIB, "metavar": "KIB",
    "help": f"kernel ring buffer size in KiB (default {DEFAULT_RING_KIB}: ~1 s of 20k small "
    "exchanges/s, ~45 drain periods of 25 ms)",
})
SHOW_SECRETS = Option(("--show-secrets",), {
    "action": "store_true", "help": "do not mask Authorization, Cookie and similar values",
})
DURATION = Option(("--duration",), {
    "type": argtypes.positive_float, "metavar": "SECONDS",
    "help": "stop capturing after this many seconds",
})
COUNT = Option(("--count",), {
    "type": argtypes.positive_int, "metavar": "N",
    "help": "stop capturing after N (matching) exchanges",
})
FILTER = Option(("--filter", "-f"), {
    "default": "", "metavar": "EXPR",
    "help": "keep only exchanges matching EXPR, e.g. 'status>=400', "
    "'host=api.example.com and latency>200ms' (see `httptap --help-filter`)",
})

