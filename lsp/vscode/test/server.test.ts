// The panel's logic against the real httptap-lsp, spoken to over stdio with vscode-jsonrpc
// (what vscode-languageclient uses underneath) — no VS Code needed. Runs when
// HTTPTAP_LSP_CMD (a JSON argv) and HTTPTAP_LSP_REPLAY (a session the server replays) are set,
// as tests/unit/test_vscode_extension.py does; skipped by a bare `npm test`.
//
// HTTPTAP_TEST_EXPECT: JSON {ids: newest-first ids, pending: id, later: a contract line that
// answers the pending request, appended to the session midway}.

import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import { MessageConnection, StreamMessageReader, StreamMessageWriter, createMessageConnection } from "vscode-jsonrpc/node";

import {
  DidCapture,
  ExchangeSummary,
  RequestList,
  Stats,
  detailPath,
  errorText,
  exchangesParams,
  harEntryCount,
  harParams,
  idFromDetailPath,
  needsReload,
  rowDescription,
  serverSupports,
} from "../src/model";

const CMD = process.env.HTTPTAP_LSP_CMD;
const REPLAY = process.env.HTTPTAP_LSP_REPLAY;
const EXPECT = process.env.HTTPTAP_TEST_EXPECT;
const skip = !CMD || !REPLAY || !EXPECT ? "HTTPTAP_LSP_CMD, HTTPTAP_LSP_REPLAY, HTTPTAP_TEST_EXPECT not set" : false;

let proc: ChildProcess;
let conn: MessageConnection;
let capabilities: unknown;
const notes: DidCapture[] = [];
const states: Stats[] = [];

async function until(what: string, pred: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  if (skip) {
    return;
  }
  const argv = JSON.parse(CMD as string) as string[];
  const workspace = mkdtempSync(join(tmpdir(), "httptap-vscode-"));
  proc = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "inherit"], env: process.env });
  conn = createMessageConnection(
    new StreamMessageReader(proc.stdout!),
    new StreamMessageWriter(proc.stdin!),
  );
  conn.onNotification("httptap/didCapture", (n: DidCapture) => notes.push(n));
  conn.onNotification("httptap/didChangeState", (s: Stats) => states.push(s));
  conn.onRequest(() => null); // workspace/codeLens/refresh and the like
  conn.listen();
  const init = await conn.sendRequest<{ capabilities: unknown }>("initialize", {
    processId: process.pid,
    rootUri: pathToFileURL(workspace).href,
    workspaceFolders: [{ uri: pathToFileURL(workspace).href, name: "ws" }],
    capabilities: {},
    initializationOptions: { notifyInterval: 0.05 },
  });
  capabilities = init.capabilities;
  await conn.sendNotification("initialized", {});
});

after(async () => {
  if (skip) {
    return;
  }
  try {
    await conn.sendRequest("shutdown");
    await conn.sendNotification("exit");
  } catch {
    // the server is gone already
  }
  conn.dispose();
  proc.kill();
});

test("live panel, detail, filter errors and HAR against the real server", { skip }, async () => {
  const expect = JSON.parse(EXPECT as string) as { ids: string[]; pending: string; later: string };
  assert.equal(serverSupports(capabilities, "httptap/har"), true);

  const stats = await conn.sendRequest<Stats>("httptap/attach", { pid: 4242 });
  assert.equal(stats.attached, true);

  // what the extension does with each notification: merge into the bounded list
  const list = new RequestList(500);
  let seen = 0;
  const drain = () => {
    for (; seen < notes.length; seen++) {
      assert.equal(needsReload(notes[seen], undefined, undefined), false);
      list.merge(notes[seen].exchanges);
    }
  };
  await until("all replayed requests", () => (drain(), list.size === expect.ids.length));
  assert.deepEqual(list.rows().map((s) => s.id), expect.ids);
  assert.equal(rowDescription(list.get(expect.pending) as ExchangeSummary), "pending");

  // the panel built from notifications is the server's own newest-first list
  const page = await conn.sendRequest<{ exchanges: ExchangeSummary[] }>("httptap/exchanges", exchangesParams(500));
  assert.deepEqual(page.exchanges.map((s) => s.id), expect.ids);

  // the pending request is answered: its row changes in place
  appendFileSync(REPLAY as string, expect.later + "\n");
  await until("the answer", () => (drain(), list.get(expect.pending)?.pending === false));
  assert.deepEqual(list.rows().map((s) => s.id), expect.ids);
  assert.match(rowDescription(list.get(expect.pending) as ExchangeSummary), /^201 · /);

  // a detail document's URI leads back to the exchange
  const row = list.rows()[0];
  const id = idFromDetailPath(detailPath(row)) as string;
  assert.equal(id, row.id);
  const detail = await conn.sendRequest<{ text: string }>("httptap/exchange", { id });
  assert.ok(detail.text.startsWith(`${row.method} ${row.url}\n`), detail.text);
  assert.match(detail.text, /HTTP\/1\.1 201/);

  // server-side filter errors, as the input box shows them
  await assert.rejects(conn.sendRequest("httptap/exchanges", { filter: "status>>1", limit: 0 }), (err: unknown) => {
    assert.equal(errorText(err), "expected a number (column 8: status>▸>1)");
    return true;
  });
  const failed = await conn.sendRequest<{ exchanges: ExchangeSummary[] }>(
    "httptap/exchanges",
    exchangesParams(500, "status>=500"),
  );
  list.replaceAll(failed.exchanges);
  assert.ok(list.size >= 1 && list.rows().every((s) => (s.status ?? 0) >= 500));

  // HAR of the whole history, and of the filtered view
  const har = await conn.sendRequest<{ log: { version: string } }>("httptap/har", harParams());
  assert.equal(har.log.version, "1.2");
  assert.equal(harEntryCount(har), expect.ids.length);
  assert.equal(harEntryCount(await conn.sendRequest("httptap/har", harParams("status>=500"))), list.size);

  // an unknown exchange (what a stale detail document asks for)
  await assert.rejects(conn.sendRequest("httptap/exchange", { id: "gone" }), (err: unknown) => {
    assert.match(errorText(err), /no exchange with id 'gone'/);
    return true;
  });

  const detached = await conn.sendRequest<Stats & { detached: boolean }>("httptap/detach", {});
  assert.equal(detached.detached, true);
  await until("the detached state", () => states.some((s) => s.attached === false));
});
