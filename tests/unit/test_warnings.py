"""No warnings from the project's own code: the suite runs with them as errors (pyproject's
``filterwarnings`` for warnings raised at run time; here for those raised when a file compiles,
which a cached ``.pyc`` hides after the first run)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("httptap", "lsp", "ipython_ext", "tests", "bench", "scripts")


def _sources() -> list[Path]:
    return [p for folder in FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))
            if "node_modules" not in p.parts]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_source_compiles_without_warnings(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # invalid escapes, `is` with a literal, …
        compile(path.read_text(), str(path), "exec")


def test_bcc_is_an_installed_package_not_project_code() -> None:
    # Outside site-packages, tools take bcc for the project's own code: Hypothesis parsed its
    # source for constants and its invalid escape ('\.', line 749) warned in every fresh run.
    spec = importlib.util.find_spec("bcc")
    if spec is None or spec.origin is None:
        pytest.skip("bcc is not importable here (make install links Debian's python3-bpfcc)")
    assert "/site-packages/bcc/" in spec.origin
