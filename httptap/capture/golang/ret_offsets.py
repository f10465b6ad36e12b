"""Where a function returns: the offsets of its RET instructions, from disassembly.

A uretprobe rewrites the return address on the stack, which Go's stack copying and
traceback cannot cope with ("unexpected return pc"); a uprobe on each RET leaves the stack
alone. The function is decoded from its entry to its end with capstone; anything that
does not decode cleanly is refused rather than guessed at.
"""

from __future__ import annotations


class DisassemblyError(Exception):
    """The function could not be decoded cleanly to its end."""


def ret_offsets(code: bytes) -> list[int]:
    """Offsets (from the function's entry) of every RET in ``code``, the function's bytes."""
    try:
        import capstone  # type: ignore[import-untyped]
    except ImportError as exc:
        raise DisassemblyError("capstone is not installed (pip install capstone)") from exc
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.skipdata = False
    out: list[int] = []
    end = 0
    for address, size, mnemonic, _ops in md.disasm_lite(code, 0):
        if address != end:
            break
        end = address + size
        if mnemonic in ("ret", "retq", "retf", "retfq"):
            out.append(address)
    if end != len(code):
        raise DisassemblyError(f"decoding stopped at +{end:#x} of {len(code):#x} bytes")
    if not out:
        raise DisassemblyError("no RET instruction found")
    return out
