// Unit tests of the panel's pure logic, in plain node (no VS Code): `npm test`.

import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, test } from "node:test";

import {
  DETAIL_SCHEME,
  ExchangeSummary,
  RequestList,
  SERVER_SETTINGS,
  detailPath,
  errorText,
  exchangesParams,
  filterErrorText,
  formatLatency,
  formatSize,
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
} from "../src/model";

const ROOT = resolve(__dirname, "..", ".."); // lsp/vscode (tests run from out/test)

function ex(n: number, extra: Partial<ExchangeSummary> = {}): ExchangeSummary {
  return {
    id: `ex${n}`,
    time: `2027-01-15T08:00:${String(n % 60).padStart(2, "0")}.000Z`,
    pid: 4242,
    role: "server",
    method: "GET",
    url: `http://127.0.0.1:8000/users/${n}`,
    host: "127.0.0.1:8000",
    path: `/users/${n}`,
    status: 200,
    pending: false,
    latency_ms: 8.12,
    ttfb_ms: 7.9,
    size: 512,
    proto: "http/1.1",
    tls: false,
    notes: 0,
    ...extra,
  };
}

const pending = (n: number, extra: Partial<ExchangeSummary> = {}) =>
  ex(n, { pending: true, status: null, latency_ms: null, ...extra });

const ids = (list: RequestList) => list.rows().map((s) => s.id);

describe("RequestList", () => {
  test("didCapture batches (oldest first) show newest first", () => {
    const list = new RequestList(10);
    list.merge([ex(1), ex(2)]);
    list.merge([ex(3)]);
    assert.deepEqual(ids(list), ["ex3", "ex2", "ex1"]);
    assert.equal(list.size, 3);
  });

  test("a pending row is replaced by its answer where it stands", () => {
    const list = new RequestList(10);
    list.merge([ex(1), pending(2), ex(3)]);
    assert.equal(list.get("ex2")?.pending, true);
    const replaced = list.merge([ex(4), ex(2, { status: 500, latency_ms: 40 })]);
    assert.deepEqual(replaced, ["ex2"]);
    assert.deepEqual(ids(list), ["ex4", "ex3", "ex2", "ex1"]); // not moved to the top
    const row = list.get("ex2");
    assert.equal(row?.pending, false);
    assert.equal(row?.status, 500);
    assert.equal(list.rows()[2], row);
    assert.equal(list.size, 4); // replaced, not duplicated
  });

  test("the same id twice in one batch keeps one row with the last summary", () => {
    const list = new RequestList(10);
    list.merge([pending(1), ex(1, { status: 204 })]);
    assert.deepEqual(ids(list), ["ex1"]);
    assert.equal(list.get("ex1")?.status, 204);
  });

  test("history is bounded: the oldest rows fall off, and their ids are forgotten", () => {
    const list = new RequestList(3);
    list.merge([ex(1), ex(2), ex(3), ex(4)]);
    assert.deepEqual(ids(list), ["ex4", "ex3", "ex2"]);
    assert.equal(list.has("ex1"), false);
    list.merge(Array.from({ length: 1000 }, (_, i) => ex(10 + i)));
    assert.deepEqual(ids(list), ["ex1009", "ex1008", "ex1007"]);
    assert.equal(list.get("ex2"), undefined);
    // an answer for a row that fell off is a new row on top
    list.merge([ex(2, { status: 201 })]);
    assert.deepEqual(ids(list), ["ex2", "ex1009", "ex1008"]);
  });

  test("setMax shrinks at once; bad bounds fall back to the default", () => {
    const list = new RequestList(5);
    list.merge([1, 2, 3, 4, 5].map((n) => ex(n)));
    list.setMax(2);
    assert.deepEqual(ids(list), ["ex5", "ex4"]);
    assert.equal(new RequestList(0).max, 500);
    assert.equal(new RequestList(Number.NaN).max, 500);
    assert.equal(new RequestList(7.9).max, 7);
  });

  test("replaceAll takes an httptap/exchanges page (newest first), bounded, deduplicated", () => {
    const list = new RequestList(3);
    list.merge([ex(99)]);
    list.replaceAll([ex(9), ex(8), ex(8), ex(7), ex(6)]);
    assert.deepEqual(ids(list), ["ex9", "ex8", "ex7"]);
    assert.equal(list.has("ex99"), false);
    assert.equal(list.has("ex6"), false);
    // live merging continues from there
    list.merge([ex(10)]);
    assert.deepEqual(ids(list), ["ex10", "ex9", "ex8"]);
    list.clear();
    assert.deepEqual(ids(list), []);
  });

  test("summaries without an id are ignored", () => {
    const list = new RequestList(3);
    list.merge([ex(1), {} as ExchangeSummary, null as unknown as ExchangeSummary]);
    assert.deepEqual(ids(list), ["ex1"]);
  });

  test("rows() is a copy", () => {
    const list = new RequestList(3);
    list.merge([ex(1)]);
    list.rows().pop();
    assert.equal(list.size, 1);
  });
});

