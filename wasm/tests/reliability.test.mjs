// @ts-check
// The fault matrix (tests/reliability/README.md) through the built npm package in Node against the
// emulator binary: every scenario of tests/reliability/scenarios.json, results written to
// target/reliability/npm.json (joined into RELIABILITY.md by scripts/reliability).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as usv from "usvideo";
import { emulatorBinary } from "./emulator.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const matrix = JSON.parse(readFileSync(join(root, "tests/reliability/scenarios.json"), "utf8"));
const out = join(root, "target/reliability/npm.json");
/** Every wait in the matrix (the emulator runs 100× faster than the service). */
const POLL = { first_poll_ms: 100, min_interval_ms: 100, max_interval_ms: 300, expected_scale: 0.01 };

/**
 * An emulator binary as a child process. Killed with SIGKILL by `kill`, or stopped by `stop`.
 * @param {string[]} args
 */
async function emulator(args) {
  const child = spawn(emulatorBinary(), ["--exit-on-stdin-close", ...args], { stdio: ["pipe", "pipe", "ignore"] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: /** @type {import("node:stream").Readable} */ (child.stdout) }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the emulator exited with ${code} (args ${args.join(" ")})`)));
  });
  const m = /listening on (http:\/\/\S+)/.exec(String(line));
  if (!m) throw new Error(`unexpected first line: ${line}`);
  const url = m[1];
  /** @param {string} path @param {unknown} [body] @param {string} [method] */
  const control = async (path, body, method) => {
    const res = await fetch(`${url}/_emulator/${path}`, {
      method: method ?? (body === undefined ? "GET" : "POST"),
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const exited = new Promise((r) => child.once("exit", r));
  return {
    url,
    api: `${url}/v1`,
    port: new URL(url).port,
    control,
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: () => {
      child.stdin?.end();
      child.kill();
    },
  };
}

/** @type {Awaited<ReturnType<typeof emulator>>} */
let shared;
before(async () => {
  shared = await emulator(["--port", "0", "--time-scale", "100"]);
});
after(() => shared?.stop());

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** The last account of the ledger with `email`: jobs created and cents charged (held + spent). */
async function ledger(/** @type {Awaited<ReturnType<typeof emulator>>} */ emu, /** @type {string} */ email) {
  const accounts = (await emu.control("ledger")).accounts.filter((/** @type {any} */ a) => a.email === email);
  const a = accounts.at(-1);
  return { jobs_created: a?.jobs_created ?? -1, charged_cents: a ? a.deposits_cents - a.balance_cents : -1 };
}

/** @param {any} o @returns {Partial<usv.ClientOptions>} */
const clientOptions = (o = {}) => ({ ...(o.max_retries !== undefined && { maxRetries: o.max_retries }), ...(o.timeout_ms !== undefined && { timeoutMs: o.timeout_ms }) });

/** The emulator killed and restarted mid-wait (its own binary, state kept in --state-file). */
async function acrossRestart(/** @type {any} */ s, /** @type {string} */ email) {
  const dir = mkdtempSync(join(tmpdir(), "usvideo-reliability-"));
  const state = join(dir, "state.json");
  /** @type {Awaited<ReturnType<typeof emulator>> | undefined} */
  let emu = await emulator(["--port", "0", "--time-scale", "20", "--state-file", state]);
  const port = emu.port;
  try {
    const acct = await emu.control("accounts", { email, balance_cents: 10_000 });
    const client = new usv.USVideo({ apiKey: acct.api_key, baseURL: emu.api, ...clientOptions(s.client) });
    const t0 = performance.now();
    /** @type {{outcome: string, error?: unknown}} */
    let result;
    try {
      const job = await client.videos.create(matrix.request);
      const restart = (async () => {
        await sleep(300);
        await emu?.kill();
        emu = undefined;
        await sleep(500);
        emu = await emulator(["--port", port, "--time-scale", "20", "--state-file", state]);
      })();
      const waited = client.videos.wait(job.id, { timeoutMs: 60_000, poll: POLL });
      const [r] = await Promise.allSettled([waited, restart]);
      await restart;
      result = r.status === "fulfilled" ? { outcome: "ok" } : { outcome: "error", error: r.reason };
    } catch (e) {
      result = { outcome: "error", error: e };
    }
    const elapsed = performance.now() - t0;
    if (!emu) throw new Error("the emulator was not restarted");
    return { ...result, elapsed, ledger: await ledger(emu, email) };
  } finally {
    emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one scenario; never throws. */
async function run(/** @type {any} */ s) {
  const email = `${s.id}@reliability.test`;
  /** @type {{outcome: string, error?: any, elapsed: number, ledger: {jobs_created: number, charged_cents: number}}} */
  let r;
  if (s.call === "videos.create_and_wait_across_restart") {
    r = await acrossRestart(s, email);
  } else {
    await shared.control("faults", undefined, "DELETE");
    const acct = await shared.control("accounts", { email, balance_cents: 10_000 });
    const client = new usv.USVideo({ apiKey: acct.api_key, baseURL: shared.api, ...clientOptions(s.client) });
    if (s.faults.length) await shared.control("faults", s.faults);
    const t0 = performance.now();
    /** @type {{outcome: string, error?: unknown}} */
    let result = { outcome: "ok" };
    try {
      if (s.call === "account.retrieve") await client.account.retrieve();
      else if (s.call === "videos.create") await client.videos.create(matrix.request);
      else if (s.call === "videos.create_and_wait") await client.videos.createAndWait(matrix.request, { timeoutMs: 60_000, poll: POLL });
      else throw new Error(`unknown call ${s.call}`);
    } catch (e) {
      result = { outcome: "error", error: e };
    }
    const elapsed = performance.now() - t0;
    await shared.control("faults", undefined, "DELETE");
    r = { ...result, elapsed, ledger: await ledger(shared, email) };
  }
  const e = r.error;
  const kind = e === undefined ? null : usv.isUSVideoError(e) ? e.kind : "exception";
  const status = usv.isUSVideoError(e) ? (e.status ?? null) : null;
  const x = s.expect;
  /** @type {string[]} */
  const misses = [];
  if (r.outcome !== x.outcome) misses.push(`outcome ${r.outcome}, expected ${x.outcome}`);
  if (x.kind !== undefined && kind !== x.kind) misses.push(`kind ${kind}, expected ${x.kind}`);
  if (x.status !== undefined && status !== x.status) misses.push(`status ${status}, expected ${x.status}`);
  if (r.ledger.jobs_created !== x.jobs_created) misses.push(`jobs_created ${r.ledger.jobs_created}, expected ${x.jobs_created}`);
  if (r.ledger.charged_cents !== x.charged_cents) misses.push(`charged_cents ${r.ledger.charged_cents}, expected ${x.charged_cents}`);
  if (x.min_elapsed_ms !== undefined && r.elapsed < x.min_elapsed_ms) misses.push(`elapsed ${Math.round(r.elapsed)} ms < ${x.min_elapsed_ms}`);
  if (x.max_elapsed_ms !== undefined && r.elapsed > x.max_elapsed_ms) misses.push(`elapsed ${Math.round(r.elapsed)} ms > ${x.max_elapsed_ms}`);
  if (r.elapsed >= 30_000) misses.push(`elapsed ${Math.round(r.elapsed)} ms ≥ 30000`);
  // The core's messages are redacted; `note` never holds a key or a JWT.
  const message = e === undefined ? "" : `${e instanceof Error ? e.name : "thrown"}: ${e instanceof Error ? e.message : String(e)}`;
  const note = [...misses, message].filter(Boolean).join("; ");
  return { id: s.id, passed: misses.length === 0, outcome: r.outcome, kind, status, jobs_created: r.ledger.jobs_created, charged_cents: r.ledger.charged_cents, elapsed_ms: Math.round(r.elapsed), note };
}

test("the fault matrix (tests/reliability/scenarios.json)", async (t) => {
  /** @type {Awaited<ReturnType<typeof run>>[]} */
  const results = [];
  for (const s of matrix.scenarios) {
    await t.test(s.id, async () => {
      let r;
      try {
        r = await run(s);
      } catch (e) {
        r = { id: s.id, passed: false, outcome: "harness_error", kind: null, status: null, jobs_created: -1, charged_cents: -1, elapsed_ms: 0, note: String(e instanceof Error ? e.message : e) };
      }
      results.push(r);
      assert.ok(r.passed, `${s.title}: ${r.note}`);
    });
  }
  mkdirSync(join(root, "target/reliability"), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ language: "npm (Node)", client: "usvideo (npm: the WebAssembly core over fetch)", results }, null, 1)}\n`);
  assert.equal(results.length, matrix.scenarios.length);
});
