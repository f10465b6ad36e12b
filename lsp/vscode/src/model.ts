// The side panel's pure logic: what the rows are, in which order, and how they read.
// No 'vscode' import here (the unit tests run in plain node); extension.ts maps these plain
// values onto TreeItems, ThemeIcons and URIs.

/** `ExchangeSummary` of lsp/PROTOCOL.md (the keys the panel uses; the server may add more). */
export interface ExchangeSummary {
  id: string;
  time?: string | null;
  pid?: number;
  role?: string; // "server" (inbound) | "client" (outbound)
  method: string;
  url?: string;
  host?: string;
  path?: string;
  status: number | null;
  pending: boolean;
  latency_ms: number | null;
  ttfb_ms?: number | null;
  size?: number | null;
  proto?: string;
  tls?: boolean;
  notes?: number;
}

/** `httptap/didCapture` params. */
export interface DidCapture {
  exchanges: ExchangeSummary[];
  skipped?: number;
  stored?: number;
  pending?: number;
}

/** The `Stats` object of `httptap/stats`, `httptap/attach` and `httptap/didChangeState`. */
export interface Stats {
  protocol?: number;
  attached?: boolean;
  ready?: boolean;
  pid?: number | null;
  filter?: string | null;
  replay?: string | null;
  error?: { message: string; remedy?: string } | null;
  exchanges?: number;
  stored?: number;
  pending?: number;
  lost?: number;
  filtered_out?: number;
  evicted?: number;
}

/** A candidate of `httptap/processes`. */
export interface ProcessInfo {
  pid: number;
  cmdline: string;
  cwd?: string | null;
  comm?: string;
  reason?: string;
  listening?: string[];
}

/** What the panel narrows to: running a code lens sets a target (`uri` + `line`). */
export interface LensTarget {
  uri: string;
  line: number;
  label?: string;
}

export const DEFAULT_MAX_ROWS = 500;

/**
 * The panel's rows, newest first, at most `max` of them.
 *
 * `merge` takes `httptap/didCapture` summaries (oldest first): a known id is replaced where it
 * stands (a pending row turns into its answer in place), a new one goes on top; the oldest
 * rows fall off beyond `max`. `replaceAll` takes an `httptap/exchanges` page (newest first).
 */
export class RequestList {
  private items: ExchangeSummary[] = []; // oldest first: appending is cheap
  private byId = new Map<string, ExchangeSummary>();
  private maxRows: number;

  constructor(max: number = DEFAULT_MAX_ROWS) {
    this.maxRows = validMax(max);
  }

  get max(): number {
    return this.maxRows;
  }

  get size(): number {
    return this.items.length;
  }

  /** The rows, newest first. */
  rows(): ExchangeSummary[] {
    return this.items.slice().reverse();
  }

  get(id: string): ExchangeSummary | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Merge summaries (oldest first); returns the ids that replaced a row already shown. */
  merge(summaries: readonly ExchangeSummary[]): string[] {
    const replaced: string[] = [];
    for (const s of summaries) {
      if (!s || typeof s.id !== "string") {
        continue;
      }
      if (this.byId.has(s.id)) {
        const i = this.items.lastIndexOf(this.byId.get(s.id) as ExchangeSummary);
        this.items[i] = s;
        replaced.push(s.id);
      } else {
        this.items.push(s);
      }
      this.byId.set(s.id, s);
    }
    this.trim();
    return replaced;
  }

  /** Show exactly `newestFirst` (an `httptap/exchanges` page), cut to `max`. */
  replaceAll(newestFirst: readonly ExchangeSummary[]): void {
    this.items = [];
    this.byId.clear();
    const seen = new Set<string>();
    for (const s of newestFirst) {
      if (this.items.length >= this.maxRows) {
        break;
      }
      if (s && typeof s.id === "string" && !seen.has(s.id)) {
        seen.add(s.id);
        this.items.push(s);
      }
    }
    this.items.reverse();
    for (const s of this.items) {
      this.byId.set(s.id, s);
    }
  }

