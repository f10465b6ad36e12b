"""The layering of DESIGN.md ("Data flow"), enforced from the imports, lazy ones included.

kernel → capture → streams → protocols → engine → store/content/present/export → front ends.
Front ends (terminal UI, language server, IPython, CLI) never import one another (the CLI is
the terminal UI's entry point, so it may start it), never ``httptap.cli``, never
``httptap.capture`` and never bcc; only the engine imports ``httptap.capture`` (``streams``
may take its event types); protocols and the shared layers below the front ends import nothing
above themselves. A new import that breaks a rule fails here with its file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# installed package name of each top-level source folder (pyproject's package-dir)
SOURCES = {"httptap": "httptap", "lsp": "httptap.lsp", "ipython_ext": "httptap.ipython_ext"}
MAX_LINES = 500

FRONT_ENDS = ("httptap.ui", "httptap.cli", "httptap.lsp", "httptap.ipython_ext")
# layers every front end builds on; none of them may reach up into a front end
SHARED = ("httptap.model", "httptap.records", "httptap.store", "httptap.present",
          "httptap.content", "httptap.export", "httptap.filter", "httptap.contract",
          "httptap.secrets")


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = list(rel.with_suffix("").parts)
    parts[0] = SOURCES[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in ``path``, relative ones resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from httptap import capture` imports a module too
                yield node.lineno, f"{base}.{alias.name}"


def _sources() -> list[Path]:
    files: list[Path] = []
    for folder in SOURCES:
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if "node_modules" not in f.parts]


def _rule_broken(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``, or None when it may."""
    in_engine = _under(importer, "httptap.capture") or _under(importer, "httptap.engine")
    if _under(imported, "bcc") and not in_engine:
        return "only the capture layer (through the engine) uses bcc"
    if _under(imported, "httptap.capture") and not _under(importer, "httptap.capture"):
        if _under(importer, "httptap.engine"):
            return None
        if importer == "httptap.streams" and _under(imported, "httptap.capture.events"):
            return None
        return "only the engine imports httptap.capture (streams: its event types)"
    for front in FRONT_ENDS:
        if _under(imported, front) and not _under(importer, front):
            if front == "httptap.ui" and _under(importer, "httptap.cli"):
                return None  # the CLI starts the terminal UI
            if importer == "httptap" and front == "httptap.ipython_ext":
                return None  # `%load_ext httptap` is forwarded to the extension
            return f"{front} is a front end: nothing else imports it"
    if _under(importer, "httptap.protocols"):
        allowed = ("httptap.protocols", "httptap.model")
        if imported.startswith("httptap") and not any(_under(imported, a) for a in allowed):
            return "protocols import nothing above themselves (only the model)"
    if _under(importer, "httptap.present") or _under(importer, "httptap.content"):
        allowed = ("httptap.present", "httptap.content", "httptap.model")
        if imported.startswith("httptap") and not any(_under(imported, a) for a in allowed):
            return "present/ and content/ import only the model and each other"
    if any(_under(importer, s) for s in SHARED) and (
        _under(imported, "httptap.engine") or _under(imported, "httptap.streams")
    ):
        return "the shared layers below the front ends do not reach into the engine"
    return None


def test_every_import_respects_the_layers() -> None:
    broken = []
    for path in _sources():
        importer = _module_name(path)
        for line, imported in _imports(path):
            why = _rule_broken(importer, imported)
            if why:
                broken.append(f"{path.relative_to(ROOT)}:{line}: imports {imported}: {why}")
    assert not broken, "\n".join(broken)


def test_no_module_is_over_the_size_limit() -> None:
    big = [f"{p.relative_to(ROOT)}: {n} lines" for p in _sources()
           if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not big, "\n".join(big)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("httptap.lsp.server", "httptap.capture.procfs"),
        ("httptap.ui.app", "httptap.cli.lines"),
        ("httptap.lsp.summaries", "httptap.ui.decode"),
        ("httptap.ipython_ext.table", "httptap.lsp.routes"),
        ("httptap.protocols.http1", "httptap.streams"),
        ("httptap.store", "httptap.ui.store"),
        ("httptap.present.units", "httptap.engine.api"),
        ("httptap.content.encoding", "httptap.export.har"),
        ("httptap.cli.main", "bcc"),
    ],
)
def test_the_rules_catch_what_they_forbid(importer: str, imported: str) -> None:
    assert _rule_broken(importer, imported)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("httptap.engine.inprocess", "httptap.capture.loader"),
        ("httptap.streams", "httptap.capture.events"),
        ("httptap.cli.main", "httptap.ui.app"),
        ("httptap.lsp.server", "httptap.engine.api"),
        ("httptap.export.har", "httptap.content"),
        ("httptap.protocols.http2", "httptap.model"),
        ("httptap.present.body", "httptap.content.encoding"),
    ],
)
def test_the_rules_allow_the_data_flow(importer: str, imported: str) -> None:
    assert _rule_broken(importer, imported) is None


def test_relative_imports_are_resolved() -> None:
    found = dict((m, n) for n, m in _imports(ROOT / "lsp" / "server.py"))
    assert any(_under(m, "httptap.lsp") for m in found)
