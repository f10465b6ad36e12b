"""Every input that once crashed a harness, replayed from its file in tests/fuzz/regressions/.

The folder names the harness: ``session/`` (saved HAR or JSON lines), ``http1/`` and ``http2/``
(raw bytes fed as requests, then as responses), ``decode/`` (a gzip body shown for display).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz._harness import REGRESSIONS
from tests.fuzz.test_fuzz_http1 import run_h1
from tests.fuzz.test_fuzz_http2 import run_h2
from tests.fuzz.test_fuzz_inputs import _load


def _replay_session(raw: bytes) -> None:
    _load(raw)


def _replay_http1(raw: bytes) -> None:
    run_h1([(0, "data", raw)])
    run_h1([(1, "data", raw)], midstream=True)


def _replay_http2(raw: bytes) -> None:
    run_h2([(0, "data", raw)])
    run_h2([(1, "data", raw)], midstream=True)


_REPLAY = {"session": _replay_session, "http1": _replay_http1, "http2": _replay_http2}

CASES = sorted(p for p in REGRESSIONS.rglob("*") if p.is_file() and p.parent.name in _REPLAY)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_regression_input(path: Path) -> None:
    _REPLAY[path.parent.name](path.read_bytes())


def test_regression_corpus_present() -> None:
    assert CASES, "the regression corpus is missing"
