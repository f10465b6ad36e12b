"""The set-up split: `make install`/`make demo` install what httptap needs to run, `make test`
adds the test peers (a user who only wants the demo gets no nginx, tshark, neovim, …)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-system.sh"
PEERS = {"nginx-light", "curl", "nghttp2-client", "wrk", "tshark", "nodejs", "neovim", "tmux"}


def _packages(*flags: str) -> set[str]:
    out = subprocess.run(["bash", str(SCRIPT), *flags, "--list"], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return set(out.split())


def _make(target: str) -> str:
    # -B -n: every recipe line that a fresh machine would run, none of them run
    return subprocess.run(["make", "-B", "-n", "-C", str(ROOT), target], check=True,
                          capture_output=True, text=True, timeout=30).stdout


def test_runtime_set_has_bcc_and_no_test_peers() -> None:
    runtime = _packages()
    assert {"python3-bpfcc", "sudo"} <= runtime
    assert not runtime & PEERS


def test_test_peers_extend_the_runtime_set() -> None:
    assert _packages() | PEERS <= _packages("--test-peers")


def test_make_demo_installs_no_test_peers_and_make_test_does() -> None:
    demo = _make("demo")
    assert "install-system.sh" in demo and "--test-peers" not in demo
    assert "[test]" not in demo and "demo,test" not in demo
    test = _make("test")
    assert "--test-peers" in test and "'.[demo,test]'" in test


def test_every_package_is_installed() -> None:
    # pyproject lists packages by name (lsp/ and ipython_ext/ are mapped into httptap): a new
    # package missing there works in the editable checkout and fails in a real `pip install .`
    import tomllib

    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    dirs = {src: Path(path) for src, path in conf["package-dir"].items()}
    dirs["httptap"] = Path("httptap")
    found = set()
    for name, folder in dirs.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            if "node_modules" not in rel:
                found.add(".".join((name, *rel)))
    assert found <= listed, sorted(found - listed)
