"""The terminal UI over real captures: headless with Pilot, and in a real terminal (tmux)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid

from tests.unit.test_tui_app import run, screen_text, wait_for


def test_real_traffic_shows_up_in_the_ui(http_server, prog, attach):
    client = prog("client.py", str(http_server), "5", "/size/9")
    client.expect("ready")
    rec = attach(client.pid)

    async def body(pilot, app, cap):
        client.go()
        client.expect("done")
        await wait_for(pilot, lambda: sum(1 for ex in app.store if ex.complete) >= 5,
                       timeout=20)
        rows = [line for line in screen_text(app).splitlines() if "/size/9?i=" in line]
        assert len(rows) == 5, screen_text(app)
        for i, row in enumerate(rows):
            assert f"/size/9?i={i}" in row and " 200 " in row and "GET" in row
            assert str(client.pid) in row
        await pilot.press("enter")
        text = screen_text(app)
        assert "GET http://127.0.0.1" in text and "→ 200 OK" in text
        assert "Authorization: Bearer ****" in text and "s3cret-token" not in text
        await pilot.press("3")
        assert "xxxxxxxxx" in screen_text(app)

    app = run(body, capture=rec.capture, size=(120, 30))
    # The UI drained records() while the test's subscriber got the same exchanges.
    shown = {ex.id for ex in app.store if ex.complete}
    assert shown and shown <= {ex.id for ex in rec.exchanges}


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def test_ui_in_a_real_terminal_on_the_demo_service(tmp_path):
    """`httptap demo` on a real terminal (tmux) opens the UI on the demo client's traffic."""
    py = sys.executable
    session = f"httptap-{uuid.uuid4().hex[:8]}"
    status_file = tmp_path / "status"
    command = (f"{shlex.quote(py)} -m httptap.cli demo --interval 0.05; "
               f"echo $? > {status_file}")
    env = {"TERM": "xterm-256color", "PYTHONPATH": os.getcwd()}
    try:
        _tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30",
              *[f"-e{k}={v}" for k, v in env.items()], command)
        screen = ""
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            screen = _tmux("capture-pane", "-p", "-t", session)
            if "/error" in screen and "/missing" in screen and "/items" in screen:
                break
            time.sleep(0.3)
        assert "Time" in screen and "Latency" in screen, screen
        assert "PID " in screen, screen
        rows = [line for line in screen.splitlines() if "127.0.0.1" in line]
        assert any("/error" in r and " 500 " in r for r in rows), screen
        assert any("/missing" in r and " 404 " in r for r in rows), screen
        assert any("POST" in r and "/items" in r for r in rows), screen
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while not status_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status_file.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
