"""``make fuzz``: every harness for longer, random (with a database), then a summary.

    python tests/fuzz/run.py [--scale N] [pytest args...]

``--scale`` multiplies each harness's example count (default 20; ``make test`` runs 1x,
derandomized). Prints the inputs tried per harness and the findings: failing harnesses, and
the inputs saved under tests/fuzz/findings/ (turn each into a file in regressions/).
Exit status 0 when nothing was found.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _Failures:
    """pytest plugin: the ids of failing tests."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report) -> None:  # type: ignore[no-untyped-def]
        if report.failed:
            self.failed.append(report.nodeid)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=20)
    args, rest = ap.parse_known_args(argv)
    os.environ["HTTPTAP_FUZZ_SCALE"] = str(max(2, args.scale))
    sys.path.insert(0, str(ROOT))
    import pytest

    findings = ROOT / "tests" / "fuzz" / "findings"
    before = set(findings.glob("*"))
    plugin = _Failures()
    start = time.monotonic()
    pytest.main(["-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "fuzz"), *rest],
                plugins=[plugin])
    took = time.monotonic() - start
    found = sorted(set(findings.glob("*")) - before)
    from tests.fuzz import _harness  # imported by the run above: its counters are filled
    print(f"\nfuzz: scale {args.scale}, {took:.0f} s")
    for name, n in sorted(_harness.TRIED.items()):
        print(f"  {name:28} {n:>9} inputs")
    print(f"  {'total':28} {sum(_harness.TRIED.values()):>9} inputs")
    if not plugin.failed:
        print("findings: none")
        return 0
    print(f"findings: {len(plugin.failed)} failing harness(es)")
    for nodeid in plugin.failed:
        print(f"  FAILED {nodeid}")
    for path in found:
        print(f"  input saved: {path.relative_to(ROOT)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
