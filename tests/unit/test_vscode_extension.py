"""The VS Code extension (lsp/vscode): ``npm ci`` when needed, the strict type-checked compile,
and its unit tests in plain node (no VS Code download) — including one that drives the real
``httptap-lsp`` over stdio with the extension's panel logic (replayed traffic)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from httptap.contract import to_dict
from tests.unit.test_lsp_server import make_exchange, write_session

EXT = Path(__file__).resolve().parents[2] / "lsp" / "vscode"
NPM = shutil.which("npm")
STAMP = EXT / "node_modules" / ".httptap-stamp"

if NPM is None:
    if os.environ.get("CI"):  # scripts/install-system.sh installs nodejs (with npm): no skipping
        raise RuntimeError("npm is missing: run scripts/install-system.sh (nodejs)")
    pytest.skip("npm is not installed (scripts/install-system.sh: nodejs)", allow_module_level=True)


def _npm(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    assert NPM is not None
    proc = subprocess.run(
        [NPM, *args], cwd=EXT, env=env, capture_output=True, text=True, timeout=timeout
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"npm {' '.join(args)} failed ({proc.returncode}):\n{out[-6000:]}"
    return out


def _lock_digest() -> str:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    h = hashlib.sha256(node.encode())
    for name in ("package.json", "package-lock.json"):
        h.update((EXT / name).read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def installed() -> None:
    """``npm ci`` only when node_modules is missing or the lock (or node) changed since."""
    digest = _lock_digest()
    if not (STAMP.is_file() and STAMP.read_text().strip() == digest):
        _npm("ci", "--no-audit", "--no-fund")
        STAMP.write_text(digest + "\n")


def test_compiles_strict_and_unit_tests_pass(installed: None, tmp_path: Path) -> None:
    _npm("run", "compile", timeout=120)
    assert (EXT / "out" / "src" / "extension.js").is_file()
    assert (EXT / "out" / "src" / "model.js").is_file()

    # traffic the server replays: four answered requests and one pending, answered later
    session = tmp_path / "session.jsonl"
    traffic = [
        make_exchange(i, "GET", f"/users/{i}", 500 if i == 2 else 200, 3.0 + i) for i in range(4)
    ]
    traffic.append(make_exchange(4, "POST", "/orders", None, 0, complete=False))
    write_session(session, traffic)
    later = make_exchange(4, "POST", "/orders", 201, 12.0)
    env = {
        **os.environ,
        "HTTPTAP_LSP_CMD": json.dumps([sys.executable, "-m", "httptap.lsp.server"]),
        "HTTPTAP_LSP_REPLAY": str(session),
        "HTTPTAP_TEST_EXPECT": json.dumps(
            {
                "ids": [ex.id for ex in reversed(traffic)],
                "pending": "ex4",
                "later": json.dumps(to_dict(later)),
            }
        ),
    }
    out = _npm("test", env=env, timeout=120)
    assert "# fail 0" in out and "# skipped 0" in out, out[-3000:]
    passed = int(out.split("# pass ")[1].split()[0])
    assert passed >= 25, out[-3000:]
