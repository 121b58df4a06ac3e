// The core's work per `retrieve`, step by step, in a hot loop (run by ../bench-size.sh, or
// `node bench/steps.mjs` after ./build.sh): the same calls into the WebAssembly module that the
// package's driver makes for one call (start the machine, render the request, take a limiter slot,
// `respond`: the limiter learns, the machine takes the answer and hands back the job), without any
// HTTP, timing each. A figure to compare builds with, never a test.
//
// Then the same calls (all of them, timed together) right after different kinds of waiting: none,
// a `setImmediate`, a 1 ms timer, and a real `fetch` on loopback (bench/canned-server.mjs), with a
// plain `JSON.parse(JSON.stringify(job))` timed first as a control that does not touch the module.
// This is where the package's per-call overhead comes from (wasm/DEVELOPING.md).
import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { initSync, Client, Limiter } from "../pkg/gen/usvideo_wasm.js";
import { median, startCannedServer } from "./common.mjs";

const wasm = fileURLToPath(new URL("../pkg/gen/usvideo_wasm_bg.wasm", import.meta.url));
initSync({ module: readFileSync(wasm) });

const client = new Client("http://127.0.0.1:1/v1", "sd_bench_0123456789abcdef", "usvideo-js/0.1.0");
const limiter = new Limiter(1_000_000);
const job = { id: "job_1", status: "processing", prompt: "a lake at dawn", mode: "text_to_video", resolution: "720p", duration: 5, estimated_cost_cents: 30, created_at: "2026-04-21T15:30:00Z", progress: 40 };
const body = new TextEncoder().encode(JSON.stringify(job));
const headers = ["content-type", "application/json", "x-request-id", "req_1", "date", "Fri, 04 Dec 2026 05:00:00 GMT"].join("\0") + "\0";
const entropy = new Uint8Array(24);
const spec = JSON.stringify({ machine: "call", call: { target: "retrieve_video", id: job.id } });

const steps = ["start", "poll (send)", "JSON.parse (send)", "limiter.acquire", "respond", "JSON.parse (done)", "free"];
const spent = new Float64Array(steps.length);
const warmup = 5_000;
const rounds = 50_000;
let now = 1_000;
for (let i = 0; i < warmup + rounds; i++) {
  const marks = [performance.now()];
  const m = client.start(spec, entropy, now);
  marks.push(performance.now());
  const out = m.poll(now);
  marks.push(performance.now());
  const send = JSON.parse(out);
  marks.push(performance.now());
  limiter.acquire(now);
  marks.push(performance.now());
  const done = m.respond(send.id, 200, headers, body, now, limiter);
  marks.push(performance.now());
  if (JSON.parse(done).ok?.id !== job.id) throw new Error(`unexpected outcome: ${done}`);
  marks.push(performance.now());
  m.free();
  marks.push(performance.now());
  if (i >= warmup) for (let s = 0; s < steps.length; s++) spent[s] += marks[s + 1] - marks[s];
  now += 1;
}
let total = 0;
console.log(`The core's work per retrieve (hot loop, ${rounds} rounds, µs per call):`);
for (let s = 0; s < steps.length; s++) {
  const us = (spent[s] / rounds) * 1000;
  total += us;
  console.log(`  ${steps[s].padEnd(18)} ${us.toFixed(2)}`);
}
console.log(`  ${"total".padEnd(18)} ${total.toFixed(2)}`);

// The same calls right after each kind of waiting.
const server = await startCannedServer();
try {
  const url = `${server.base}/v1/videos/job_1`;
  const once = () => {
    const m = client.start(spec, entropy, now);
    const send = JSON.parse(m.poll(now));
    limiter.acquire(now);
    const done = JSON.parse(m.respond(send.id, 200, headers, body, now, limiter));
    m.free();
    return done;
  };
  const waits = {
    "nothing (hot)": async () => {},
    setImmediate: () => new Promise((r) => setImmediate(r)),
    "a 1 ms timer": () => sleep(1),
    "a loopback fetch": async () => (await fetch(url)).arrayBuffer(),
  };
  const rows = [];
  // Two passes, the first thrown away (warm-up).
  for (const pass of [1, 2]) {
    for (const [name, wait] of Object.entries(waits)) {
      const core = [];
      const json = [];
      for (let i = 0; i < 1000; i++) {
        await wait();
        let t = performance.now();
        if (JSON.parse(JSON.stringify(job)).id !== job.id) throw new Error("control");
        json.push(performance.now() - t);
        t = performance.now();
        if (once().ok?.id !== job.id) throw new Error("unexpected outcome");
        core.push(performance.now() - t);
      }
      if (pass === 2) rows.push([name, median(json) * 1000, median(core) * 1000]);
    }
  }
  console.log("\nThe same calls right after waiting for (medians of 1000, µs):");
  console.log(`  ${"after".padEnd(18)} ${"JSON round trip".padStart(15)} ${"core calls".padStart(10)}`);
  for (const [name, j, c] of rows) console.log(`  ${name.padEnd(18)} ${j.toFixed(1).padStart(15)} ${c.toFixed(1).padStart(10)}`);
} finally {
  server.stop();
}
