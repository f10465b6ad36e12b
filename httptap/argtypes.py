"""Argument types shared by the command line and the ``%httptap`` magic (argparse ``type=``)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

_UNITS = {"k": 1024, "m": 1024 * 1024}
_DIGITS = re.compile(r"[0-9]{1,10}")


def size(text: str) -> int:
    """Bytes, with an optional k/M suffix (1024-based): ``65536``, ``64k``, ``1M``; ``0`` is
    allowed (a body limit of 0 keeps headers only)."""
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = _UNITS.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    try:
        value = int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 65536, 64k, 1M)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (negative)")
    return value


def positive_float(text: str) -> float:
    """A number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number greater than zero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return value


def pid(text: str) -> int:
    """A process id."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a PID: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a PID: {text!r}")
    return value


def bounded_int(minimum: int, maximum: int) -> Callable[[str], int]:
    """A strict whole number in ``minimum..maximum``: ASCII digits only (the helper's type;
    ``int()`` would also take " 7", "+7", "7_0" and other scripts' digits)."""

    def parse(text: str) -> int:
        if not _DIGITS.fullmatch(text):
            raise argparse.ArgumentTypeError(f"must be a number between {minimum} and {maximum}")
        value = int(text)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be between {minimum} and {maximum}")
        return value

    return parse
