"""procfs helpers that read files (the /proc tables are exercised by the live tests)."""

from __future__ import annotations

import sys
from pathlib import Path

from httptap.capture import procfs


def test_elf_class_tells_32_from_64_bit(tmp_path: Path) -> None:
    elf32 = tmp_path / "a32"
    elf32.write_bytes(b"\x7fELF\x01\x01\x01" + bytes(57))
    elf64 = tmp_path / "a64"
    elf64.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(57))
    assert procfs.elf_class(str(elf32)) == 1
    assert procfs.elf_class(str(elf64)) == 2
    assert procfs.elf_class(sys.executable) == 2  # this machine's interpreter


def test_elf_class_of_what_is_no_elf_file(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_bytes(b"#!/bin/sh\n")
    short = tmp_path / "short"
    short.write_bytes(b"\x7fELF")
    assert procfs.elf_class(str(script)) is None
    assert procfs.elf_class(str(short)) is None
    assert procfs.elf_class(str(tmp_path / "missing")) is None
    assert procfs.elf_class(str(tmp_path)) is None  # a directory
