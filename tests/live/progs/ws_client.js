// WebSocket client (Node's `ws` package): on 'go', sends a text, a binary, a big text and a
// ping and reads the echoes; prints 'echoed' and, on a line from stdin, closes with 1000
// "bye"; prints 'done'.   argv: port deflate|none
const WebSocket = require("ws");
const readline = require("readline");

const [port, mode] = process.argv.slice(2);
let big = "";
for (let i = 0; i < 5000; i++) big += `line ${String(i).padStart(6, "0")} of a big message\n`;
const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", () => { const next = waiting.shift(); if (next) next(); });
const line = () => new Promise((resolve) => waiting.push(resolve));

async function main() {
  console.log("ready");
  await line();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`,
    { perMessageDeflate: mode === "deflate" ? { threshold: 0 } : false });
  const incoming = [];
  const wanted = [];
  ws.on("message", (data) => { const w = wanted.shift(); if (w) w(data); else incoming.push(data); });
  const recv = () => new Promise((resolve) => {
    if (incoming.length) resolve(incoming.shift()); else wanted.push(resolve);
  });
  await new Promise((resolve) => ws.on("open", resolve));
  for (const message of ["hello", Buffer.from([0xff, 0xfe, 0x00]), big]) {
    ws.send(message);
    const echo = await recv();
    if (Buffer.compare(Buffer.from(echo), Buffer.from(message)) !== 0) throw new Error("echo");
  }
  await new Promise((resolve) => { ws.once("pong", resolve); ws.ping("are you there"); });
  console.log("echoed");
  await line();
  await new Promise((resolve) => { ws.on("close", resolve); ws.close(1000, "bye"); });
  console.log("done");
  await line();
  process.exit(0);
}

main();