describe("live updates", () => {
  test("merge only on the unfiltered view with nothing skipped", () => {
    const note = { exchanges: [ex(1)], skipped: 0, stored: 1, pending: 0 };
    assert.equal(needsReload(note, undefined, undefined), false);
    assert.equal(needsReload(note, "status>=500", undefined), true);
    assert.equal(needsReload(note, undefined, { uri: "file:///a.py", line: 3 }), true);
    assert.equal(needsReload({ ...note, skipped: 12 }, undefined, undefined), true);
    assert.equal(needsReload({ exchanges: [] }, undefined, undefined), false);
  });

  test("request params for the panel's view and for HAR", () => {
    assert.deepEqual(exchangesParams(500), { offset: 0, limit: 500 });
    assert.deepEqual(exchangesParams(5000, "status>=400"), { offset: 0, limit: 1000, filter: "status>=400" });
    assert.deepEqual(exchangesParams(10, undefined, { uri: "file:///a.py", line: 14, label: "x" }), {
      offset: 0,
      limit: 10,
      uri: "file:///a.py",
      line: 14,
    });
    assert.deepEqual(harParams(), {});
    assert.deepEqual(harParams("method==POST", { uri: "file:///a.py", line: 2 }), {
      filter: "method==POST",
      uri: "file:///a.py",
      line: 2,
    });
  });
});

describe("formatting", () => {
  test("latency like the other front ends", () => {
    assert.equal(formatLatency(null), "-");
    assert.equal(formatLatency(undefined), "-");
    assert.equal(formatLatency(0.421), "0.42 ms");
    assert.equal(formatLatency(8.12), "8.1 ms");
    assert.equal(formatLatency(40.4), "40 ms");
    assert.equal(formatLatency(999.4), "999 ms");
    assert.equal(formatLatency(1250), "1.25 s");
  });

  test("sizes", () => {
    assert.equal(formatSize(undefined), "0 B");
    assert.equal(formatSize(512), "512 B");
    assert.equal(formatSize(1536), "1.5 KB");
    assert.equal(formatSize(2 * 1024 * 1024), "2.0 MB");
  });

  test("label: method and path inbound, method and URL outbound", () => {
    assert.equal(rowLabel(ex(42)), "GET /users/42");
    const out = ex(7, { role: "client", method: "POST", url: "https://api.example.com/v1/things?x=1", path: "/v1/things?x=1" });
    assert.equal(rowLabel(out), "POST https://api.example.com/v1/things?x=1");
    assert.equal(rowLabel(ex(1, { path: "", url: "" })), "GET /");
  });

  test("description: status and latency; pending; no answer", () => {
    assert.equal(rowDescription(ex(1)), "200 · 8.1 ms");
    assert.equal(rowDescription(ex(1, { status: 500, latency_ms: 1250 })), "500 · 1.25 s");
    assert.equal(rowDescription(pending(1)), "pending");
    assert.equal(rowDescription(ex(1, { status: null, latency_ms: 3 })), "no answer · 3.0 ms");
  });

  test("status icons by class", () => {
    assert.deepEqual(statusIcon(pending(1)), { icon: "loading~spin" });
    assert.equal(statusIcon(ex(1, { status: 204 })).icon, "pass");
    assert.equal(statusIcon(ex(1, { status: 101 })).icon, "pass");
    assert.equal(statusIcon(ex(1, { status: 304 })).icon, "arrow-right");
    assert.equal(statusIcon(ex(1, { status: 404 })).icon, "warning");
    assert.deepEqual(statusIcon(ex(1, { status: 503 })), { icon: "error", color: "problemsErrorIcon.foreground" });
    assert.equal(statusIcon(ex(1, { status: null })).icon, "circle-slash");
  });

  test("tooltip lists the facts", () => {
    const tip = rowTooltip(ex(3, { tls: true, notes: 2 })).split("\n");
    assert.deepEqual(tip, [
      "GET http://127.0.0.1:8000/users/3",
      "status: 200",
      "latency: 8.1 ms (first byte 7.9 ms)",
      "size: 512 B",
      "http/1.1 · tls · inbound",
      "time: 2027-01-15T08:00:03.000Z",
      "pid: 4242",
      "notes: 2 (open the request)",
    ]);
    assert.ok(!rowTooltip(pending(3)).includes("latency"));
  });

  test("panel description follows the capture state", () => {
    assert.equal(panelDescription(undefined), "not attached");
    assert.equal(panelDescription({ attached: true, ready: false, pid: 4242 }), "pid 4242 · attaching…");
    assert.equal(
      panelDescription({ attached: true, ready: true, pid: 4242, stored: 230 }, "status>=500", {
        uri: "file:///a.py",
        line: 9,
        label: "GET ×12",
      }),
      "pid 4242 · capturing · 230 stored · filter: status>=500 · lens: GET ×12",
    );
    assert.equal(panelDescription({ attached: false, pid: 4242 }, undefined, { uri: "u", line: 9 }), "pid 4242 · detached · lens: line 10");
    assert.equal(stateError({ error: null }), undefined);
    assert.equal(stateError({ error: { message: "process exited", remedy: "" } }), "process exited");
    assert.equal(stateError({ error: { message: "lost", remedy: "run doctor" } }), "lost — run doctor");
  });
});