  clear(): void {
    this.items = [];
    this.byId.clear();
  }

  setMax(max: number): void {
    this.maxRows = validMax(max);
    this.trim();
  }

  private trim(): void {
    const extra = this.items.length - this.maxRows;
    if (extra > 0) {
      for (const gone of this.items.splice(0, extra)) {
        this.byId.delete(gone.id);
      }
    }
  }
}

function validMax(max: number): number {
  return Number.isFinite(max) && max >= 1 ? Math.floor(max) : DEFAULT_MAX_ROWS;
}

/**
 * Whether a `httptap/didCapture` cannot simply be merged: the server left summaries out
 * (`skipped`), or the panel shows a filtered or lens view (the server evaluates those).
 */
export function needsReload(note: DidCapture, filter: string | undefined, target: LensTarget | undefined): boolean {
  return Boolean(filter) || target !== undefined || (note.skipped ?? 0) > 0;
}

// -- formatting ----------------------------------------------------------------------------

/** `0.42 ms`, `8.1 ms`, `40 ms`, `1.25 s`; `-` when unknown. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return "-";
  }
  if (ms < 1) {
    return `${ms.toFixed(2)} ms`;
  }
  if (ms < 10) {
    return `${ms.toFixed(1)} ms`;
  }
  if (ms < 1000) {
    return `${ms.toFixed(0)} ms`;
  }
  return `${(ms / 1000).toFixed(2)} s`;
}

/** `512 B`, `1.5 KB`, `2.0 MB`. */
export function formatSize(n: number | null | undefined): string {
  const v = n ?? 0;
  if (v < 1024) {
    return `${v} B`;
  }
  if (v < 1024 * 1024) {
    return `${(v / 1024).toFixed(1)} KB`;
  }
  return `${(v / 1024 / 1024).toFixed(1)} MB`;
}

/** What a row names: the path of an inbound request, the whole URL of an outbound one. */
export function rowTarget(s: ExchangeSummary): string {
  if (s.role === "client" && s.url) {
    return s.url;
  }
  return s.path || s.url || "/";
}

/** The row's label: `GET /users/42`. */
export function rowLabel(s: ExchangeSummary): string {
  return `${s.method || "?"} ${rowTarget(s)}`;
}

/** The status word of a row: `200`, `pending`, or `no answer` (completed without a response). */
export function statusText(s: ExchangeSummary): string {
  if (s.pending) {
    return "pending";
  }
  return s.status === null || s.status === undefined ? "no answer" : String(s.status);
}

/** The row's description (dimmed, after the label): `200 · 8.1 ms` or `pending`. */
export function rowDescription(s: ExchangeSummary): string {
  if (s.pending) {
    return "pending";
  }
  return `${statusText(s)} · ${formatLatency(s.latency_ms)}`;
}

export type StatusClass = "pending" | "noAnswer" | "ok" | "redirect" | "clientError" | "serverError";

export function statusClass(s: ExchangeSummary): StatusClass {
  if (s.pending) {
    return "pending";
  }
  const st = s.status;
  if (st === null || st === undefined) {
    return "noAnswer";
  }
  if (st >= 500) {
    return "serverError";
  }
  if (st >= 400) {
    return "clientError";
  }
  if (st >= 300) {
    return "redirect";
  }
  return "ok";
}

/** A codicon id and theme color id per status class (extension.ts makes the ThemeIcon). */
export const STATUS_ICONS: Record<StatusClass, { icon: string; color?: string }> = {
  pending: { icon: "loading~spin" },
  noAnswer: { icon: "circle-slash", color: "disabledForeground" },
  ok: { icon: "pass", color: "testing.iconPassed" },
  redirect: { icon: "arrow-right", color: "charts.blue" },
  clientError: { icon: "warning", color: "problemsWarningIcon.foreground" },
  serverError: { icon: "error", color: "problemsErrorIcon.foreground" },
};

export function statusIcon(s: ExchangeSummary): { icon: string; color?: string } {
  return STATUS_ICONS[statusClass(s)];
}

