"""System checks (doctor) as structured results, and doctor's formatting of them."""

from __future__ import annotations

import io
import os

from httptap.cli import doctor
from httptap.cli.main import Environment
from httptap.engine import checks
from httptap.engine.checks import Check


def test_every_system_check_has_a_name_and_a_remedy_when_missing() -> None:
    results = checks.system_checks(load=False)
    names = {c.name for c in results}
    assert {"privileges", "architecture", "kernel", "tracefs", "kernel headers", "bcc"} <= names
    for c in results:
        assert isinstance(c, Check) and c.detail
        if not c.ok and not c.optional:
            assert c.remedy, c.name


def test_process_checks_of_this_process_and_of_none() -> None:
    mine = checks.process_checks(os.getpid())
    assert mine[0].name == f"PID {os.getpid()}" and mine[0].ok
    assert any(c.name == "sockets" for c in mine)
    assert any(c.name == "TLS library" for c in mine)
    (gone,) = checks.process_checks(2**22 + 1)
    assert not gone.ok and gone.remedy


def test_doctor_formats_the_checks(monkeypatch) -> None:
    monkeypatch.setattr(doctor, "system_checks", lambda: [
        Check("bcc", True, "importable"),
        Check("kernel headers", False, "none", "apt-get install linux-headers"),
        Check("BTF", False, "absent", "a kernel with BTF", optional=True),
    ])
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdout_isatty=False, columns=80,
                      install_signals=False)
    assert doctor.main([], env) == 1
    text = out.getvalue()
    assert "MISSING  kernel headers" in text and "fix: apt-get install linux-headers" in text
    assert "warn  BTF" in text and "1 problem(s)" in text
