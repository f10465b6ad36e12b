"""Kernel headers for bcc: the running kernel's, or the nearest installed Debian ones.

bcc compiles against /lib/modules/$(uname -r)/build. Where no package matches the running
kernel (cloud and VM kernels), the nearest ``linux-headers-*`` works because our BPF code reads
only syscall arguments and user memory. Debian splits headers into ``-common`` and ``-<arch>``
folders; bcc wants one tree, so we build a merged tree of symlinks and point
``BCC_KERNEL_SOURCE`` at it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path("/var/cache/httptap/kernel-headers")
_STAMP = ".httptap-merged"
_SRC = Path("/usr/src")


@dataclass(frozen=True, slots=True)
class HeadersChoice:
    path: Path | None
    exact: bool
    message: str


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", name)[:5])


def find_headers(release: str | None = None) -> HeadersChoice:
    """Where bcc should find kernel headers for ``release`` (default: the running kernel)."""
    release = release or platform.release()
    exact = Path("/lib/modules") / release / "build"
    if (exact / "include").exists() or (exact / "Makefile").exists():
        return HeadersChoice(exact, True, f"kernel headers for {release}")
    arch = [p for p in _SRC.glob("linux-headers-*") if not p.name.endswith(("-common", "-rt"))
            and (p / "include" / "generated").exists()]
    if not arch:
        return HeadersChoice(None, False, f"no kernel headers installed for {release}")
    want = _version_key(release)

    def distance(p: Path) -> tuple[int, ...]:
        have = _version_key(p.name.removeprefix("linux-headers-"))
        return tuple(abs(a - b) for a, b in zip(want, have, strict=False))

    best = min(arch, key=lambda p: (distance(p), p.name))
    return HeadersChoice(best, False, f"no headers for kernel {release}; using {best.name}")


def _common_of(arch_dir: Path) -> Path | None:
    # linux-headers-6.1.0-50-amd64 -> linux-headers-6.1.0-50-common
    m = re.match(r"(linux-headers-\d+\.\d+\.\d+-\d+)-", arch_dir.name)
    if not m:
        return None
    common = arch_dir.parent / f"{m.group(1)}-common"
    return common if common.exists() else None


def merged_tree(arch_dir: Path, cache: Path = CACHE) -> Path:
    """A tree of symlinks merging Debian's ``-common`` and ``-<arch>`` header folders."""
    common = _common_of(arch_dir)
    if common is None:
        return arch_dir
    target = cache / arch_dir.name
    if (target / _STAMP).exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # Built aside and renamed into place: two captures starting at once never see half a tree.
    work = Path(tempfile.mkdtemp(prefix=f".{arch_dir.name}.", dir=cache))
    for src_root in (common, arch_dir):  # arch-specific files win
        for dirpath, dirnames, filenames in os.walk(src_root, followlinks=False):
            rel = Path(dirpath).relative_to(src_root)
            (work / rel).mkdir(parents=True, exist_ok=True)
            for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
                dst = work / rel / name
                if dst.is_symlink() or dst.exists():
                    if dst.is_dir() and not dst.is_symlink():
                        continue
                    dst.unlink()
                dst.symlink_to(Path(dirpath) / name)
    (work / _STAMP).write_text(f"{common}\n{arch_dir}\n")
    if target.exists() and not (target / _STAMP).exists():
        shutil.rmtree(target, ignore_errors=True)  # a half tree from an older httptap
    try:
        work.rename(target)
    except OSError:  # another capture got there first
        shutil.rmtree(work, ignore_errors=True)
    return target


def configure_bcc() -> HeadersChoice:
    """Set ``BCC_KERNEL_SOURCE`` when the running kernel has no headers of its own."""
    if os.environ.get("BCC_KERNEL_SOURCE"):
        path = Path(os.environ["BCC_KERNEL_SOURCE"])
        return HeadersChoice(path, True, f"BCC_KERNEL_SOURCE={path}")
    choice = find_headers()
    if choice.path is not None and not choice.exact:
        tree = merged_tree(choice.path)
        os.environ["BCC_KERNEL_SOURCE"] = str(tree)
        return HeadersChoice(tree, False, choice.message)
    return choice
