"""Kernel headers for bcc: the nearest Debian headers merged into one tree (no root)."""

from __future__ import annotations

import threading
from pathlib import Path

from httptap.capture import kheaders


def _arch_dir() -> Path:
    choice = kheaders.find_headers("99.1.0-unknown")  # no exact match: the nearest /usr/src
    assert choice.path is not None, "make install installs linux-headers-* from Debian"
    return choice.path


def test_nearest_headers_are_found_for_a_kernel_without_its_own():
    choice = kheaders.find_headers("99.1.0-unknown")
    assert choice.path is not None and not choice.exact
    assert "using linux-headers-" in choice.message


def test_merged_tree_has_common_and_arch_files(tmp_path):
    tree = kheaders.merged_tree(_arch_dir(), cache=tmp_path)
    assert (tree / "include" / "linux" / "sched.h").exists()  # from -common
    assert (tree / "include" / "generated").exists()  # from -amd64
    assert (tree / ".config").exists()
    assert kheaders.merged_tree(_arch_dir(), cache=tmp_path) == tree  # built once


def test_two_captures_building_at_once_both_get_a_whole_tree(tmp_path):
    trees: list[Path] = []
    threads = [threading.Thread(target=lambda: trees.append(
        kheaders.merged_tree(_arch_dir(), cache=tmp_path))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(trees) == 3 and len(set(trees)) == 1
    assert (trees[0] / "include" / "linux" / "sched.h").exists()
    assert [p.name for p in tmp_path.iterdir()] == [trees[0].name]  # no work dirs left