/** The row's hover text: one fact a line. */
export function rowTooltip(s: ExchangeSummary): string {
  const lines = [`${s.method} ${s.url || s.path || ""}`.trim(), `status: ${statusText(s)}`];
  if (!s.pending) {
    lines.push(`latency: ${formatLatency(s.latency_ms)} (first byte ${formatLatency(s.ttfb_ms)})`);
  }
  lines.push(`size: ${formatSize(s.size)}`);
  const where = [s.proto, s.tls ? "tls" : undefined, s.role === "client" ? "outbound" : s.role === "server" ? "inbound" : undefined]
    .filter(Boolean)
    .join(" · ");
  if (where) {
    lines.push(where);
  }
  if (s.time) {
    lines.push(`time: ${s.time}`);
  }
  if (s.pid !== undefined) {
    lines.push(`pid: ${s.pid}`);
  }
  if (s.notes) {
    lines.push(`notes: ${s.notes} (open the request)`);
  }
  return lines.join("\n");
}

/** The panel's description line: `pid 4242 · capturing · 230 stored · filter: status>=500`. */
export function panelDescription(stats: Stats | undefined, filter?: string, target?: LensTarget): string {
  const parts: string[] = [];
  const st = stats ?? {};
  if (st.pid !== undefined && st.pid !== null) {
    parts.push(`pid ${st.pid}`);
  }
  if (st.attached) {
    parts.push(st.ready ? "capturing" : "attaching…");
  } else if (st.pid !== undefined && st.pid !== null) {
    parts.push("detached");
  } else {
    parts.push("not attached");
  }
  if (st.stored !== undefined) {
    parts.push(`${st.stored} stored`);
  }
  if (filter) {
    parts.push(`filter: ${filter}`);
  }
  if (target) {
    parts.push(`lens: ${target.label || `line ${target.line + 1}`}`);
  }
  return parts.join(" · ");
}

/** The capture error of a `Stats`, one line, or undefined. */
export function stateError(stats: Stats | undefined): string | undefined {
  const err = stats?.error;
  if (!err) {
    return undefined;
  }
  return err.remedy ? `${err.message} — ${err.remedy}` : err.message;
}

// -- requests and their errors -------------------------------------------------------------

/** What a JSON-RPC error looks like (vscode-jsonrpc's ResponseError has these). */
export interface RpcErrorLike {
  code?: number;
  message?: string;
  data?: unknown;
}

export const INVALID_PARAMS = -32602;
export const CAPTURE_FAILED = -32001;
export const NO_SUCH_EXCHANGE = -32002;

/**
 * A filter's caret message (`bad filter: status>>1\n<spaces>^ expected a number`) as one line
 * for an input box: `expected a number (column 8: status>▸>1)`. Other text passes through.
 */
export function filterErrorText(message: string, column?: number): string {
  const lines = message.split("\n");
  const caretLine = lines.findIndex((l) => /^\s*\^/.test(l));
  if (caretLine < 1) {
    return message.trim();
  }
  const head = lines[caretLine - 1];
  const caret = lines[caretLine].indexOf("^");
  const reason = lines[caretLine].slice(caret + 1).trim();
  const prefix = head.startsWith("bad filter: ") ? "bad filter: ".length : 0;
  const text = head.slice(prefix);
  const col = column ?? Math.max(0, caret - prefix);
  const at = Math.min(Math.max(0, col), text.length);
  return `${reason} (column ${at + 1}: ${text.slice(0, at)}▸${text.slice(at)})`;
}

/** A request's failure as the user reads it: message, and the server's remedy when it has one. */
export function errorText(err: unknown): string {
  const e = (err ?? {}) as RpcErrorLike;
  const message = typeof e.message === "string" ? e.message : String(err);
  const data = e.data as { remedy?: unknown; column?: unknown } | undefined | null;
  if (e.code === INVALID_PARAMS && data && typeof data.column === "number") {
    return filterErrorText(message, data.column);
  }
  if (data && typeof data.remedy === "string" && data.remedy) {
    return `${message} — ${data.remedy}`;
  }
  return message;
}

