"""The syscall table the loader fills the BPF dispatch arrays from (loader.SYSCALLS)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from httptap.capture.loader import SYSCALLS

_SOURCE = (Path(__file__).resolve().parents[2] / "bpf" / "capture.c").read_text()
_UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


def test_numbers_are_the_x86_64_abi():
    if not _UNISTD.exists():
        pytest.skip(f"{_UNISTD} missing (Debian's linux-libc-dev): nothing to compare with")
    abi = dict(re.findall(r"#define __NR_(\w+)\s+(\d+)", _UNISTD.read_text()))
    assert {name: nr for name, (nr, _e, _x) in SYSCALLS.items()} == {
        name: int(abi[name]) for name in SYSCALLS
    }


def test_every_program_named_exists_as_a_raw_tracepoint_program():
    defined = set(re.findall(r"^int (\w+)\(struct bpf_raw_tracepoint_args \*ctx\)", _SOURCE,
                             re.M))
    named = {p for _nr, enter, exit_ in SYSCALLS.values() for p in (enter, exit_) if p}
    assert named <= defined, named - defined
    assert defined <= named, f"programs no syscall reaches: {defined - named}"


def test_every_syscall_number_the_source_uses_is_defined():
    used = set(re.findall(r"\bHT_NR_(\w+)", _SOURCE)) - {"SLOTS"}
    assert used <= set(SYSCALLS), used - set(SYSCALLS)
    assert max(nr for nr, _e, _x in SYSCALLS.values()) < int(
        re.search(r"#define HT_NR_SLOTS (\d+)", _SOURCE).group(1))  # type: ignore[union-attr]