describe("errors", () => {
  test("a filter's caret message becomes one line pointing at the column", () => {
    const msg = "bad filter: status>>1\n                   ^ expected a number";
    assert.equal(filterErrorText(msg, 7), "expected a number (column 8: status>▸>1)");
    assert.equal(filterErrorText(msg), "expected a number (column 8: status>▸>1)"); // from the caret
    const regex = 'bad filter: path~"["\n                  ^ expected a valid regular expression';
    assert.equal(filterErrorText(regex, 6), 'expected a valid regular expression (column 7: path~"▸[")');
    assert.equal(filterErrorText("plain message"), "plain message");
  });

  test("JSON-RPC errors: filters as one line, remedies appended", () => {
    const bad = { code: -32602, message: "bad filter: status>=\n                    ^ expected a value after '>='", data: { column: 8 } };
    assert.equal(errorText(bad), "expected a value after '>=' (column 9: status>=▸)");
    const refused = { code: -32001, message: "attach to 1 failed: permission denied", data: { remedy: "run `httptap doctor`" } };
    assert.equal(errorText(refused), "attach to 1 failed: permission denied — run `httptap doctor`");
    assert.equal(errorText({ code: -32002, message: "no exchange with id 'x'" }), "no exchange with id 'x'");
    assert.equal(errorText({ code: -32602, message: "'pid' must be a positive integer" }), "'pid' must be a positive integer");
    assert.equal(errorText(new Error("spawn httptap-lsp ENOENT")), "spawn httptap-lsp ENOENT");
  });
});

