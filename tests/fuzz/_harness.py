"""Shared pieces of the fuzz harnesses: settings, input counting, finding capture, checks.

Under ``make test`` every harness runs a small, derandomized number of examples (the whole
stage stays well under two minutes and CI is reproducible). ``tests/fuzz/run.py`` (``make
fuzz``) sets ``HTTPTAP_FUZZ_SCALE`` to multiply the examples, switches to random generation
with an example database, and saves every failing input under ``tests/fuzz/findings/``.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from httptap.contract import to_dict
from httptap.export.har import exchange_to_har_entry
from httptap.model import Exchange
from httptap.protocols.base import ExchangeDone, ExchangePending, ParseFailed, Upgraded

HERE = Path(__file__).resolve().parent
REGRESSIONS = HERE / "regressions"
FINDINGS = HERE / "findings"

#: multiplier of every harness's example count (``make fuzz`` raises it)
SCALE = max(1, int(os.environ.get("HTTPTAP_FUZZ_SCALE", "1") or 1))
LONG = SCALE > 1

#: inputs tried per harness in this process (run.py prints them)
TRIED: collections.Counter[str] = collections.Counter()

F = TypeVar("F", bound=Callable[..., Any])


def fuzz_settings(examples: int) -> Callable[[F], F]:
    """Hypothesis settings for one harness: ``examples`` under ``make test``, more when long."""
    common: dict[str, Any] = {
        "deadline": None,
        "suppress_health_check": list(HealthCheck),
        "print_blob": True,
    }
    if LONG:
        return settings(  # type: ignore[return-value]
            max_examples=examples * SCALE,
            database=DirectoryBasedExampleDatabase(str(HERE / ".hypothesis-db")),
            **common,
        )
    return settings(  # type: ignore[return-value]
        max_examples=examples, derandomize=True, database=None, **common
    )


def tried(name: str) -> None:
    """Count one input for ``name``."""
    TRIED[name] += 1


def guarded(name: str, payload: Any, check: Callable[[], None]) -> None:
    """Run ``check``; on any failure save ``payload`` as a finding (long runs), then re-raise."""
    tried(name)
    try:
        check()
    except BaseException:
        if LONG:
            save_finding(name, payload)
        raise


def save_finding(name: str, payload: Any) -> Path:
    """Write a failing input to tests/fuzz/findings/<name>-<hash>.(bin|json)."""
    FINDINGS.mkdir(exist_ok=True)
    if isinstance(payload, bytes | bytearray):
        raw, ext = bytes(payload), "bin"
    else:
        raw, ext = json.dumps(payload, default=_jsonable, indent=1).encode(), "json"
    path = FINDINGS / f"{name}-{hashlib.sha1(raw).hexdigest()[:12]}.{ext}"
    path.write_bytes(raw)
    return path


def _jsonable(obj: object) -> object:
    if isinstance(obj, bytes | bytearray):
        return {"hex": bytes(obj).hex()}
    return repr(obj)


def check_events(events: Iterable[object]) -> list[Exchange]:
    """Parser events are of the known types; exchanges serialise (contract and HAR)."""
    out: list[Exchange] = []
    for ev in events:
        if isinstance(ev, ExchangePending | ExchangeDone):
            ex = ev.exchange
            json.dumps(to_dict(ex))
            json.dumps(exchange_to_har_entry(ex))
            out.append(ex)
        elif isinstance(ev, ParseFailed):
            assert "internal error" not in ev.reason, ev.reason
        else:
            assert isinstance(ev, Upgraded), ev
    return out
