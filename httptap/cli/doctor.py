"""``httptap doctor``: every requirement checked (by the engine), each missing one with its
remedy."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from httptap.engine.checks import Check, process_checks, system_checks

if TYPE_CHECKING:
    from httptap.cli.main import Environment


def main(argv: Sequence[str], env: Environment) -> int:
    p = argparse.ArgumentParser(
        prog="httptap doctor",
        description="Check what httptap needs on this machine and say how to fix what is missing.",
        epilog="examples:\n  httptap doctor\n  httptap doctor --pid 1234",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pid", type=int, help="also look at this process")
    try:
        args = p.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    checks = system_checks()
    if args.pid:
        checks.extend(process_checks(args.pid))
    return _report(checks, env)


def _report(checks: list[Check], env: Environment) -> int:
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok" if c.ok else ("warn" if c.optional else "MISSING")
        env.stdout.write(f"{mark:>7}  {c.name:<{width}}  {c.detail}\n")
        if not c.ok and c.remedy:
            env.stdout.write(f"{'':>7}  {'':<{width}}  fix: {c.remedy}\n")
    bad = [c for c in checks if not c.ok and not c.optional]
    env.stdout.write("httptap doctor: " + ("all good\n" if not bad else
                                           f"{len(bad)} problem(s)\n"))
    return 0 if not bad else 1
