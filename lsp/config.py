"""The server's settings: ``initializationOptions`` or ``workspace/didChangeConfiguration``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_KEYS = {
    "slowMs": "slow_ms",
    "diagnosticWindow": "diagnostic_window",
    "historySize": "history_size",
    "bodyLimit": "body_limit",
    "hoverRows": "hover_rows",
    "notifyInterval": "notify_interval",
    "refreshInterval": "refresh_interval",
}


@dataclass(slots=True)
class Settings:
    """Every knob, with its default (PROTOCOL.md, Settings)."""

    slow_ms: float = 500.0
    diagnostic_window: int = 3
    history_size: int = 2000
    body_limit: int = 16 * 1024
    hover_rows: int = 5
    notify_interval: float = 0.25
    refresh_interval: float = 0.5

    def update(self, options: Any) -> list[str]:
        """Take the known camelCase keys of ``options`` (or of its ``httptap`` member).

        Returns the names that changed; values of the wrong type are ignored.
        """
        if isinstance(options, dict) and isinstance(options.get("httptap"), dict):
            options = options["httptap"]
        if not isinstance(options, dict):
            return []
        changed = []
        for key, attr in _KEYS.items():
            value = options.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            current = getattr(self, attr)
            kind = type(current)
            new = kind(value)
            if new <= 0:
                continue
            if new != current:
                setattr(self, attr, new)
                changed.append(attr)
        return changed

    def as_dict(self) -> dict[str, Any]:
        """camelCase view, as the client would send it."""
        values = dataclasses.asdict(self)
        return {key: values[attr] for key, attr in _KEYS.items()}
