// The core's work per `retrieve`, step by step, in a hot loop (run by ../bench-size.sh, or
// `node bench/steps.mjs` after ./build.sh): the same calls into the WebAssembly module that the
// package's driver makes for one call (start the machine, render the request, take a limiter slot,
// `respond`: the limiter learns, the machine takes the answer and hands back the job), without any
// HTTP, timing each. A figure to compare builds with, never a
// test: between real round trips the same calls cost ~2.5x this (cold caches; wasm/README.md).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { initSync, Client, Limiter } from "../pkg/gen/usvideo_wasm.js";

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
