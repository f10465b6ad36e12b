// httptap for VS Code: starts httptap-lsp (stdio) with vscode-languageclient and shows the
// traced process's requests in an activity-bar panel fed live by httptap/didCapture.
// Code lenses, hovers and diagnostics come from the server through the standard client.
// The panel's logic lives in model.ts (no 'vscode' import; unit-tested in plain node).

import * as vscode from "vscode";
import {
  ExecuteCommandSignature,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";

import {
  DETAIL_SCHEME,
  DidCapture,
  ExchangeSummary,
  LensTarget,
  ProcessInfo,
  RequestList,
  Stats,
  detailPath,
  errorText,
  exchangesParams,
  harEntryCount,
  harFileName,
  harParams,
  idFromDetailPath,
  needsReload,
  panelDescription,
  parsePid,
  processPick,
  rowDescription,
  rowLabel,
  rowTooltip,
  serverSettings,
  serverSupports,
  stateError,
  statusIcon,
} from "./model";

const VIEW_ID = "httptapRequests";
const SHOW_EXCHANGES = "httptap.showExchanges"; // the server's code-lens command

let client: LanguageClient | undefined;
let starting: Promise<LanguageClient | undefined> | undefined;

class RequestTree implements vscode.TreeDataProvider<ExchangeSummary> {
  readonly list: RequestList;
  stats: Stats | undefined;
  filter: string | undefined;
  target: LensTarget | undefined;
  private readonly changed = new vscode.EventEmitter<ExchangeSummary | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(maxRows: number) {
    this.list = new RequestList(maxRows);
  }

  refresh(): void {
    this.changed.fire();
  }

  getChildren(element?: ExchangeSummary): ExchangeSummary[] {
    return element ? [] : this.list.rows();
  }

  getTreeItem(s: ExchangeSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(rowLabel(s), vscode.TreeItemCollapsibleState.None);
    item.id = s.id;
    item.description = rowDescription(s);
    item.tooltip = rowTooltip(s);
    const { icon, color } = statusIcon(s);
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = s.pending ? "pending" : "exchange";
    item.command = { command: "httptapView.openExchange", title: "Open Request", arguments: [s] };
    return item;
  }
}

class DetailProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = idFromDetailPath(uri.path);
    if (id === undefined) {
      return `httptap: not an exchange: ${uri.toString()}`;
    }
    const c = await ensureClient();
    if (!c) {
      return "httptap: the language server is not running";
    }
    try {
      const d = await c.sendRequest<{ text?: string }>("httptap/exchange", { id });
      return d.text ?? JSON.stringify(d, null, 2);
    } catch (err) {
      return `httptap: ${errorText(err)}`;
    }
  }

  /** Re-read the open detail documents of `ids` (a pending request got its answer). */
  update(ids: readonly string[]): void {
    if (!ids.length) {
      return;
    }
    const wanted = new Set(ids);
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme === DETAIL_SCHEME) {
        const id = idFromDetailPath(doc.uri.path);
        if (id !== undefined && wanted.has(id)) {
          this.changed.fire(doc.uri);
        }
      }
    }
  }
}

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration("httptap");
}

let tree: RequestTree;
let view: vscode.TreeView<ExchangeSummary>;
let details: DetailProvider;
let output: vscode.OutputChannel;
let reloadTimer: NodeJS.Timeout | undefined;

function render(): void {
  view.description = panelDescription(tree.stats, tree.filter, tree.target);
  view.message = stateError(tree.stats);
  tree.refresh();
}

