"""Go executables read without root: build info, pclntab, RET offsets, fd chain offsets.

On the real test programs (tests/live/progs/go) built four ways, with Go's own tools as
the oracle; and on damaged copies, which must be refused with a reason, never crash.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from httptap.capture.golang import buildinfo, offsets, pclntab, report
from httptap.capture.golang.binary import FUNCTIONS, READ, WRITE, inspect
from httptap.capture.golang.elf import ElfFile
from tests import golang_builds

OTHERS = {"main.main", "runtime.main", "crypto/tls.(*Conn).readRecordOrCCS",
          "crypto/tls.(*Conn).writeRecordLocked"}


@pytest.fixture(scope="module")
def builds() -> dict[str, dict[str, Path]]:
    try:
        return golang_builds.build_all()
    except golang_builds.GoMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def _all(builds: dict[str, dict[str, Path]]) -> list[tuple[str, Path]]:
    return [(f"{v}-{p}", path) for v, progs in builds.items() for p, path in progs.items()]


def test_buildinfo_version_is_what_go_version_says(builds):
    for name, path in _all(builds):
        out = subprocess.run([golang_builds.go(), "version", str(path)], capture_output=True,
                             text=True, check=True).stdout
        expected = out.split(": ", 1)[1].split()[0]
        with ElfFile(str(path)) as elf:
            assert buildinfo.go_version(elf) == expected, name
        assert buildinfo.parse_version(expected) >= (1, 17)


def test_pclntab_addresses_equal_symtab(builds):
    for variant in ("default", "pie"):
        for prog in ("server", "client"):
            with ElfFile(str(builds[variant][prog])) as elf:
                wanted = set(FUNCTIONS) | OTHERS
                symtab = elf.symbols(wanted)
                table = pclntab.functions(elf, wanted)
                assert set(symtab) == wanted
                assert {n: a for n, (a, _s) in symtab.items()} == {
                    n: a for n, (a, _e) in table.items()}
                for name, (addr, size) in symtab.items():
                    end = table[name][1]
                    assert end >= addr + size
                    # between the symbol's end and the next function: int3 padding only
                    assert set(elf.read_va(addr + size, end - addr - size)) <= {0xCC}


def test_stripped_builds_give_the_addresses_of_the_unstripped_ones(builds):
    for base, stripped in (("default", "stripped"), ("pie", "stripped-pie")):
        for prog in ("server", "client"):
            full, bare = inspect(str(builds[base][prog])), inspect(str(builds[stripped][prog]))
            assert full is not None and bare is not None
            assert (full.source, bare.source) == (".symtab", ".gopclntab")
            assert bare.stripped and not full.stripped
            assert bare.pie == full.pie == (base == "pie")
            assert [(f.name, f.address, f.rets) for f in bare.functions] == [
                (f.name, f.address, f.rets) for f in full.functions]


def _objdump_rets(path: Path, name: str) -> list[int]:
    pattern = "^" + re.escape(name) + "$"
    out = subprocess.run([golang_builds.go(), "tool", "objdump", "-s", pattern, str(path)],
                         capture_output=True, text=True, check=True).stdout
    addrs = [int(line.split()[1], 16) for line in out.splitlines()
             if line.startswith("  ") and line.split()[-1] == "RET"]
    first = int(out.splitlines()[1].split()[1], 16)
    return [a - first for a in addrs]


def test_ret_offsets_equal_go_tool_objdump(builds):
    for variant in ("default", "pie"):
        binary = inspect(str(builds[variant]["server"]))
        assert binary is not None and binary.hookable
        assert [f.name for f in binary.functions] == [READ, WRITE]
        for fn in binary.functions:
            expected = _objdump_rets(builds[variant]["server"], fn.name)
            assert len(expected) >= 2
            assert list(fn.rets) == expected
            with ElfFile(str(builds[variant]["server"])) as elf:
                assert elf.file_offset(fn.address) == fn.offset
                assert all(elf.read_va(fn.address + r, 1) == b"\xc3" for r in fn.rets)


def test_dwarf_offsets_equal_the_table(builds):
    for variant in ("default", "pie"):
        with ElfFile(str(builds[variant]["client"])) as elf:
            version = buildinfo.parse_version(buildinfo.go_version(elf) or "")
            dwarf = offsets.from_dwarf(elf)
        assert dwarf is not None and dwarf.source == "DWARF"
        table = offsets.from_table(version)
        assert table is not None
        assert dwarf.key() == table.key() == (0, 0, 0, 16)
    with ElfFile(str(builds["stripped"]["client"])) as elf:
        assert offsets.from_dwarf(elf) is None  # -w: no DWARF, the table is used
    assert inspect(str(builds["stripped"]["client"])).fd_offsets.source == "table"


def test_the_description_names_version_build_and_functions(builds):
    line = inspect(str(builds["stripped-pie"]["server"])).describe()
    assert line.startswith("Go 1.") and "(PIE, stripped)" in line
    assert "Read (8 probes), Write (9 probes)" in line
    assert "from .gopclntab" in line and "fd offsets from table" in line


# -- bad input: refused by name, never a crash ---------------------------------------------


def _copy(src: Path, tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    return dst


def _patch(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def test_old_go_is_refused_by_name(builds, tmp_path):
    path = _copy(builds["stripped"]["server"], tmp_path, "old")
    blob = path.read_bytes()
    at = blob.index(b"go1.", blob.index(buildinfo.MAGIC))
    _patch(path, at, b"go1.16")
    binary = inspect(str(path))
    assert binary is not None and not binary.hookable
    assert "predates the register ABI" in binary.refusal and "1.16" in binary.refusal


def test_other_architectures_are_refused_by_name(builds, tmp_path):
    path = _copy(builds["stripped"]["server"], tmp_path, "arm")
    _patch(path, 18, struct.pack("<H", 183))  # e_machine: EM_AARCH64
    binary = inspect(str(path))
    assert binary is not None and not binary.hookable
    assert binary.refusal == "arm64 is not supported (x86-64 only)"


def test_a_function_that_does_not_decode_is_not_hooked(builds, tmp_path):
    path = _copy(builds["stripped"]["server"], tmp_path, "odd")
    good = inspect(str(builds["stripped"]["server"]))
    read = next(f for f in good.functions if f.name == READ)
    _patch(path, read.offset + 40, b"\x06" * 8)  # PUSH ES: invalid in 64-bit mode
    binary = inspect(str(path))
    assert binary is not None and binary.hookable  # Write still is
    assert [f.name for f in binary.functions] == [WRITE]
    assert any(p.startswith(f"{READ} not hooked: decoding stopped at") for p in binary.problems)
    assert "decoding stopped" in binary.describe()


def test_no_pclntab_is_refused(builds, tmp_path):
    for variant in ("stripped", "stripped-pie"):
        path = _copy(builds[variant]["server"], tmp_path, variant)
        data = bytearray(path.read_bytes())
        for magic in (b"\xf0\xff\xff\xff\x00\x00\x01\x08", b"\xf1\xff\xff\xff\x00\x00\x01\x08"):
            data = data.replace(magic, b"\0" * 8)
        path.write_bytes(bytes(data))
        binary = inspect(str(path))
        assert binary is not None and not binary.hookable
        assert "unknown pclntab magic" in binary.refusal or "no .gopclntab" in binary.refusal


def test_not_go_and_garbage_are_not_go(tmp_path):
    assert inspect(sys.executable) is None
    assert inspect("/nonexistent") is None
    for name, data in (("empty", b""), ("junk", b"\x7fELF" + os.urandom(200)),
                       ("text", b"hello\n" * 100)):
        (tmp_path / name).write_bytes(data)
        assert inspect(str(tmp_path / name)) is None


def test_truncated_go_binaries_never_crash(builds, tmp_path):
    src = builds["stripped-pie"]["server"].read_bytes()
    for cut in (64, 4096, len(src) // 3, len(src) // 2, len(src) - 4096):
        path = tmp_path / f"cut{cut}"
        path.write_bytes(src[:cut])
        binary = inspect(str(path))  # None or a refusal; an exception fails the test
        assert binary is None or isinstance(binary.describe(), str)


def test_doctor_report_of_a_running_go_server(builds):
    proc = subprocess.Popen([str(builds["stripped-pie"]["server"])], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("port ")
        lines = report.describe(proc.pid)
        assert lines[0][0] and "(PIE, stripped)" in lines[0][1]
        assert [ok for ok, _ in lines] == [True, True, True]
        assert READ in lines[1][1] and "entry + 7 RET probes" in lines[1][1]
        assert WRITE in lines[2][1] and "entry + 8 RET probes" in lines[2][1]
    finally:
        proc.kill()
        proc.wait()
    assert report.describe(os.getpid()) == []  # Python: not Go
