"""Make Debian's bcc bindings importable from the project venv, and nothing else.

A link named ``bcc`` in the venv's site-packages points at the system package, so the venv
does not see every system package (no --system-site-packages) and bcc is an installed
package like any other: tools that treat code outside site-packages as the project's own
(Hypothesis parses such modules for constants, and bcc's source has an invalid escape that
warns when parsed) leave it alone.
"""

from __future__ import annotations

import shutil
import site
import sys
from pathlib import Path

SYSTEM_BCC = [Path("/usr/lib/python3/dist-packages/bcc")]


def main() -> int:
    src = next((p for p in SYSTEM_BCC if (p / "__init__.py").exists()), None)
    if src is None:
        print("link-bcc: Debian's python3-bpfcc is not installed", file=sys.stderr)
        return 1
    site_packages = Path(site.getsitepackages()[0])
    link = site_packages / "bcc"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(src)
    # the layout of earlier versions: a private folder on a .pth line
    (site_packages / "httptap-bcc.pth").unlink(missing_ok=True)
    old = Path(sys.prefix) / "bcc-link"
    if old.is_dir():
        shutil.rmtree(old)
    return 0


if __name__ == "__main__":
    sys.exit(main())