function createClient(): LanguageClient {
  const cfg = config();
  const serverOptions: ServerOptions = {
    command: cfg.get<string>("serverPath") || "httptap-lsp",
    args: cfg.get<string[]>("serverArgs") ?? [],
    options: { env: { ...process.env, ...(cfg.get<Record<string, string>>("serverEnv") ?? {}) } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    initializationOptions: serverSettings((key) => cfg.get(key)),
    synchronize: { configurationSection: "httptap" },
    outputChannel: output,
    middleware: {
      // running a code lens shows its requests in the panel instead of a bare server answer
      executeCommand: (command: string, args: unknown[], next: ExecuteCommandSignature) => {
        if (command === SHOW_EXCHANGES) {
          return showTarget(args[0]);
        }
        return next(command, args);
      },
    },
  };
  const c = new LanguageClient("httptap", "httptap", serverOptions, clientOptions);
  c.onNotification("httptap/didCapture", (note: DidCapture) => onCapture(note));
  c.onNotification("httptap/didChangeState", (stats: Stats) => {
    tree.stats = stats;
    render();
  });
  return c;
}

/** The running client, starting it if needed; undefined (and an error shown) if it cannot start. */
async function ensureClient(): Promise<LanguageClient | undefined> {
  if (client && client.state === State.Running) {
    return client;
  }
  if (!starting) {
    starting = (async () => {
      const c = client ?? createClient();
      client = c;
      try {
        await c.start();
        tree.stats = await c.sendRequest<Stats>("httptap/stats", {});
        render();
        return c;
      } catch (err) {
        client = undefined;
        const path = config().get<string>("serverPath") || "httptap-lsp";
        void vscode.window
          .showErrorMessage(
            `httptap: could not start the language server (${path}): ${errorText(err)}. ` +
              "Install httptap (pip install httptap) or set httptap.serverPath.",
            "Open Settings",
          )
          .then((pick) => {
            if (pick) {
              void vscode.commands.executeCommand("workbench.action.openSettings", "httptap.serverPath");
            }
          });
        try {
          await c.dispose();
        } catch {
          // already gone
        }
        return undefined;
      } finally {
        starting = undefined;
      }
    })();
  }
  return starting;
}

async function request<T>(method: string, params: unknown): Promise<T | undefined> {
  const c = await ensureClient();
  if (!c) {
    return undefined;
  }
  try {
    return await c.sendRequest<T>(method, params);
  } catch (err) {
    void vscode.window.showErrorMessage(`httptap: ${errorText(err)}`);
    return undefined;
  }
}

function onCapture(note: DidCapture): void {
  if (tree.stats && note.stored !== undefined) {
    tree.stats = { ...tree.stats, stored: note.stored, pending: note.pending };
  }
  if (needsReload(note, tree.filter, tree.target)) {
    scheduleReload();
  } else {
    const replaced = tree.list.merge(note.exchanges ?? []);
    details.update(replaced);
    render();
  }
}

function scheduleReload(): void {
  if (!reloadTimer) {
    reloadTimer = setTimeout(() => {
      reloadTimer = undefined;
      void reload();
    }, 150);
  }
}

/** Load the panel's view (filter, lens) from `httptap/exchanges`. */
async function reload(): Promise<boolean> {
  const c = await ensureClient();
  if (!c) {
    return false;
  }
  try {
    const page = await c.sendRequest<{ exchanges: ExchangeSummary[] }>(
      "httptap/exchanges",
      exchangesParams(tree.list.max, tree.filter, tree.target),
    );
    const before = new Map(tree.list.rows().map((s) => [s.id, s.pending]));
    tree.list.replaceAll(page.exchanges ?? []);
    details.update(tree.list.rows().filter((s) => before.get(s.id) === true && !s.pending).map((s) => s.id));
    render();
    return true;
  } catch (err) {
    void vscode.window.showErrorMessage(`httptap: ${errorText(err)}`);
    return false;
  }
}

async function showTarget(arg: unknown): Promise<void> {
  const a = (arg ?? {}) as { uri?: unknown; line?: unknown; label?: unknown };
  if (typeof a.uri !== "string" || typeof a.line !== "number") {
    return;
  }
  tree.target = { uri: a.uri, line: a.line, label: typeof a.label === "string" ? a.label : undefined };
  await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
  await reload();
}

async function attach(): Promise<void> {
  const found = await request<{ processes: ProcessInfo[] }>("httptap/processes", {});
  if (!found) {
    return;
  }
  const pid = await pickProcess(found.processes);
  if (pid === undefined) {
    return;
  }
  const stats = await vscode.window.withProgress(
    { location: { viewId: VIEW_ID }, title: `httptap: attaching to ${pid}` },
    () => request<Stats>("httptap/attach", { pid }),
  );
  if (stats) {
    tree.stats = stats;
    tree.list.clear(); // a new capture starts with an empty history
    tree.target = undefined;
    render();
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    if (tree.filter) {
      await reload();
    }
  }
}

async function pickProcess(workspace: ProcessInfo[]): Promise<number | undefined> {
  type Item = vscode.QuickPickItem & { pid?: number; action?: "all" | "type" };
  const items: Item[] = workspace.map(processPick);
  items.push(
    { label: "$(list-flat) Show every process…", action: "all" },
    { label: "$(edit) Enter a PID…", action: "type" },
  );
  const placeHolder = workspace.length
    ? "Attach httptap to a process running from this workspace"
    : "No process runs from this workspace: show every process, or enter a PID";
  const pick = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true });
  if (!pick) {
    return undefined;
  }
  if (pick.action === "all") {
    const all = await request<{ processes: ProcessInfo[] }>("httptap/processes", { all: true });
    if (!all) {
      return undefined;
    }
    const every = await vscode.window.showQuickPick(all.processes.map(processPick), {
      placeHolder: "Attach httptap to",
      matchOnDescription: true,
      matchOnDetail: true,
    });
    return every?.pid;
  }
  if (pick.action === "type") {
    const text = await vscode.window.showInputBox({
      prompt: "PID of the process to capture",
      validateInput: (v) => (parsePid(v) === undefined ? "a process id: digits" : undefined),
    });
    return text === undefined ? undefined : parsePid(text);
  }
  return pick.pid;
}

