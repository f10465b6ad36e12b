"""Finding OpenSSL in files and processes (real files of this machine; no root)."""

from __future__ import annotations

import os
import shutil
import sys

from httptap.capture import tls_libs


def test_system_libssl_exports_the_read_write_functions():
    paths = tls_libs.system_libssl()
    assert paths, "Debian's libssl3 is a dependency of python3 and curl"
    lib = tls_libs.inspect(paths[0])
    assert lib is not None
    assert set(lib.symbols) == {"SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex"}
    assert lib.version.startswith("OpenSSL 3.")
    assert not lib.go


def test_a_program_without_openssl_is_not_a_tls_library():
    assert tls_libs.inspect(shutil.which("ls") or "/bin/ls") is None
    assert tls_libs.dynamic_symbols("/etc/hostname") == set()  # not ELF
    assert tls_libs.dynamic_symbols("/nonexistent") == set()


def test_node_links_openssl_statically_and_exports_it():
    node = shutil.which("node")
    assert node, "node is installed by scripts/install-system.sh"
    lib = tls_libs.inspect(node)
    assert lib is not None and "SSL_read_ex" in lib.symbols


def test_go_binaries_are_recognised(tmp_path):
    fake = tmp_path / "server"  # no section headers: found by the build-info magic
    fake.write_bytes(b"\x7fELF" + b"\0" * 100 + b"\xff Go buildinf:" + b"\0" * 100)
    assert tls_libs.is_go_binary(str(fake))
    assert not tls_libs.is_go_binary(sys.executable)
    assert ".text" in tls_libs.section_names(sys.executable)


def test_this_process_maps_its_own_libssl_after_import():
    import ssl  # noqa: F401  (maps libssl into this process)

    maps = tls_libs.mapped_executables(os.getpid())
    found = [p for p in maps if tls_libs.inspect(p) is not None]
    assert found and all(p.startswith(f"/proc/{os.getpid()}/root/") for p in found)
    notes = tls_libs.unseen_tls(os.getpid())
    assert any("kernel TLS" in n for n in notes)