/** `httptap/exchanges` params for the panel's current view. */
export function exchangesParams(limit: number, filter?: string, target?: LensTarget): Record<string, unknown> {
  const params: Record<string, unknown> = { offset: 0, limit: Math.min(Math.max(1, limit), 1000) };
  if (filter) {
    params.filter = filter;
  }
  if (target) {
    params.uri = target.uri;
    params.line = target.line;
  }
  return params;
}

/** `httptap/har` params: the same view as the panel's (filter, lens), whole history otherwise. */
export function harParams(filter?: string, target?: LensTarget): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (filter) {
    params.filter = filter;
  }
  if (target) {
    params.uri = target.uri;
    params.line = target.line;
  }
  return params;
}

/** Whether the server's `initialize` result lists `method` among its httptap requests. */
export function serverSupports(capabilities: unknown, method: string): boolean {
  const ext = (capabilities as { experimental?: { httptap?: { requests?: unknown } } } | undefined)?.experimental
    ?.httptap;
  return Array.isArray(ext?.requests) && ext.requests.includes(method);
}

/** `httptap-20261130-120000.har` (local time). */
export function harFileName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const day = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}`;
  const time = `${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `httptap-${day}-${time}.har`;
}

/** The number of entries of a HAR document (0 when it is not one). */
export function harEntryCount(har: unknown): number {
  const entries = (har as { log?: { entries?: unknown } } | undefined)?.log?.entries;
  return Array.isArray(entries) ? entries.length : 0;
}

// -- the attach quick pick -----------------------------------------------------------------

export interface ProcessPick {
  label: string;
  description: string;
  detail: string;
  pid: number;
}

export function processPick(p: ProcessInfo): ProcessPick {
  const detail: string[] = [];
  if (p.listening && p.listening.length) {
    detail.push(`listening on ${p.listening.join(", ")}`);
  }
  if (p.cwd) {
    detail.push(`cwd ${p.cwd}`);
  }
  if (p.reason === "other") {
    detail.push("outside the workspace");
  }
  return {
    label: `${p.pid}  ${p.comm || ""}`.trimEnd(),
    description: p.cmdline,
    detail: detail.join(" · "),
    pid: p.pid,
  };
}

/** A typed PID (`1234`), or undefined. */
export function parsePid(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) {
    return undefined;
  }
  const pid = Number(t);
  return pid > 0 && Number.isSafeInteger(pid) ? pid : undefined;
}

// -- detail documents ----------------------------------------------------------------------

export const DETAIL_SCHEME = "httptap-exchange";

/**
 * The path of an exchange's detail document: `/<id>/GET _users_42.http` — the id first
 * (what the provider asks the server for), then a readable name for the editor tab.
 */
export function detailPath(s: Pick<ExchangeSummary, "id" | "method" | "path" | "url" | "role">): string {
  const name = `${s.method || "?"} ${rowTarget(s as ExchangeSummary)}`
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/[\\/?#%:*"<>|]/g, "_")
    .slice(0, 80);
  return `/${encodeURIComponent(s.id)}/${name}.http`;
}

/** The exchange id of a detail document's path (undefined when it is not one of ours). */
export function idFromDetailPath(path: string): string | undefined {
  const m = /^\/([^/]+)\//.exec(path);
  if (!m) {
    return undefined;
  }
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

/** The settings of lsp/PROTOCOL.md that the server takes (the rest are the extension's own). */
export const SERVER_SETTINGS = [
  "slowMs",
  "diagnosticWindow",
  "historySize",
  "bodyLimit",
  "hoverRows",
  "notifyInterval",
  "refreshInterval",
] as const;

/** `initializationOptions` from the `httptap` configuration section. */
export function serverSettings(get: (key: string) => unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of SERVER_SETTINGS) {
    const v = get(key);
    if (typeof v === "number" && Number.isFinite(v) && v > 0) {
      out[key] = v;
    }
  }
  return out;
}
