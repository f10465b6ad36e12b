"""The IPython extension against real processes: an in-process shell, a Jupyter kernel, a
terminal IPython in a pseudo-terminal. Root and eBPF (see conftest.py)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from queue import Empty
from typing import Any

import pytest

from httptap import contract
from tests.live.conftest import bpf_programs

PY = sys.executable


def test_shell_background_capture_sees_real_requests(
    http_server: int, prog: Any, tmp_path: Path
) -> None:
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython() or get_ipython()
    ip.run_line_magic("load_ext", "httptap")
    try:
        client = prog("client.py", str(http_server), "6", "/size/5")
        client.expect("ready")
        started = time.monotonic()
        ip.run_cell(f"""cap = %httptap {client.pid} --background --filter 'path~"i=[024]$"'""")
        attach_s = time.monotonic() - started
        # a second capture of the same process at once, through the privileged helper
        ip.run_cell(f"via_helper = %httptap {client.pid} --background --helper")
        cap, via_helper = ip.user_ns["cap"], ip.user_ns["via_helper"]
        assert cap.running and via_helper.running, (cap, via_helper)
        client.go()
        client.expect("done")
        got = cap.wait_for(3, timeout=20)
        assert [e.request.path for e in got] == ["/size/5?i=0", "/size/5?i=2", "/size/5?i=4"]
        assert all(e.status == 200 and e.response.body.data == b"xxxxx" for e in got)
        assert all(e.connection.pid == client.pid for e in got)
        assert got[0].request.header("authorization") == "Bearer ****"  # masked at the source
        assert [e.request.path for e in cap.filter('path~"4$"')] == ["/size/5?i=4"]
        # both paths give the same exchanges
        other = via_helper.wait_for(6, timeout=20)
        assert [e.request.path for e in other] == [f"/size/5?i={i}" for i in range(6)]
        assert all(e.request.header("authorization") == "Bearer ****" for e in other)
        # the handle's exports hold the mask, never the token client.py sent
        for handle in (cap, via_helper):
            for path in (handle.to_har(tmp_path / f"{id(handle)}.har"),
                         handle.to_jsonl(tmp_path / f"{id(handle)}.jsonl")):
                text = path.read_text()
                assert "Bearer ****" in text and "s3cret-token" not in text, path
        assert [contract.to_dict(e)["response"] for e in other[::2]] == [
            contract.to_dict(e)["response"] for e in got
        ]
        ip.run_cell("%httptap list")
        started = time.monotonic()
        ip.run_line_magic("httptap", f"stop {client.pid}")
        stop_s = time.monotonic() - started
        assert not cap.running and not via_helper.running
        assert bpf_programs(os.getpid()) == set()  # detached: no probe left in this process
        print(f"attach {attach_s:.2f} s, stop of both {stop_s:.2f} s", file=sys.stderr)
    finally:
        ip.run_line_magic("unload_ext", "httptap")


def test_jupyter_kernel_updates_the_cell_output(http_server: int, prog: Any) -> None:
    """A real ipykernel: the magic returns, other cells run, the table updates in place."""
    jupyter_client = pytest.importorskip("jupyter_client")
    pytest.importorskip("ipykernel")
    client = prog("client.py", str(http_server), "8", "/size/7")
    client.expect("ready")
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.kernel_spec_manager.ensure_native_kernel = True
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        _run(kc, "%load_ext httptap")
        started = time.monotonic()
        msgs = _run(kc, f"cap = %httptap {client.pid}")
        returned_s = time.monotonic() - started
        shown = [m for m in msgs if m["msg_type"] == "display_data"]
        assert shown, [m["msg_type"] for m in msgs]
        display_id = shown[0]["content"]["transient"]["display_id"]
        assert "text/html" in shown[0]["content"]["data"]

        client.go()
        client.expect("done")
        # other cells run while the table updates arrive
        updates: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            msgs = _run(kc, "print(len(cap.exchanges))")
            updates += [m for m in msgs if m["msg_type"] == "update_display_data"]
            updates += _drain(kc)
            if any("?i=7" in _text(u) for u in updates):
                break
        assert updates, "no update_display_data arrived"
        assert all(u["content"]["transient"]["display_id"] == display_id for u in updates)
        last = _text(updates[-1])
        assert "/size/7?i=7" in last and "200" in last
        assert "/size/7?i=0" in updates[-1]["content"]["data"]["text/html"]
        out = _stdout(_run(kc, "cap.stop(); print(len(cap.exchanges), cap.running)"))
        assert out.split() == ["8", "False"]
        print(f"kernel: %httptap returned in {returned_s:.2f} s, {len(updates)} update(s)",
              file=sys.stderr)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def test_terminal_ipython_live_table_and_ctrl_c(http_server: int, prog: Any) -> None:
    """IPython in a pseudo-terminal: the table holds the prompt; Ctrl-C gives it back."""
    pexpect = pytest.importorskip("pexpect")
    client = prog("client.py", str(http_server), "4", "/size/3")
    client.expect("ready")
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120", "LINES": "40"}
    child = pexpect.spawn(
        PY, ["-m", "IPython", "--no-banner", "--colors=nocolor", "--no-confirm-exit",
             "--HistoryManager.enabled=False", "--TerminalInteractiveShell.simple_prompt=True"],
        env=env, encoding="utf-8", timeout=30, dimensions=(40, 120),
    )
    try:
        child.expect(r"In \[1\]")
        child.sendline("%load_ext httptap")
        child.expect(r"In \[2\]")
        child.sendline(f"cap = %httptap {client.pid}")
        child.expect("Ctrl-C: back to the prompt")  # the live table is up
        client.go()
        client.expect("done")
        child.expect(r"/size/3\?i=3")  # drawn in place while the prompt is held
        child.sendintr()
        child.expect("goes on in the background")
        child.expect(r"In \[3\]")
        child.sendline("print(len(cap.exchanges), cap.running)")
        child.expect(r"4 True")
        child.sendline("exit")  # atexit detaches the capture still running
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


# -- jupyter_client helpers ---------------------------------------------------------------------


def _run(kc: Any, code: str, timeout: float = 30) -> list[dict[str, Any]]:
    """Execute ``code``; the iopub messages it produced, until the kernel is idle again."""
    msg_id = kc.execute(code)
    msgs = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Empty:
            continue
        msgs.append(msg)
        if msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                and msg["parent_header"].get("msg_id") == msg_id):
            return msgs
    raise TimeoutError(f"kernel did not finish {code!r}")


def _drain(kc: Any) -> list[dict[str, Any]]:
    out = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=0.3)
        except Empty:
            return out
        if msg["msg_type"] == "update_display_data":
            out.append(msg)


def _text(msg: dict[str, Any]) -> str:
    return str(msg["content"]["data"].get("text/plain", ""))


def _stdout(msgs: list[dict[str, Any]]) -> str:
    return "".join(m["content"]["text"] for m in msgs
                   if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")


def test_a_shell_forking_curl_80_times_keeps_the_status_short(http_server: int) -> None:
    """Each curl is a traced child that exits: counted in the status, listed in .exited."""
    import subprocess

    from httptap.ipython_ext.handle import CaptureHandle

    from httptap.engine.api import open_capture

    url = f"http://127.0.0.1:{http_server}/size/1"
    sh = subprocess.Popen(
        ["sh", "-c", f"read go; for i in $(seq 80); do curl -s -o /dev/null {url}; done; "
                     "echo done; read end"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    handle = CaptureHandle(open_capture([sh.pid]), [sh.pid]).start()
    try:
        assert sh.stdin is not None and sh.stdout is not None
        sh.stdin.write("go\n")
        sh.stdin.flush()
        assert sh.stdout.readline().strip() == "done"
        got = handle.wait_for(80, timeout=30)
        assert len(got) == 80 and all(e.status == 200 for e in got)
        deadline = time.monotonic() + 10
        while len(handle.exited) < 80 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = len(handle.exited)  # 80 curls (and the $(seq) subshell)
        assert children >= 80 and sh.pid not in handle.exited
        summary = handle.summary()
        assert f"{children} child processes exited" in summary, summary
        assert f"tracing PID {sh.pid}" in summary, summary
        assert len(repr(handle)) < 200, repr(handle)
    finally:
        handle.stop()
        sh.kill()
        sh.wait()