describe("attach, HAR, detail documents, settings", () => {
  test("process picks", () => {
    const pick = processPick({
      pid: 4242,
      cmdline: "python app.py",
      cwd: "/home/me/shop",
      comm: "python",
      reason: "cwd",
      listening: ["127.0.0.1:8000", "[::1]:8000"],
    });
    assert.deepEqual(pick, {
      label: "4242  python",
      description: "python app.py",
      detail: "listening on 127.0.0.1:8000, [::1]:8000 · cwd /home/me/shop",
      pid: 4242,
    });
    assert.equal(processPick({ pid: 7, cmdline: "sleep 1", reason: "other" }).detail, "outside the workspace");
    assert.equal(parsePid(" 1234 "), 1234);
    assert.equal(parsePid("0"), undefined);
    assert.equal(parsePid("12a"), undefined);
    assert.equal(parsePid(""), undefined);
  });

  test("HAR file name and entry count; capability check", () => {
    assert.equal(harFileName(new Date(2026, 10, 30, 9, 5, 7)), "httptap-20261130-090507.har");
    assert.equal(harEntryCount({ log: { entries: [{}, {}] } }), 2);
    assert.equal(harEntryCount({}), 0);
    assert.equal(harEntryCount(null), 0);
    const caps = { experimental: { httptap: { protocolVersion: 1, requests: ["httptap/har", "httptap/stats"] } } };
    assert.equal(serverSupports(caps, "httptap/har"), true);
    assert.equal(serverSupports({ experimental: { httptap: { requests: ["httptap/stats"] } } }, "httptap/har"), false);
    assert.equal(serverSupports(undefined, "httptap/har"), false);
  });

  test("detail URIs carry the id and a readable name, and give the id back", () => {
    const p = detailPath(ex(42));
    assert.equal(p, "/ex42/GET _users_42.http");
    assert.equal(idFromDetailPath(p), "ex42");
    const odd = ex(1, { id: "3f9c/17 ?#%", role: "client", url: "https://h:1/a?b=c#d" });
    const q = detailPath(odd);
    assert.equal(q.split("/").length, 3); // exactly /<id>/<name>
    assert.ok(!/[?#%:]/.test(q.split("/")[2]));
    assert.equal(idFromDetailPath(q), "3f9c/17 ?#%");
    assert.equal(idFromDetailPath("/nothing"), undefined);
    assert.equal(idFromDetailPath("/%E0%A4%A/x"), undefined);
    assert.equal(DETAIL_SCHEME, "httptap-exchange");
  });

  test("server settings: the numbers PROTOCOL.md lists, nothing else", () => {
    const cfg: Record<string, unknown> = { slowMs: 300, hoverRows: 0, historySize: "x", serverPath: "/bin/x", bodyLimit: 4096 };
    assert.deepEqual(serverSettings((k) => cfg[k]), { slowMs: 300, bodyLimit: 4096 });
    const protocol = readFileSync(resolve(ROOT, "..", "PROTOCOL.md"), "utf8");
    const documented = [...protocol.matchAll(/^\| `([a-zA-Z]+)` \| [\d.]+ \|/gm)].map((m) => m[1]);
    assert.deepEqual([...SERVER_SETTINGS].sort(), documented.sort());
  });
});

describe("the extension's manifest and code", () => {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8"));
  const protocol = readFileSync(resolve(ROOT, "..", "PROTOCOL.md"), "utf8");
  const extension = readFileSync(resolve(ROOT, "src", "extension.ts"), "utf8");
  const contributed: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);

  test("no contributed command collides with a server command (the language client registers those)", () => {
    const serverCommands = [...protocol.matchAll(/^\| `(httptap\.[a-zA-Z]+)` \|/gm)].map((m) => m[1]);
    assert.ok(serverCommands.includes("httptap.attach") && serverCommands.includes("httptap.showExchanges"));
    assert.deepEqual(contributed.filter((c) => serverCommands.includes(c)), []);
  });

  test("every contributed command is registered, and every registered one contributed", () => {
    const registered = [...extension.matchAll(/command\("(httptapView\.[a-zA-Z]+)"/g)].map((m) => m[1]);
    assert.deepEqual([...registered].sort(), [...contributed].sort());
    const menus = Object.values(pkg.contributes.menus).flat() as { command: string }[];
    for (const m of menus) {
      assert.ok(contributed.includes(m.command), m.command);
    }
  });

  test("settings in package.json: the server's documented ones plus the extension's own", () => {
    const keys = Object.keys(pkg.contributes.configuration.properties).map((k) => k.replace(/^httptap\./, ""));
    const own = ["serverPath", "serverArgs", "serverEnv", "maxRows"];
    for (const k of keys) {
      assert.ok(own.includes(k) || (SERVER_SETTINGS as readonly string[]).includes(k), k);
    }
  });

  test("the pure module loads without 'vscode'", () => {
    const compiled = readFileSync(resolve(ROOT, "out", "src", "model.js"), "utf8");
    assert.ok(!/require\(["']vscode/.test(compiled));
    assert.throws(() => require.resolve("vscode")); // and there is no such module to load here
  });

  test("the view, its container and the activation agree", () => {
    const view = pkg.contributes.views.httptap[0];
    assert.equal(view.id, "httptapRequests");
    assert.ok(extension.includes(`VIEW_ID = "${view.id}"`));
    assert.ok(pkg.activationEvents.includes(`onView:${view.id}`));
    assert.equal(pkg.main, "./out/src/extension.js");
    assert.ok(pkg.contributes.viewsContainers.activitybar.some((c: { id: string }) => c.id === "httptap"));
  });
});
