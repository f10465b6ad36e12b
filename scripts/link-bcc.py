"""Make Debian's bcc bindings importable from the project venv, and nothing else.

A ``.pth`` file adds a private folder that holds only a link to the system ``bcc``
package, so the venv does not see every system package (no --system-site-packages).
"""

from __future__ import annotations

import site
import sys
from pathlib import Path

SYSTEM_BCC = [Path("/usr/lib/python3/dist-packages/bcc")]


def main() -> int:
    src = next((p for p in SYSTEM_BCC if (p / "__init__.py").exists()), None)
    if src is None:
        print("link-bcc: Debian's python3-bpfcc is not installed", file=sys.stderr)
        return 1
    target = Path(sys.prefix) / "bcc-link"
    target.mkdir(exist_ok=True)
    link = target / "bcc"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(src)
    pth = Path(site.getsitepackages()[0]) / "httptap-bcc.pth"
    pth.write_text(f"{target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
