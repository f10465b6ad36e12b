-- httptap for Neovim (0.7+): starts httptap-lsp for Python buffers, shows code lenses with the
-- traffic of routes and URL literals, and a side panel of recent requests fed live by the
-- server's httptap/didCapture notification.
--
--   require("httptap").setup({ cmd = { "httptap-lsp" } })
--
-- Commands: :HttptapAttach [pid [filter]]  (no pid: pick from httptap/processes)
--           :HttptapDetach  :HttptapFilter [filter]  :HttptapPanel  :HttptapStats
-- In the panel: <CR> opens the request under the cursor, r reloads, q closes.
-- Running a code lens (vim.lsp.codelens.run()) opens the panel on that line's requests.

local M = {}

M.config = {
  cmd = { "httptap-lsp" },
  cmd_env = nil,
  filetypes = { "python" },
  root_markers = { ".git", "pyproject.toml", "setup.py", "setup.cfg" },
  init_options = {},
  max_rows = 500,
  panel_width = 72,
}

local state = {
  client_id = nil,
  rows = {}, -- summaries, newest first
  by_id = {},
  filter = nil,
  target = nil, -- { uri, line, label } when the panel shows one lens's requests
  status = {},
  panel_buf = nil,
  detail_buf = nil,
  line_ids = {}, -- panel line number -> exchange id
  reload_pending = false,
}

