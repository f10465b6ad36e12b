"""The Go test programs (tests/live/progs/go) built four ways, cached by source hash.

Variants: default, stripped (``-ldflags=-s -w``), PIE and stripped PIE. Built once into
``$HTTPTAP_TEST_CACHE`` (default ``~/.cache/httptap-tests``) under a key of the sources and
the Go version, so later runs reuse them; Go's own build cache lives there too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCES = Path(__file__).parent / "live" / "progs" / "go"
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "stripped": ["-ldflags=-s -w"],
    "pie": ["-buildmode=pie"],
    "stripped-pie": ["-buildmode=pie", "-ldflags=-s -w"],
}
PROGRAMS = ("server", "client")


class GoMissing(Exception):
    """No Go toolchain (scripts/install-system.sh installs Debian's golang-go)."""


def go() -> str:
    path = shutil.which("go") or "/usr/lib/go/bin/go"
    if not os.path.exists(path):
        raise GoMissing("go is not installed (scripts/install-system.sh installs golang-go)")
    return path


def cache_root() -> Path:
    base = os.environ.get("HTTPTAP_TEST_CACHE") or os.path.expanduser("~/.cache/httptap-tests")
    return Path(base)


def _key(go_bin: str) -> str:
    h = hashlib.sha256()
    h.update(subprocess.run([go_bin, "version"], capture_output=True, check=True).stdout)
    for src in sorted(SOURCES.iterdir()):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()[:16]


def build_all() -> dict[str, dict[str, Path]]:
    """variant -> program -> path of the executable (built on first call, then cached)."""
    go_bin = go()
    root = cache_root()
    out_dir = root / "go" / _key(go_bin)
    env = {**os.environ, "GOCACHE": str(root / "gocache"), "GOPATH": str(root / "gopath"),
           "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    builds: dict[str, dict[str, Path]] = {}
    for variant, flags in VARIANTS.items():
        builds[variant] = {}
        for prog in PROGRAMS:
            target = out_dir / f"{variant}-{prog}"
            if not target.exists():
                out_dir.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".build-")
                os.close(fd)
                subprocess.run([go_bin, "build", *flags, "-o", tmp, f"{prog}.go"], cwd=SOURCES,
                               env=env, check=True, capture_output=True)
                os.replace(tmp, target)  # atomic: a half-built file is never used
            builds[variant][prog] = target
    return builds
