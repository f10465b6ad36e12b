"""Argument types shared by the command line and the ``%httptap`` magic (argparse ``type=``)."""

from __future__ import annotations

import argparse

_UNITS = {"k": 1024, "m": 1024 * 1024}


def size(text: str) -> int:
    """Bytes, with an optional k/M suffix (1024-based): ``65536``, ``64k``, ``1M``."""
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = _UNITS.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    try:
        value = int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 65536, 64k, 1M)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive size: {text!r}")
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