local function nz(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

local PREFIX = "httptap: "

local function notify(msg, level)
  -- later lines are indented like the first, so a filter error's caret stays under its column
  local text = PREFIX .. msg:gsub("\n", "\n" .. string.rep(" ", #PREFIX))
  vim.notify(text, level or vim.log.levels.INFO)
end

-- -- formatting ---------------------------------------------------------------------------

local function fmt_ms(ms)
  ms = nz(ms)
  if ms == nil then
    return "-"
  elseif ms < 1 then
    return string.format("%.2f ms", ms)
  elseif ms < 10 then
    return string.format("%.1f ms", ms)
  elseif ms < 1000 then
    return string.format("%.0f ms", ms)
  end
  return string.format("%.2f s", ms / 1000)
end

local function fmt_size(n)
  n = nz(n) or 0
  if n < 1024 then
    return n .. "B"
  elseif n < 1024 * 1024 then
    return string.format("%.1fK", n / 1024)
  end
  return string.format("%.1fM", n / 1024 / 1024)
end

--- One panel row: status, method, path (or URL for outbound), latency, size.
function M.format_row(s)
  local status
  if s.pending then
    status = "..."
  else
    status = tostring(nz(s.status) or "---")
  end
  local where = s.role == "client" and s.url or s.path
  local latency = s.pending and "pending" or fmt_ms(s.latency_ms)
  return string.format("%-4s %-7s %-38s %9s %7s", status, s.method, where, latency, fmt_size(s.size))
end

local function header_lines()
  local st = state.status
  local parts = { "httptap" }
  if nz(st.pid) then
    table.insert(parts, "pid " .. st.pid)
  end
  if st.attached then
    table.insert(parts, st.ready and "capturing" or "attaching")
  elseif nz(st.pid) then
    table.insert(parts, "detached")
  else
    table.insert(parts, "not attached (:HttptapAttach)")
  end
  table.insert(parts, (nz(st.stored) or #state.rows) .. " stored")
  if state.filter then
    table.insert(parts, "filter: " .. state.filter)
  end
  if state.target then
    table.insert(parts, "lens: " .. state.target.label)
  end
  local err = nz(st.error)
  local lines = { table.concat(parts, " · ") }
  if err then
    table.insert(lines, "error: " .. err.message .. (err.remedy ~= "" and (" — " .. err.remedy) or ""))
  end
  table.insert(lines, string.format("%-4s %-7s %-38s %9s %7s", "STAT", "METHOD", "PATH", "LATENCY", "SIZE"))
  return lines
end

-- -- panel ----------------------------------------------------------------------------------

local function panel_valid()
  return state.panel_buf ~= nil and vim.api.nvim_buf_is_valid(state.panel_buf)
end

--- Redraw the panel buffer from the rows (no-op when it is not open).
function M.render()
  if not panel_valid() then
    return
  end
  local lines = header_lines()
  state.line_ids = {}
  for _, s in ipairs(state.rows) do
    table.insert(lines, M.format_row(s))
    state.line_ids[#lines] = s.id
  end
  local buf = state.panel_buf
  vim.api.nvim_buf_set_option(buf, "modifiable", true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.api.nvim_buf_set_option(buf, "modifiable", false)
end

local function panel_buffer()
  if panel_valid() then
    return state.panel_buf
  end
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, "httptap://requests")
  vim.api.nvim_buf_set_option(buf, "buftype", "nofile")
  vim.api.nvim_buf_set_option(buf, "bufhidden", "hide")
  vim.api.nvim_buf_set_option(buf, "swapfile", false)
  vim.api.nvim_buf_set_option(buf, "filetype", "httptap")
  local opts = { buffer = buf, silent = true }
  vim.keymap.set("n", "<CR>", function()
    M.open_detail()
  end, opts)
  vim.keymap.set("n", "r", function()
    M.reload()
  end, opts)
  vim.keymap.set("n", "q", function()
    M.close_panel()
  end, opts)
  state.panel_buf = buf
  return buf
end

--- Open (or focus) the side panel in a vertical split on the right.
function M.open_panel()
  local buf = panel_buffer()
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    local prev = vim.api.nvim_get_current_win()
    vim.cmd("botright vertical " .. M.config.panel_width .. "split")
    vim.api.nvim_win_set_buf(0, buf)
    vim.api.nvim_win_set_option(0, "number", false)
    vim.api.nvim_win_set_option(0, "wrap", false)
    vim.api.nvim_set_current_win(prev)
  end
  M.render()
  return buf
end

function M.close_panel()
  if panel_valid() then
    local win = vim.fn.bufwinid(state.panel_buf)
    if win ~= -1 then
      vim.api.nvim_win_close(win, true)
    end
  end
end

--- The panel's lines (for tests and statuslines).
function M.panel_lines()
  if not panel_valid() then
    return {}
  end
  return vim.api.nvim_buf_get_lines(state.panel_buf, 0, -1, false)
end

-- -- the client -----------------------------------------------------------------------------

function M.client()
  return state.client_id and vim.lsp.get_client_by_id(state.client_id) or nil
end

local function request(method, params, on_result)
  local client = M.client()
  if not client then
    notify("the language server is not running (open a Python file)", vim.log.levels.WARN)
    return
  end
  client.request(method, params, function(err, result)
    if err then
      local data = nz(err.data)
      local remedy = data and nz(data.remedy)
      notify(err.message .. (remedy and ("\n" .. remedy) or ""), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end, 0)
end

--- Ask the server for the rows matching the panel's filter or lens, then redraw.
function M.reload()
  state.reload_pending = false
  local params = { limit = M.config.max_rows, offset = 0 }
  if state.filter then
    params.filter = state.filter
  end
  if state.target then
    params.uri = state.target.uri
    params.line = state.target.line
  end
  request("httptap/exchanges", params, function(result)
    state.rows, state.by_id = {}, {}
    for _, s in ipairs(result.exchanges) do
      table.insert(state.rows, s)
      state.by_id[s.id] = s
    end
    M.render()
  end)
end

local function schedule_reload()
  if not state.reload_pending then
    state.reload_pending = true
    vim.defer_fn(M.reload, 100)
  end
end

--- Merge summaries from httptap/didCapture: a known id is replaced where it stands
--- (pending -> answered), a new one goes on top.
function M.merge(summaries)
  for _, s in ipairs(summaries) do
    local old = state.by_id[s.id]
    if old then
      for i, row in ipairs(state.rows) do
        if row.id == s.id then
          state.rows[i] = s
          break
        end
      end
    else
      table.insert(state.rows, 1, s)
    end
    state.by_id[s.id] = s
  end
  while #state.rows > M.config.max_rows do
    local gone = table.remove(state.rows)
    state.by_id[gone.id] = nil
  end
end

local function refresh_lenses()
  local client = M.client()
  if not client then
    return
  end
  for buf, _ in pairs(client.attached_buffers or {}) do
    if vim.api.nvim_buf_is_loaded(buf) then
      local params = { textDocument = { uri = vim.uri_from_bufnr(buf) } }
      client.request("textDocument/codeLens", params, vim.lsp.codelens.on_codelens, buf)
    end
  end
end
M.refresh_lenses = refresh_lenses

local handlers = {
  ["httptap/didCapture"] = function(_, params)
    if state.filter or state.target then
      schedule_reload() -- the server applies filters and lens matching
    else
      M.merge(params.exchanges)
      M.render()
    end
    state.status.stored = params.stored
  end,
  ["httptap/didChangeState"] = function(_, params)
    state.status = params
    M.render()
  end,
  ["workspace/codeLens/refresh"] = function()
    vim.schedule(refresh_lenses)
    return vim.NIL
  end,
}

local function root_for(buf)
  local path = vim.api.nvim_buf_get_name(buf)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  for _, marker in ipairs(M.config.root_markers) do
    local found = vim.fn.finddir(marker, dir .. ";")
    if found == "" then
      found = vim.fn.findfile(marker, dir .. ";")
    end
    if found ~= "" then
      return vim.fn.fnamemodify(found, ":p:h:h")
    end
  end
  return dir
end

--- Start the server (once) and attach it to ``buf``.
function M.attach_buffer(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  if not M.client() then
    local caps = vim.lsp.protocol.make_client_capabilities()
    caps.workspace = caps.workspace or {}
    caps.workspace.codeLens = { refreshSupport = true }
    state.client_id = vim.lsp.start_client({
      name = "httptap",
      cmd = M.config.cmd,
      cmd_env = M.config.cmd_env,
      root_dir = root_for(buf),
      init_options = M.config.init_options,
      capabilities = caps,
      handlers = handlers,
      on_exit = function()
        state.client_id = nil
      end,
    })
  end
  if state.client_id then
    vim.lsp.buf_attach_client(buf, state.client_id)
  end
end

-- -- actions --------------------------------------------------------------------------------

function M.attach(pid, filter)
  request("httptap/attach", { pid = pid, filter = filter }, function(result)
    state.status = result
    state.rows, state.by_id = {}, {}
    notify("attached to " .. pid .. (filter and (" (" .. filter .. ")") or ""))
    M.open_panel()
  end)
end

function M.pick_and_attach(filter)
  request("httptap/processes", {}, function(result)
    local procs = result.processes
    if #procs == 0 then
      notify("no process runs from this workspace; :HttptapAttach PID", vim.log.levels.WARN)
      return
    end
    vim.ui.select(procs, {
      prompt = "Attach httptap to:",
      format_item = function(p)
        local listen = (p.listening and #p.listening > 0) and ("  [" .. table.concat(p.listening, " ") .. "]") or ""
        return string.format("%7d  %s%s", p.pid, p.cmdline, listen)
      end,
    }, function(choice)
      if choice then
        M.attach(choice.pid, filter)
      end
    end)
  end)
end

function M.detach()
  request("httptap/detach", {}, function(result)
    state.status = result
    M.render()
  end)
end

function M.set_filter(text)
  if text == "" then
    text = nil
  end
  state.filter = text
  M.open_panel()
  M.reload()
end

--- The panel on one lens's requests (what running a lens does).
function M.show_target(arg)
  state.target = { uri = arg.uri, line = arg.line, label = arg.label }
  M.open_panel()
  M.reload()
end

--- Open the exchange under the cursor of the panel (or ``id``) in a read-only buffer.
function M.open_detail(id)
  id = id or state.line_ids[vim.api.nvim_win_get_cursor(0)[1]]
  if not id then
    return
  end
  request("httptap/exchange", { id = id }, function(d)
    local buf = state.detail_buf
    if not (buf and vim.api.nvim_buf_is_valid(buf)) then
      buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(buf, "httptap://exchange")
      vim.api.nvim_buf_set_option(buf, "buftype", "nofile")
      vim.api.nvim_buf_set_option(buf, "bufhidden", "hide")
      vim.api.nvim_buf_set_option(buf, "filetype", "httptap")
      state.detail_buf = buf
    end
    vim.api.nvim_buf_set_option(buf, "modifiable", true)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(d.text, "\n", { plain = true }))
    vim.api.nvim_buf_set_option(buf, "modifiable", false)
    if vim.fn.bufwinid(buf) == -1 then
      vim.cmd("belowright split")
      vim.api.nvim_win_set_buf(0, buf)
    end
  end)
end

--- The detail buffer's lines (for tests).
function M.detail_lines()
  if state.detail_buf and vim.api.nvim_buf_is_valid(state.detail_buf) then
    return vim.api.nvim_buf_get_lines(state.detail_buf, 0, -1, false)
  end
  return {}
end

function M.stats()
  request("httptap/stats", {}, function(s)
    notify(string.format("pid %s · %s exchanges · %s stored · %s pending · %s lost", tostring(nz(s.pid)),
      s.exchanges, s.stored, s.pending, s.lost))
  end)
end

-- -- setup ----------------------------------------------------------------------------------

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", M.config, opts or {})
  local group = vim.api.nvim_create_augroup("httptap", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.config.filetypes,
    callback = function(ev)
      M.attach_buffer(ev.buf)
    end,
  })
  vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave" }, {
    group = group,
    callback = function(ev)
      local client = M.client()
      if client and client.attached_buffers and client.attached_buffers[ev.buf] then
        refresh_lenses()
      end
    end,
  })
  vim.api.nvim_create_user_command("HttptapAttach", function(a)
    local pid, filter = a.args:match("^%s*(%d+)%s*(.-)%s*$")
    if pid then
      M.attach(tonumber(pid), filter ~= "" and filter or nil)
    else
      M.pick_and_attach(a.args ~= "" and a.args or nil)
    end
  end, { nargs = "*", desc = "httptap: attach to a process (PID [filter])" })
  vim.api.nvim_create_user_command("HttptapDetach", M.detach, { desc = "httptap: stop capturing" })
  vim.api.nvim_create_user_command("HttptapFilter", function(a)
    M.set_filter(a.args)
  end, { nargs = "*", desc = "httptap: filter the panel (empty: clear)" })
  vim.api.nvim_create_user_command("HttptapPanel", function()
    state.target = nil
    M.open_panel()
    M.reload()
  end, { desc = "httptap: open the request panel" })
  vim.api.nvim_create_user_command("HttptapStats", M.stats, { desc = "httptap: capture totals" })
  vim.lsp.commands["httptap.showExchanges"] = function(command)
    M.show_target(command.arguments[1])
  end
end

return M
