// The size and overhead benchmark (run by ../bench-size.sh).
//
// Size: one tiny app per SDK that creates a video job and waits for it, bundled by esbuild
// (browser platform, ESM, minified) and gzipped (-9). For `usvideo` the .wasm is a separate asset
// fetched at import: it is counted too (JS gzip + wasm gzip). Peers are installed from npm into a
// temporary directory at pinned versions.
//
// Overhead: `client.videos.retrieve(id)` against `fetch(url) + res.json()` of the same URL on
// loopback (the emulator as a child process), alternating, many rounds; the ratio of medians.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, symlinkSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { startEmulator } from "../tests/emulator.mjs";

const here = fileURLToPath(new URL("..", import.meta.url));
const PEERS = { replicate: "1.4.0", "@fal-ai/client": "1.10.1", "@runwayml/sdk": "4.20.1", lumaai: "1.19.1" };

const apps = {
  usvideo: `import { USVideo } from "usvideo";
const client = new USVideo({ apiKey: "sd_example_key_000000", dangerouslyAllowBrowser: true });
const job = await client.videos.createAndWait({ prompt: "a lake at dawn", mode: "text_to_video" });
console.log(job.video_url);`,
  replicate: `import Replicate from "replicate";
const replicate = new Replicate({ auth: "r8_example" });
const output = await replicate.run("owner/video-model", { input: { prompt: "a lake at dawn" } });
console.log(output);`,
  "@fal-ai/client": `import { fal } from "@fal-ai/client";
fal.config({ credentials: "example" });
const result = await fal.subscribe("fal-ai/video-model", { input: { prompt: "a lake at dawn" } });
console.log(result.data);`,
  "@runwayml/sdk": `import RunwayML from "@runwayml/sdk";
const client = new RunwayML({ apiKey: "key_example", dangerouslyAllowBrowser: true });
const task = await client.textToVideo.create({ model: "veo3.1", promptText: "a lake at dawn", ratio: "1280:720", duration: 8 }).waitForTaskOutput();
console.log(task.output);`,
  lumaai: `import LumaAI from "lumaai";
const client = new LumaAI({ authToken: "luma_example", dangerouslyAllowBrowser: true });
let generation = await client.generations.create({ prompt: "a lake at dawn", model: "ray-2" });
while (generation.state !== "completed" && generation.state !== "failed") {
  await new Promise((r) => setTimeout(r, 3000));
  generation = await client.generations.get(generation.id);
}
console.log(generation.assets?.video);`,
};

async function sizes() {
  const dir = mkdtempSync(join(tmpdir(), "usvideo-bench-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ private: true, type: "module" }));
  const specs = Object.entries(PEERS).map(([n, v]) => `${n}@${v}`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--silent", ...specs], { cwd: dir, stdio: "inherit" });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(join(here, "pkg"), join(dir, "node_modules", "usvideo"));
  const rows = [];
  for (const [name, src] of Object.entries(apps)) {
    const entry = join(dir, `${name.replace(/[@/]/g, "_")}.mjs`);
    writeFileSync(entry, src);
    const out = await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "silent", absWorkingDir: dir });
    const js = out.outputFiles[0].contents;
    let wasm = new Uint8Array();
    if (name === "usvideo") wasm = readFileSync(join(here, "pkg/gen/usvideo_wasm_bg.wasm"));
    const version = name === "usvideo" ? JSON.parse(readFileSync(join(here, "pkg/package.json"), "utf8")).version : PEERS[name];
    rows.push({ name, version, js: js.length, jsGz: gzipSync(js, { level: 9 }).length, wasm: wasm.length, wasmGz: wasm.length ? gzipSync(wasm, { level: 9 }).length : 0 });
  }
  return rows;
}

async function overhead(rounds = 400) {
  const emu = await startEmulator(["--time-scale", "1"]);
  try {
    const acct = await emu.control("accounts", { email: "[email protected]", balance_cents: 100_000, plan: "enterprise", requests_per_minute: 1_000_000, concurrent_jobs: 100 });
    const { USVideo } = await import("usvideo");
    const client = new USVideo({ apiKey: acct.api_key, baseURL: emu.api, requestsPerMinute: 1_000_000 });
    const job = await client.videos.create({ prompt: "a lake at dawn", mode: "text_to_video" });
    const url = `${emu.api}/videos/${job.id}`;
    const headers = { authorization: `Bearer ${acct.api_key}`, accept: "application/json" };
    const raw = async () => (await fetch(url, { headers })).json();
    const sdk = () => client.videos.retrieve(job.id);
    for (let i = 0; i < 50; i++) {
      await raw();
      await sdk();
    }
    const tRaw = [];
    const tSdk = [];
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      await raw();
      tRaw.push(performance.now() - t);
      t = performance.now();
      await sdk();
      tSdk.push(performance.now() - t);
    }
    const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    return { rounds, raw: median(tRaw), sdk: median(tSdk), ratio: median(tSdk) / median(tRaw) };
  } finally {
    emu.stop();
  }
}

