"""Field offsets of the chain from a ``*tls.Conn`` to its socket's fd.

``tls.Conn.conn`` (a ``net.Conn`` interface; its data word is 8 bytes further) ->
``*net.TCPConn`` whose embedded ``net.conn.fd`` is a ``*netFD`` -> ``netFD.pfd``
(``poll.FD``) -> ``poll.FD.Sysfd``. From DWARF when the binary has it, else from a table
per Go version (the layout has been the same on amd64 from Go 1.17 to 1.26).
"""

from __future__ import annotations

from dataclasses import dataclass

from httptap.capture.golang.elf import ElfFile


@dataclass(frozen=True, slots=True)
class FdOffsets:
    conn: int  # tls.Conn.conn (interface: type word, then data word)
    tcp_fd: int  # net.conn.fd inside net.TCPConn
    pfd: int  # netFD.pfd
    sysfd: int  # poll.FD.Sysfd
    source: str = "table"

    def key(self) -> tuple[int, int, int, int]:
        return (self.conn, self.tcp_fd, self.pfd, self.sysfd)


#: (first, last) Go minor version -> offsets; checked against DWARF of real builds
TABLE: dict[tuple[int, int], FdOffsets] = {(17, 26): FdOffsets(0, 0, 0, 16)}

# struct name in DWARF -> (field, attribute of FdOffsets)
_FIELDS = {
    "crypto/tls.Conn": ("conn", "conn"),
    "net.conn": ("fd", "tcp_fd"),
    "net.netFD": ("pfd", "pfd"),
    "internal/poll.FD": ("Sysfd", "sysfd"),
}
_CUS = {"runtime"}  # the Go linker puts every type in the runtime unit


def from_table(version: tuple[int, int]) -> FdOffsets | None:
    major, minor = version
    if major != 1:
        return None
    for (first, last), offsets in TABLE.items():
        if first <= minor <= last:
            return offsets
    return None


def from_dwarf(elf: ElfFile) -> FdOffsets | None:
    """The offsets as the binary's DWARF states them; None when it has no (usable) DWARF."""
    if ".debug_info" not in elf.sections and ".zdebug_info" not in elf.sections:
        return None
    try:
        from elftools.elf.elffile import ELFFile  # type: ignore[import-untyped]

        with open(elf.path, "rb") as f:
            dwarf = ELFFile(f).get_dwarf_info()
            found: dict[str, int] = {}
            for cu in dwarf.iter_CUs():
                top = cu.get_top_DIE()
                name = top.attributes.get("DW_AT_name")
                if name is None or name.value.decode("utf-8", "replace") not in _CUS:
                    continue
                for die in top.iter_children():
                    if die.tag != "DW_TAG_structure_type":
                        continue
                    sname = die.attributes.get("DW_AT_name")
                    want = _FIELDS.get(sname.value.decode() if sname else "")
                    if want is None:
                        continue
                    for member in die.iter_children():
                        mname = member.attributes.get("DW_AT_name")
                        loc = member.attributes.get("DW_AT_data_member_location")
                        if mname and loc and mname.value.decode() == want[0]:
                            found[want[1]] = int(loc.value)
                if len(found) == len(_FIELDS):
                    break
    except Exception:  # damaged or unusual DWARF: fall back to the table
        return None
    if len(found) != len(_FIELDS):
        return None
    return FdOffsets(found["conn"], found["tcp_fd"], found["pfd"], found["sysfd"], "DWARF")
