"""The CLI run in-process with an injected environment (no root: saved sessions only)."""

from __future__ import annotations

import io
import json

from httptap import contract
from httptap.cli.main import Environment, main
from httptap.model import Body, Connection, Exchange, Request, Response, Role, Timings


def _env() -> tuple[Environment, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Environment(stdout=out, stderr=err, stdout_isatty=False, columns=80,
                       install_signals=False), out, err


def _exchange(i: int, status: int) -> Exchange:
    return Exchange(
        id=str(i),
        connection=Connection(pid=42, tid=42, fd=5, local="127.0.0.1:5000",
                              remote="127.0.0.1:8080", role=Role.CLIENT),
        request=Request(method="GET", authority="127.0.0.1:8080", path=f"/items/{i}",
                        headers=[("Host", "127.0.0.1:8080")]),
        response=Response(status=status, reason="OK", body=Body(b"x" * i, i)),
        timings=Timings(0, 1_000_000, 2_000_000, 3_000_000),
        complete=True,
        wall_start=1_800_000_000.0 + i,
    )


def _session(tmp_path) -> str:
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(contract.to_dict(_exchange(i, 200 if i % 2 else 500)))
                            + "\n" for i in range(1, 7)))
    return str(path)


def test_open_prints_80_column_lines(tmp_path):
    env, out, err = _env()
    assert main(["--open", _session(tmp_path)], env) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 6
    assert all(len(line) <= 80 for line in lines)
    assert "GET" in lines[0] and "127.0.0.1:8080/items/1" in lines[0] and " 200 " in lines[0]
    assert "6 exchange(s) shown" in err.getvalue()


def test_open_with_filter_and_jsonl(tmp_path):
    env, out, _ = _env()
    assert main(["--open", _session(tmp_path), "--jsonl", "--filter", "status>=500"], env) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["path"] for r in rows] == ["/items/2", "/items/4", "/items/6"]
    assert all(r["v"] == 1 and r["status"] == 500 for r in rows)


def test_bad_filter_is_rejected_with_a_caret(tmp_path):
    env, out, err = _env()
    flt = "method=GET and status>=abc"
    assert main(["--open", _session(tmp_path), "--filter", flt], env) == 2
    first, caret = err.getvalue().splitlines()[:2]
    assert first == f"httptap: bad filter: {flt}"
    # the caret sits under "abc" as the terminal shows it, "httptap: " counted
    assert caret.index("^") == first.index(flt) + flt.index("abc")
    assert out.getvalue() == ""


def test_help_filter_lists_fields():
    env, out, _ = _env()
    assert main(["--help-filter"], env) == 0
    for field in ("status", "latency", "header.", "grpc.status"):
        assert field in out.getvalue()


def test_usage_errors_exit_2():
    env, _, err = _env()
    assert main([], env) == 2
    assert main(["--pid", "0"], env) == 2
    assert main(["--pid", "1", "--count", "0"], env) == 2
    assert "error" in err.getvalue()


def test_missing_session_file_is_a_clear_error(tmp_path):
    env, _, err = _env()
    assert main(["--open", str(tmp_path / "nope.har")], env) == 1
    assert "nope.har" in err.getvalue() and "Traceback" not in err.getvalue()


def test_save_refuses_to_clobber(tmp_path):
    target = tmp_path / "out.har"
    target.write_text("keep me")
    env, _, err = _env()
    assert main(["--open", _session(tmp_path), "--save", str(target)], env) == 2
    assert target.read_text() == "keep me"
    assert "out.har" in err.getvalue()
    env, _, _ = _env()
    assert main(["--open", _session(tmp_path), "--save", str(target), "--force"], env) == 0
    har = json.loads(target.read_text())
    assert len(har["log"]["entries"]) == 6


def test_history_bounds_the_full_screen_ui(tmp_path, monkeypatch):
    import httptap.ui.app as ui_app

    seen = {}

    def fake_run_tui(capture, **kwargs):
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(ui_app, "run_tui", fake_run_tui)
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdout_isatty=True, columns=80,
                      install_signals=False)
    assert main(["--open", _session(tmp_path), "--history", "3"], env) == 0
    assert seen["history"] == 3
    assert main(["--open", _session(tmp_path)], env) == 0
    assert seen["history"] == 10_000
    env, _, err = _env()
    assert main(["--open", _session(tmp_path), "--history", "0"], env) == 2
    assert "--history" in err.getvalue()


def _refusing_env(seen: list) -> Environment:
    from httptap.engine.api import CaptureError

    def open_capture(pids, options):
        seen.append(options)
        raise CaptureError("stop here", "")

    env, _, _ = _env()
    env.open_capture = open_capture
    return env


def test_body_limit_zero_is_headers_only_not_a_usage_error():
    seen: list = []
    assert main(["--pid", "1", "--body-limit", "0"], _refusing_env(seen)) == 1  # not 2
    assert seen[-1].body_limit == 0


def test_shared_option_defaults_reach_the_engine():
    from httptap.options import DEFAULT_BODY_LIMIT, DEFAULT_RING_KIB

    seen: list = []
    main(["--pid", "1"], _refusing_env(seen))
    assert (seen[-1].body_limit, seen[-1].ring_kib) == (DEFAULT_BODY_LIMIT, DEFAULT_RING_KIB)
    env, _, err = _env()
    assert main(["--pid", "1", "--body-limit", "-1"], env) == 2
    assert "--body-limit" in err.getvalue()