const kb = (n) => (n / 1024).toFixed(1);
const batchWasm = readFileSync(join(here, "pkg/gen/usvideo_batch_bg.wasm"));
const batchGz = gzipSync(batchWasm, { level: 9 }).length;
const rows = await sizes();
const o = await overhead();
const table = [
  "| package | version | JS (min) | JS gzip | wasm | wasm gzip | **total gzip** |",
  "|---|---|---:|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.name} | ${r.version} | ${kb(r.js)} KB | ${kb(r.jsGz)} KB | ${r.wasm ? `${kb(r.wasm)} KB` : "–"} | ${r.wasmGz ? `${kb(r.wasmGz)} KB` : "–"} | **${kb(r.jsGz + r.wasmGz)} KB** |`),
].join("\n");
const md = `# Benchmarks of the npm package \`usvideo\`

Written by \`wasm/bench-size.sh\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}).

## Size: an app that creates a video job and waits for it

esbuild ${esbuild.version} (bundle, minify, ESM, browser platform), gzip -9. For \`usvideo\` the
WebAssembly module is a separate asset fetched at import and is counted in the total. Goal ≤ 40 KB
gzipped, stretch ≤ 21 KB.

${table}

The batch scheduler is a second module, \`gen/usvideo_batch_bg.wasm\` (${kb(batchWasm.length)} KB, ${kb(batchGz)} KB
gzipped), fetched only the first time a batch runs: it is not in the app above (esbuild does
inline its ~2 KB gzipped JS glue, reached by a dynamic \`import()\`; bundlers that split chunks,
such as Vite, do not).

## Per-call overhead

\`client.videos.retrieve(id)\` against a raw \`fetch(url)\` + \`res.json()\` of the same URL, on loopback
against the emulator, ${o.rounds} alternating rounds after 50 of warm-up; medians.

| raw fetch | usvideo retrieve | ratio (goal ≤ 1.10) |
|---:|---:|---:|
| ${o.raw.toFixed(3)} ms | ${o.sdk.toFixed(3)} ms | **${o.ratio.toFixed(3)}** |

## Reading the numbers

- **Size: the goal (≤ 40 KB) is missed by ~${(Number(kb(rows[0].jsGz + rows[0].wasmGz)) / 40).toFixed(1)}×.** The JavaScript (wrapper + glue) is ~${kb(rows[0].jsGz)} KB
  gzipped; the rest is the WebAssembly module, almost all of it the core. The batch scheduler is a
  second module (the crate's \`batch\` feature), loaded the first time a batch runs; the module
  every app loads keeps only the core's \`BatchPlan\` (a batch checked, keyed and estimated
  without its scheduler, so that \`batch()\` still throws at once and knows its estimate and first
  snapshot), ~8 KB gzipped of it (2026-12-04). The main module went from 136.1 KB (2026-12-03) to
  97,017 bytes (2026-12-03: the core's own JSON parser instead of serde_json's, the standard
  library rebuilt for size on nightly, \`wasm-opt --converge\`) and to 83,575 bytes gzipped
  (2026-12-04: every value handed to JS written and every body and option record read by
  hand-written code in the core, so no serde code is left in the module; the batch preflight
  through \`BatchPlan\`). \`opt-level = "s"\` is ~8.5 KB larger; this binding adds no
  serde-wasm-bindgen, gloo-net, js-sys or futures. Where the bytes are now: wasm/README.md,
  "Assumptions and limits" (no single large piece is left: 40 KB needs a module that does not
  carry the whole core).
- **Overhead: the goal (≤ 1.10) is missed; the ratio is ~1.2–1.3** on a 0.3–0.5 ms loopback round
  trip (noisy on a shared 2-core machine), i.e. ~0.06–0.1 ms per call. The core's work per call is
  ~11–12 µs in a hot loop (\`node bench/steps.mjs\`, printed after this file by the script) but ~2.5× that
  between real round trips (cold caches after each wait for the network: measured 2026-12-04, the
  same calls after a 1 ms idle cost 19 µs; a minimal driver making them around a real request is
  within ~10 µs of the SDK). A raw \`fetch\` with the SDK's signal, timer, headers and streamed
  read is 0.95–1.04× of \`fetch\` + \`.json()\`, so the gap is the core's calls. A core built at
  \`opt-level = 2\` is ~30 % faster per call but 12 KB gzipped larger. Against a real service
  (tens of ms per call) the overhead is well under 1 %.
`;
writeFileSync(join(here, "BENCHMARKS.md"), md);
console.log(md);
