"""The Neovim client (lsp/nvim) as a real editor: headless nvim starts httptap-lsp through the
plugin, attaches (replayed traffic), and the test reads the side panel, lenses and detail."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from httptap.model import Role
from tests.unit.test_lsp_server import (
    APP,
    FETCH_LINE,
    ORDERS_LINE,
    USER_LINE,
    make_exchange,
    write_session,
)

PLUGIN = Path(__file__).resolve().parents[2] / "lsp" / "nvim"
NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(
    NVIM is None, reason="neovim is not installed (apt-get install neovim)"
)

SCRIPT = r"""
local out = {}
local function wait(what, ms, pred)
  if not vim.wait(ms, pred, 20) then error("timed out waiting for " .. what) end
end
local ok, err = pcall(function()
  vim.opt.rtp:prepend(CFG.plugin)
  vim.cmd("filetype on")
  local httptap = require("httptap")
  httptap.setup({ cmd = { CFG.python, "-m", "httptap.lsp.server" },
                  cmd_env = { HTTPTAP_LSP_REPLAY = CFG.session } })
  vim.cmd("edit " .. CFG.app)
  local buf = vim.api.nvim_get_current_buf()
  wait("the client", 15000, function()
    local c = httptap.client()
    return c ~= nil and c.initialized
  end)

  vim.cmd("HttptapAttach 4242")
  wait("panel rows", 10000, function() return #httptap.panel_lines() >= 2 + CFG.n end)
  out.panel = httptap.panel_lines()

  wait("code lenses", 10000, function() return #vim.lsp.codelens.get(buf) >= 3 end)
  out.lenses = {}
  for _, l in ipairs(vim.lsp.codelens.get(buf)) do
    out.lenses[tostring(l.range.start.line)] = l.command.title
  end
  -- the lens text is drawn as virtual text on its line
  local ns = vim.lsp.codelens.__namespaces[httptap.client().id]
  local marks = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
  out.virtual = {}
  for _, m in ipairs(marks) do
    local chunks = m[4].virt_text
    if chunks then out.virtual[tostring(m[2])] = chunks[1][1] end
  end

  -- running the lens on the orders route shows only its requests in the panel
  vim.api.nvim_win_set_cursor(0, { CFG.orders_line + 1, 0 })
  vim.lsp.codelens.run()
  wait("the lens panel", 5000, function() return #httptap.panel_lines() == 4 end)
  out.lens_panel = httptap.panel_lines()

  -- a request appended to the session shows up live (pending, then answered)
  vim.cmd("HttptapPanel")
  wait("the full panel", 5000, function() return #httptap.panel_lines() == 2 + CFG.n end)
  local f = io.open(CFG.session, "a"); f:write(CFG.pending_line .. "\n"); f:close()
  wait("the pending row", 5000, function()
    return httptap.panel_lines()[3]:match("pending") ~= nil
  end)
  out.pending_row = httptap.panel_lines()[3]
  f = io.open(CFG.session, "a"); f:write(CFG.answered_line .. "\n"); f:close()
  wait("the answered row", 5000, function()
    return httptap.panel_lines()[3]:match("^503") ~= nil
  end)
  out.answered_row = httptap.panel_lines()[3]
  out.rows_after = #httptap.panel_lines()

  -- <CR> on a row opens the exchange
  local panel_win = vim.fn.bufwinid("httptap://requests")
  vim.api.nvim_set_current_win(panel_win)
  vim.api.nvim_win_set_cursor(panel_win, { 3, 0 })
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)
  wait("the detail buffer", 5000, function() return #httptap.detail_lines() > 3 end)
  out.detail = httptap.detail_lines()

  vim.cmd("HttptapFilter status>=500")
  wait("the filtered panel", 5000, function() return #httptap.panel_lines() == 4 end)
  out.filtered = httptap.panel_lines()

  -- a bad filter: the error's caret stays under the column as the message shows it
  local notes = {}
  local orig_notify = vim.notify
  vim.notify = function(msg) table.insert(notes, msg) end
  vim.cmd("HttptapFilter method=GET and status>=oops")
  wait("the filter error", 5000, function()
    for _, m in ipairs(notes) do if m:match("bad filter") then out.filter_error = m end end
    return out.filter_error ~= nil
  end)
  vim.notify = orig_notify

  vim.cmd("HttptapDetach")
  wait("detach", 5000, function() return httptap.panel_lines()[1]:match("detached") ~= nil end)
  out.header_after_detach = httptap.panel_lines()[1]
end)
out.ok = ok
out.err = err and tostring(err) or vim.NIL
local fh = io.open(CFG.out, "w")
fh:write(vim.fn.json_encode(out))
fh:close()
vim.cmd("qa!")
"""


def test_neovim_panel_lenses_and_detail(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    session = tmp_path / "session.jsonl"
    traffic = [make_exchange(i, "GET", f"/users/{i}", 200, 2.0 + i) for i in range(4)]
    traffic += [make_exchange(10, "POST", "/orders", 500, 30.0)]
    traffic += [make_exchange(11, "POST", "/orders", 201, 20.0)]
    traffic += [make_exchange(12, "GET", "/v1/things/1", 200, 9.0, role=Role.CLIENT,
                              host="localhost:9000")]
    write_session(session, traffic)
    late = tmp_path / "late.jsonl"
    write_session(late, [make_exchange(13, "DELETE", "/users/9", None, 0, complete=False),
                         make_exchange(13, "DELETE", "/users/9", 503, 4.0)])
    pending_line, answered_line = late.read_text().splitlines()
    out = tmp_path / "out.json"
    cfg = {
        "plugin": str(PLUGIN), "python": sys.executable, "session": str(session),
        "app": str(app), "out": str(out), "n": len(traffic), "orders_line": ORDERS_LINE,
        "pending_line": pending_line, "answered_line": answered_line,
    }
    script = tmp_path / "test.lua"
    script.write_text(f"local CFG = vim.fn.json_decode([==[{json.dumps(cfg)}]==])\n{SCRIPT}")
    subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {script}"],
        cwd=tmp_path, timeout=60, check=False, stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    res = json.loads(out.read_text())
    assert res["ok"], res["err"]

    panel = res["panel"]
    assert panel[0] == "httptap · pid 4242 · capturing · 7 stored"
    assert panel[1].split() == ["STAT", "METHOD", "PATH", "LATENCY", "SIZE"]
    assert [row.split()[:3] for row in panel[2:]] == [
        ["200", "GET", "http://localhost:9000/v1/things/1"],
        ["201", "POST", "/orders"],
        ["500", "POST", "/orders"],
        ["200", "GET", "/users/3"],
        ["200", "GET", "/users/2"],
        ["200", "GET", "/users/1"],
        ["200", "GET", "/users/0"],
    ]
    assert panel[4].split()[3:] == ["30", "ms", "11B"]

    assert res["lenses"] == {
        str(USER_LINE): "GET ×4 · 200 ×4 · p50 3.0 ms p95 5.0 ms",
        str(ORDERS_LINE): "POST ×2 · 201 ×1 500 ×1 · p50 20 ms p95 30 ms",
        str(FETCH_LINE): "GET ×1 · 200 ×1 · p50 9.0 ms p95 9.0 ms",
        "6": "GET ×1 · 200 ×1 · p50 9.0 ms p95 9.0 ms",
    }
    assert res["virtual"][str(USER_LINE)] == res["lenses"][str(USER_LINE)]

    assert res["lens_panel"][0].endswith("lens: POST /orders")
    assert [row.split()[0] for row in res["lens_panel"][2:]] == ["201", "500"]

    assert res["pending_row"].split()[:4] == ["...", "DELETE", "/users/9", "pending"]
    assert res["answered_row"].split()[:3] == ["503", "DELETE", "/users/9"]
    assert res["rows_after"] == 2 + len(traffic) + 1  # replaced where it stood

    assert res["detail"][0] == "DELETE http://127.0.0.1:8000/users/9"
    assert "HTTP/1.1 503 Internal Server Error" in res["detail"]

    assert res["filtered"][0].endswith("filter: status>=500")
    assert [row.split()[0] for row in res["filtered"][2:]] == ["503", "500"]
    assert "detached" in res["header_after_detach"]

    first, caret = res["filter_error"].splitlines()[:2]
    assert first == "httptap: bad filter: method=GET and status>=oops"
    assert caret.index("^") == first.index("oops")
