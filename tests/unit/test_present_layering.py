"""The layering of present/ and content/ (DESIGN.md, data flow): they import only the model,
each other, the standard library and third-party packages; every front end formats and
decodes through them, never through the CLI or another front end."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOWER = ("httptap/present", "httptap/content")
ALLOWED = ("httptap.model", "httptap.present", "httptap.content")
FRONT_ENDS = ("httptap/ui", "lsp", "ipython_ext")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):  # imports inside functions and TYPE_CHECKING count too
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.lineno, node.module))
    return out


def _modules(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (REPO / f).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(*LOWER), ids=lambda p: str(p.relative_to(REPO)))
def test_present_and_content_import_only_the_model_and_each_other(path: Path) -> None:
    bad = [f"{path.name}:{line} imports {name}" for line, name in _imports(path)
           if name.split(".")[0] == "httptap"
           and not any(name == a or name.startswith(a + ".") for a in ALLOWED)]
    assert not bad


@pytest.mark.parametrize("path", _modules(*FRONT_ENDS), ids=lambda p: str(p.relative_to(REPO)))
def test_front_ends_format_through_present(path: Path) -> None:
    bad = [f"{path.name}:{line} imports {name}" for line, name in _imports(path)
           if name.startswith(("httptap.cli", "httptap.ui.decode"))]
    assert not bad


@pytest.mark.parametrize("path", _modules(*LOWER, "httptap/export"),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_small_modules(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 500