async function detach(): Promise<void> {
  const stats = await request<Stats>("httptap/detach", {});
  if (stats) {
    tree.stats = stats;
    render();
  }
}

async function setFilter(): Promise<void> {
  const c = await ensureClient();
  if (!c) {
    return;
  }
  const text = await vscode.window.showInputBox({
    title: "httptap: filter the panel (empty: show all)",
    value: tree.filter ?? "",
    placeHolder: 'status>=400 and path~"^/api"',
    prompt: "httptap filter language (httptap --help-filter); the server checks it as you type",
    validateInput: async (value) => {
      if (!value.trim()) {
        return undefined;
      }
      try {
        await c.sendRequest("httptap/exchanges", { filter: value, limit: 0 });
        return undefined;
      } catch (err) {
        return errorText(err);
      }
    },
  });
  if (text === undefined) {
    return;
  }
  const previous = tree.filter;
  tree.filter = text.trim() || undefined;
  if (!(await reload())) {
    tree.filter = previous; // the server refused it: keep what was shown
    render();
  }
}

async function showAll(): Promise<void> {
  tree.filter = undefined;
  tree.target = undefined;
  await reload();
}

async function saveHar(): Promise<void> {
  const c = await ensureClient();
  if (!c) {
    return;
  }
  if (!serverSupports(c.initializeResult?.capabilities, "httptap/har")) {
    void vscode.window.showErrorMessage("httptap: this httptap-lsp has no httptap/har request; update httptap.");
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const name = harFileName(new Date());
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, name) : vscode.Uri.file(name),
    filters: { HAR: ["har"], JSON: ["json"] },
    saveLabel: "Save HAR",
  });
  if (!target) {
    return;
  }
  const har = await request<unknown>("httptap/har", harParams(tree.filter, tree.target));
  if (har === undefined) {
    return;
  }
  await vscode.workspace.fs.writeFile(target, Buffer.from(JSON.stringify(har, null, 2) + "\n", "utf8"));
  const n = harEntryCount(har);
  const open = await vscode.window.showInformationMessage(
    `httptap: saved ${n} request${n === 1 ? "" : "s"} to ${target.fsPath}`,
    "Open",
  );
  if (open) {
    await vscode.window.showTextDocument(target);
  }
}

async function openExchange(s?: ExchangeSummary): Promise<void> {
  const row = s ?? view.selection[0];
  if (!row) {
    return;
  }
  const uri = vscode.Uri.from({ scheme: DETAIL_SCHEME, path: detailPath(row) });
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
}

async function stats(): Promise<void> {
  const s = await request<Stats>("httptap/stats", {});
  if (s) {
    tree.stats = s;
    render();
    void vscode.window.showInformationMessage(
      `httptap: ${panelDescription(s)} · ${s.exchanges ?? 0} exchanges · ${s.pending ?? 0} pending · ` +
        `${s.lost ?? 0} lost · ${s.filtered_out ?? 0} filtered out · ${s.evicted ?? 0} evicted`,
    );
  }
}

async function restartServer(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.dispose();
    } catch {
      // already stopped
    }
  }
  tree.list.clear();
  tree.stats = undefined;
  render();
  await ensureClient();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("httptap");
  tree = new RequestTree(config().get<number>("maxRows") ?? 500);
  details = new DetailProvider();
  view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: false });
  const command = (id: string, fn: (...args: never[]) => unknown) =>
    vscode.commands.registerCommand(id, fn as (...args: unknown[]) => unknown);
  context.subscriptions.push(
    output,
    view,
    vscode.workspace.registerTextDocumentContentProvider(DETAIL_SCHEME, details),
    command("httptapView.attach", attach),
    command("httptapView.detach", detach),
    command("httptapView.setFilter", setFilter),
    command("httptapView.showAll", showAll),
    command("httptapView.refresh", reload),
    command("httptapView.saveHar", saveHar),
    command("httptapView.stats", stats),
    command("httptapView.openExchange", openExchange),
    command("httptapView.restartServer", restartServer),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("httptap.maxRows")) {
        tree.list.setMax(config().get<number>("maxRows") ?? 500);
        render();
      }
      if (
        e.affectsConfiguration("httptap.serverPath") ||
        e.affectsConfiguration("httptap.serverArgs") ||
        e.affectsConfiguration("httptap.serverEnv")
      ) {
        void vscode.window
          .showInformationMessage("httptap: restart the language server to use the new settings?", "Restart")
          .then((pick) => (pick ? restartServer() : undefined));
      }
    }),
  );
  render();
  await ensureClient();
}

export async function deactivate(): Promise<void> {
  if (reloadTimer) {
    clearTimeout(reloadTimer);
  }
  const c = client;
  client = undefined;
  if (c) {
    await c.stop();
  }
}
