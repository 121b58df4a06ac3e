// @ts-check
// client.videos.batch / resumeBatch through the built package against the emulator: limits kept
// (no 429, each job created once), refusal before anything is sent, cancel, abort, and resume in a
// new process after the first one was SIGKILLed mid-batch.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as usv from "usvideo";
import { startEmulator } from "./emulator.mjs";

const { USVideo } = usv;
const SCALE = 50;

/** @type {Awaited<ReturnType<typeof startEmulator>>} */
let emu;
/** A frozen clock: jobs stay pending until cancelled. @type {Awaited<ReturnType<typeof startEmulator>>} */
let frozen;
before(async () => {
  [emu, frozen] = await Promise.all([startEmulator(["--time-scale", String(SCALE)]), startEmulator(["--time-scale", "0"])]);
});
after(() => {
  emu?.stop();
  frozen?.stop();
});

/** A fetch that records every request and response status. */
function recording() {
  /** @type {{method: string, path: string, status: number}[]} */
  const calls = [];
  /** @type {typeof fetch} */
  const f = async (input, init) => {
    const res = await fetch(input, init);
    calls.push({ method: init?.method ?? "GET", path: new URL(String(input)).pathname, status: res.status });
    return res;
  };
  return { calls, fetch: f };
}

/** @param {number} n @returns {import("usvideo").CreateVideoParams[]} */
const requests = (n, prefix = "clip") =>
  Array.from({ length: n }, (_, i) => ({ prompt: `${prefix} ${i}`, mode: "text_to_video", resolution: /** @type {const} */ (["720p", "1080p", "2k"])[i % 3], duration: 1 + ((i * 3) % 10) }));

/** @param {Awaited<ReturnType<typeof startEmulator>>} e */
async function fresh(e, balance = 5_000) {
  const acct = await e.account(balance);
  const rec = recording();
  return { acct, rec, client: new USVideo({ apiKey: acct.api_key, baseURL: e.api, fetch: rec.fetch }) };
}

test("12 jobs finish within the limits: no 429, each created once, results as they finish", async () => {
  const { acct, rec, client } = await fresh(emu);
  const reqs = requests(12);
  /** @type {import("usvideo").BatchProgress[]} */
  const progress = [];
  const batch = await client.videos.batch(reqs, { maxSpendCents: 2_000, expectedScale: 1 / SCALE, pollIntervalMs: 300, onProgress: (p) => progress.push(p) });
  const expected = usv.estimateCost(reqs);
  assert.equal(batch.estimatedCents, expected);
  assert.equal(rec.calls.length, 0, "nothing is sent before the first next()");
  /** @type {number[]} */
  const order = [];
  for await (const item of batch) {
    assert.equal(item.error, undefined, String(item.error));
    assert.equal(item.job?.status, "completed");
    assert.match(item.job.video_url, /^http/);
    assert.equal(item.job.prompt, reqs[item.index].prompt);
    order.push(item.index);
  }
  assert.deepEqual([...order].sort((a, b) => a - b), [...Array(12).keys()]);
  const s = batch.summary;
  assert.ok(s);
  assert.deepEqual(s.results.map((r) => r.index), [...Array(12).keys()], "the summary keeps input order");
  assert.equal(s.progress.completed, 12);
  assert.equal(s.spent_cents, expected);
  assert.equal(rec.calls.filter((c) => c.status === 429).length, 0, "the batch never causes a 429");
  assert.equal(rec.calls.filter((c) => c.method === "POST").length, 12);
  assert.ok(progress.length > 0 && progress.every((p) => p.in_flight <= 10));
  assert.equal(progress.at(-1)?.completed, 12);
  const l = await emu.ledger(acct.email);
  assert.equal(l.jobs_created, 12);
  assert.equal(l.deposits_cents - l.balance_cents, expected, "charged once per job");
  assert.equal(JSON.parse(batch.snapshot()).items.every((/** @type {any} */ i) => i.state === "done"), true);
});

test("refused beyond maxSpendCents or the balance, before anything is sent", async () => {
  const { acct, rec, client } = await fresh(emu, 100);
  await assert.rejects(
    client.videos.batch(requests(12), { maxSpendCents: 500 }),
    (e) => e instanceof usv.ValidationError && e.field === "maxSpendCents" && /above maxSpendCents/.test(e.message) && e.issues[0].field === "maxSpendCents",
  );
  // A bad option is named as the caller wrote it, not by the core's wire name; a number of the
  // right type but a wrong value (negative, a fraction) is out of range, as a wait's timeoutMs says.
  for (const [o, field, code] of /** @type {[any, string, string][]} */ ([[{ concurrentJobs: -1 }, "concurrentJobs", "out_of_range"], [{ requestsPerMinute: 1.5 }, "requestsPerMinute", "out_of_range"], [{ pollIntervalMs: "5" }, "pollIntervalMs", "invalid_type"], [{ maxSpendCents: -5 }, "maxSpendCents", "out_of_range"], [{ maxSpendCents: 2.5 }, "maxSpendCents", "out_of_range"],
    // Values the core refuses by its rules: a batch that would never start, or would loop on lists.
    [{ concurrentJobs: 0 }, "concurrentJobs", "out_of_range"], [{ pollIntervalMs: 0 }, "pollIntervalMs", "out_of_range"], [{ likelyFrom: 5 }, "likelyFrom", "out_of_range"], [{ expectedScale: 0 }, "expectedScale", "out_of_range"], [{ expectedScale: -1 }, "expectedScale", "out_of_range"]])) {
    await assert.rejects(client.videos.batch(requests(2), o), (e) => e instanceof usv.ValidationError && e.field === field && e.message.startsWith(field) && e.issues[0].code === code, JSON.stringify(o));
  }
  // Several at once: every issue, and the message, name them as written.
  await assert.rejects(client.videos.batch(requests(2), { concurrentJobs: 0, pollIntervalMs: 0, likelyFrom: 5 }), (e) =>
    e instanceof usv.ValidationError && e.issues.map((i) => i.field).join() === "concurrentJobs,pollIntervalMs,likelyFrom" && !/concurrent_jobs|poll_interval_ms|likely_from/.test(e.message), "several");
  await assert.rejects(
    client.videos.batch([requests(1)[0], { prompt: "x", mode: "text_to_video", duration: 11 }]),
    (e) => e instanceof usv.ValidationError && e.field === "requests[1].duration",
  );
  // An empty batch (a caller's list may be) ends at once, empty, nothing sent.
  const empty = await client.videos.batch([]);
  assert.equal(empty.estimatedCents, 0);
  for await (const _ of empty) assert.fail("no items");
  assert.deepEqual([empty.summary?.results, empty.summary?.spent_cents], [[], 0]);
  assert.equal(rec.calls.length, 0);
  const batch = await client.videos.batch(requests(12));
  await assert.rejects(batch.next(), (e) => e instanceof usv.InsufficientBalanceError && /balance is 100 cents/.test(e.message));
  assert.deepEqual(await batch.next(), { value: undefined, done: true });
  assert.deepEqual(rec.calls.map((c) => `${c.method} ${c.path}`), ["GET /v1/account"], "only the balance was read");
  assert.equal((await emu.ledger(acct.email)).jobs_created, 0);
});

test("cancel: queued items end cancelled, pending jobs are deleted and refunded", async () => {
  const { acct, client } = await fresh(frozen);
  /** @type {import("usvideo").Batch} */
  let batch;
  /** @type {Promise<import("usvideo").BatchSummary | undefined> | undefined} */
  let cancelled;
  batch = await client.videos.batch(requests(8), {
    concurrentJobs: 3,
    onProgress: (p) => {
      if (p.in_flight === 3 && !cancelled) cancelled = batch.cancel();
    },
  });
  /** @type {import("usvideo").BatchItem[]} */
  const items = [];
  for await (const item of batch) items.push(item);
  const summary = await cancelled;
  assert.ok(summary);
  assert.equal(items.length, 8);
  for (const item of items) {
    assert.ok(item.error instanceof usv.AbortError, String(item.error));
    assert.equal(item.error.kind, "cancelled");
    assert.equal(item.error.cause, undefined, "cancel() is no signal's abort: no cause");
    assert.equal(summary.results[item.index], item, "the summary holds the items that were yielded");
  }
  assert.deepEqual([summary.progress.cancelled, summary.progress.failed], [8, 0]);
  assert.equal(summary.spent_cents, 0);
  const l = await frozen.ledger(acct.email);
  assert.equal(l.jobs_created, 3);
  assert.equal(l.active_jobs, 0, "every pending job was deleted");
  assert.equal(l.balance_cents, l.deposits_cents, "and refunded");
});

/**
 * `p`, or a rejection naming `what` after `ms`: a hang fails the test instead of stalling it.
 * @template T @param {Promise<T>} p @param {number} ms @param {string} what @returns {Promise<T>}
 */
function within(p, ms, what) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let t;
  return Promise.race([p, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

test("a callback that awaits batch.cancel() does not hang the batch (helper-64)", async () => {
  const { acct, client } = await fresh(frozen);
  /** @type {import("usvideo").Batch} */
  let batch;
  /** @type {Promise<unknown> | undefined} */
  let cancelled;
  batch = await client.videos.batch(requests(5), {
    concurrentJobs: 2,
    onProgress: async (p) => {
      if (p.in_flight === 2 && !cancelled) await (cancelled = batch.cancel());
    },
  });
  /** @type {import("usvideo").BatchItem[]} */
  const items = [];
  await within((async () => {
    for await (const item of batch) items.push(item);
  })(), 20_000, "the batch's iteration");
  assert.ok(await within(Promise.resolve(cancelled), 5_000, "cancel()"));
  assert.equal(items.length, 5);
  assert.ok(items.every((i) => i.error?.kind === "cancelled"), String(items.map((i) => i.error)));
  const l = await frozen.ledger(acct.email);
  assert.deepEqual([l.jobs_created, l.active_jobs], [2, 0], "the two pending jobs deleted");
});

test("a create waiting for a rate-limit slot is never sent once the batch is cancelled (helper-64: sent 44 s later, charged)", async () => {
  const acct = await frozen.account(5_000);
  const client = new USVideo({ apiKey: acct.api_key, baseURL: frozen.api, requestsPerMinute: 3 });
  for (let i = 0; i < 3; i++) await client.account.retrieve(); // the key's budget spent for a minute
  const batch = await client.videos.batch(requests(2), { checkBalance: false });
  const first = batch.next(); // its first create waits for a slot
  await new Promise((r) => setTimeout(r, 300));
  const summary = await within(batch.cancel(), 5_000, "cancel()");
  assert.ok(summary);
  assert.deepEqual([summary.progress.cancelled, summary.progress.requests], [2, 0], JSON.stringify(summary.progress));
  const item = (await first).value;
  assert.equal(item?.error?.kind, "cancelled", String(item?.error));
  assert.equal(item?.job, undefined, "no job");
  const l = await frozen.ledger(acct.email);
  assert.equal(l.jobs_created, 0, "nothing was created");
});

test("an AbortSignal rejects next() at once and cancels the batch in the background; the items its clean-up ends are yielded after", async () => {
  const { acct, client } = await fresh(frozen);
  const ac = new AbortController();
  const why = new Error("the user left");
  const batch = await client.videos.batch(requests(6), { concurrentJobs: 2, signal: ac.signal, onProgress: (p) => p.in_flight === 2 && ac.abort(why) });
  const t0 = performance.now();
  await assert.rejects(batch.next(), (e) => e instanceof usv.AbortError);
  assert.ok(performance.now() - t0 < 5_000);
  // The abort rejected one next() (the waiting one); the following ones yield every item the
  // clean-up ended, none lost to the rejected next(), as after a cancel() (they were in the summary
  // only, never yielded), then end.
  /** @type {import("usvideo").BatchItem[]} */
  const items = [];
  for await (const item of batch) items.push(item);
  assert.deepEqual(items.map((i) => i.index).sort(), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual([batch.summary?.progress.cancelled, batch.summary?.progress.failed], [6, 0]);
  // Items the abort cancelled carry its reason, as a single call's AbortError does.
  for (const item of items) {
    assert.equal(item.error?.kind, "cancelled", String(item.error));
    assert.equal(item.error?.cause, why);
    assert.equal(batch.summary?.results[item.index], item, "the summary holds the items that were yielded");
  }
  const l = await frozen.ledger(acct.email);
  assert.equal(l.jobs_created, 2);
  assert.equal(l.active_jobs, 0);
  assert.equal(l.balance_cents, l.deposits_cents);
});

test("an abort while batch() loads rejects it with AbortError and sends nothing; a resumed batch's jobs are left alone", async () => {
  const { rec, client } = await fresh(frozen);
  const ac = new AbortController();
  const why = new Error("the user left");
  const started = client.videos.batch(requests(2), { signal: ac.signal });
  ac.abort(why); // batch() is still loading the batch module and its driver
  await assert.rejects(started, (e) => e instanceof usv.AbortError && e.cause === why);
  // Aborted before the call, as a single call's: refused too.
  await assert.rejects(client.videos.batch(requests(2), { signal: AbortSignal.abort() }), usv.AbortError);
  assert.equal(rec.calls.length, 0);
  // A resumed batch with a pending job: a cancel would look at the job and delete it, for a batch
  // its caller never got.
  const job = await client.videos.create(requests(1, "resumed")[0]);
  const source = await client.videos.batch(requests(1, "resumed"), { checkBalance: false });
  const snapshot = JSON.parse(source.snapshot());
  await source.cancel();
  snapshot.items[0] = { ...snapshot.items[0], state: "running", job_id: job.id };
  const sent = rec.calls.length;
  const ac2 = new AbortController();
  const resumed = client.videos.resumeBatch(JSON.stringify(snapshot), { signal: ac2.signal });
  ac2.abort();
  await assert.rejects(resumed, usv.AbortError);
  await new Promise((r) => setTimeout(r, 300)); // time for a cancel in the background to send
  assert.deepEqual(rec.calls.slice(sent), [], "nothing sent");
  assert.equal((await client.videos.retrieve(job.id)).status, "pending", "the job left alone");
  await client.videos.delete(job.id);
});

test("resume after a SIGKILL: a new process continues from the last snapshot, nothing created or charged twice", async () => {
  const N = 12;
  const acct = await emu.account(5_000);
  const dir = mkdtempSync(join(tmpdir(), "usvideo-batch-"));
  const file = join(dir, "snapshot.json");
  try {
    const child = spawn(process.execPath, [fileURLToPath(new URL("./batch-child.mjs", import.meta.url))], {
      env: { ...process.env, USVIDEO_API_KEY: acct.api_key, USVIDEO_BASE_URL: emu.api, USVIDEO_BATCH_SNAPSHOT: file, USVIDEO_BATCH_N: String(N) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((r) => child.once("exit", (code, signal) => r(signal ?? code)));
    let done = 0;
    for await (const line of createInterface({ input: /** @type {import("node:stream").Readable} */ (child.stdout) })) {
      assert.notEqual(line, "done", "the child finished before it was killed");
      if (line.startsWith("item ") && ++done === 3) {
        child.kill("SIGKILL");
        break;
      }
    }
    assert.equal(await exited, "SIGKILL");
    const snapshot = readFileSync(file, "utf8");
    const states = JSON.parse(snapshot).items.map((/** @type {any} */ i) => i.state);
    assert.ok(states.filter((/** @type {string} */ s) => s === "done").length >= 3, states.join(","));
    assert.ok(states.some((/** @type {string} */ s) => s !== "done"), "killed mid-way");
    const before = await emu.ledger(acct.email);
    assert.ok(before.jobs_created < N || states.some((/** @type {string} */ s) => s !== "done"));

    const rec = recording();
    const client = new USVideo({ apiKey: acct.api_key, baseURL: emu.api, fetch: rec.fetch });
    const batch = await client.videos.resumeBatch(snapshot, { expectedScale: 1 / SCALE, pollIntervalMs: 300 });
    /** @type {number[]} */
    const resumed = [];
    for await (const item of batch) {
      assert.equal(item.error, undefined, String(item.error));
      resumed.push(item.index);
    }
    const s = batch.summary;
    assert.ok(s);
    assert.equal(s.progress.completed, N);
    // Every item reaches the caller once across both processes: an item done but not yet handed
    // out when the snapshot was taken (`unreported`: the child saves in `onEvent`, before its
    // `for await` takes the item) is yielded by the resume.
    const handedOut = JSON.parse(snapshot).items.filter((/** @type {any} */ i) => i.state === "done" && !i.unreported).length;
    assert.equal(resumed.length + handedOut, N);
    const l = await emu.ledger(acct.email);
    assert.equal(l.jobs_created, N, "each item created exactly once across both processes");
    const cost = usv.estimateCost(JSON.parse(snapshot).items.map((/** @type {any} */ i) => i.request));
    assert.equal(l.deposits_cents - l.balance_cents, cost, "charged once");
    assert.equal(l.spent_cents, cost);
    assert.equal(rec.calls.filter((c) => c.status === 429).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a snapshot more than 23 h older than the service's Date sends nothing again (helper-54: 6 jobs for 3 items)", async () => {
  // Its own emulator: the clock jumps a day. Fast (Bun gives a test 5 s).
  const own = await startEmulator(["--time-scale", "1000"]);
  try {
    const { acct, client } = await fresh(own);
    const options = { concurrentJobs: 1, expectedScale: 1 / 1000, pollIntervalMs: 20 };
    const batch = await client.videos.batch(requests(3), options);
    /** @type {string | undefined} */
    let snapshot;
    for await (const _ of batch) snapshot ??= batch.snapshot(); // at the first item: the others still to send
    assert.ok(snapshot && batch.summary?.progress.completed === 3);
    const saved = JSON.parse(snapshot);
    assert.equal(typeof saved.service_date_ms, "number");
    const queued = saved.items.flatMap((/** @type {any} */ it, /** @type {number} */ i) => (it.state === "queued" ? [i] : []));
    assert.ok(queued.length > 0, saved.items.map((/** @type {any} */ it) => it.state).join(","));
    await own.control("clock", { advance_ms: 25 * 3_600_000 });
    const resumed = await client.videos.resumeBatch(snapshot, options);
    /** @type {Map<number, import("usvideo").BatchItem>} */
    const items = new Map();
    for await (const item of resumed) items.set(item.index, item);
    assert.equal((await own.ledger(acct.email)).jobs_created, 3, "nothing made again");
    for (const i of queued) {
      const e = items.get(i)?.error;
      assert.ok(e instanceof usv.UsageError && e.code === "snapshot_too_old", String(e));
      assert.equal(e.idempotencyKey, undefined, "no key: under a forgotten one, sending again is no safe retry");
      assert.match(e.message, /snapshot is 2\d h \d+ min old/);
    }
  } finally {
    own.stop();
  }
});

test("once a resumed batch's snapshot turns stale, the summary drops the keys of items yielded with one, as the core does (helper-61)", async () => {
  const own = await startEmulator(["--time-scale", "1000"]);
  try {
    const { client } = await fresh(own);
    const options = { concurrentJobs: 1, expectedScale: 1 / 1000, pollIntervalMs: 20 };
    const batch = await client.videos.batch(requests(5), options);
    /** @type {string | undefined} */
    let snapshot;
    for await (const _ of batch) snapshot ??= batch.snapshot();
    assert.ok(snapshot);
    const saved = JSON.parse(snapshot);
    const queued = saved.items.flatMap((/** @type {any} */ it, /** @type {number} */ i) => (it.state === "queued" ? [i] : []));
    assert.ok(queued.length >= 3, saved.items.map((/** @type {any} */ it) => it.state).join(","));
    // Two items the snapshot's process saw end with their key (an unknown outcome, a 502 after
    // the retries) and had not yet handed out: the resumed batch yields them with it, before its
    // first answer's Date shows the snapshot 25 h old. One item stays queued, so that it reads one.
    const [unknown, failed] = queued;
    const ended = (/** @type {number} */ i, /** @type {object} */ error) => ({ ...saved.items[i], state: "done", unreported: true, result: { index: i, error: { ...error, idempotency_key: saved.items[i].idempotency_key } } });
    saved.items[unknown] = ended(unknown, { kind: "timeout", code: "outcome_unknown", message: "no answer" });
    saved.items[failed] = ended(failed, { kind: "upstream", code: "upstream", message: "bad gateway", status: 502 });
    await own.control("clock", { advance_ms: 25 * 3_600_000 });
    /** @type {string[]} */
    const warnings = [];
    const resumed = await client.videos.resumeBatch(JSON.stringify(saved), { ...options, onEvent: (e) => e.type === "warning" && warnings.push(e.message) });
    /** @type {Map<number, import("usvideo").BatchItem>} */
    const items = new Map();
    for await (const item of resumed) items.set(item.index, item);
    for (const i of [unknown, failed]) assert.equal(items.get(i)?.error?.idempotencyKey, saved.items[i].idempotency_key, "yielded as the snapshot had it");
    assert.ok(warnings.some((w) => w.includes(`(${unknown}, ${failed})`)), warnings.join("\n"));
    const results = resumed.summary?.results ?? [];
    const [u, f] = [results[unknown]?.error, results[failed]?.error];
    // Both recoded (their classes, a timeout's and a 502's, kept) and neither retryable: a new
    // create could charge twice (helper-72: the 502 kept its retryable code).
    assert.deepEqual([u?.code, u?.idempotencyKey, f?.code, f?.idempotencyKey], ["snapshot_too_old", undefined, "snapshot_too_old", undefined]);
    for (const e of [u, f]) assert.ok(/no safe retry/.test(String(e?.message)) && e?.retryable === false, String(e));
  } finally {
    own.stop();
  }
});

test("a snapshot that is not one is refused", async () => {
  const { client } = await fresh(emu);
  await assert.rejects(client.videos.resumeBatch("{}"), (e) => e instanceof usv.ValidationError && e.field === "snapshot");
  await assert.rejects(client.videos.resumeBatch(JSON.stringify({ version: 9, items: [], scale: 1 })), (e) => e instanceof usv.ValidationError && e.field === "snapshot.version");
});

test("a snapshot resumes only with the key and service that took it", async () => {
  // helper-37: resumed on another account, every job was a 404 read as refunded while the first
  // account was charged.
  const { client } = await fresh(emu);
  const batch = await client.videos.batch(requests(2), { checkBalance: false });
  const snapshot = batch.snapshot();
  await batch.cancel();
  const { client: other } = await fresh(emu);
  await assert.rejects(other.videos.resumeBatch(snapshot), (e) => e instanceof usv.UsageError && /another API key or base URL/.test(e.message));
  const resumed = await client.videos.resumeBatch(snapshot);
  await resumed.cancel();
});

test("before the first next(), the snapshot, counts and estimate are known, nothing is sent, and a cancel keeps the keys", async () => {
  const { rec, client } = await fresh(emu);
  const reqs = requests(3);
  const batch = await client.videos.batch(reqs, { checkBalance: false });
  const before = JSON.parse(batch.snapshot());
  assert.deepEqual(before.items.map((/** @type {any} */ i) => i.state), ["queued", "queued", "queued"]);
  assert.deepEqual(batch.progress(), { total: 3, queued: 3, in_flight: 0, completed: 0, failed: 0, cancelled: 0, requests: 0 });
  const summary = await batch.cancel();
  assert.equal(rec.calls.length, 0, "nothing was sent");
  assert.deepEqual(summary?.results.map((r) => r.error?.name), ["AbortError", "AbortError", "AbortError"]);
  const after = JSON.parse(batch.snapshot());
  assert.deepEqual(after.items.map((/** @type {any} */ i) => i.idempotency_key), before.items.map((/** @type {any} */ i) => i.idempotency_key));
  // A resumed batch: its estimate and counts before anything runs.
  const resumed = await client.videos.resumeBatch(JSON.stringify({ ...before, items: before.items.slice(0, 2) }));
  assert.equal(resumed.estimatedCents, usv.estimateCost(reqs.slice(0, 2)));
  assert.deepEqual(resumed.progress(), { total: 2, queued: 2, in_flight: 0, completed: 0, failed: 0, cancelled: 0, requests: 0 });
  await resumed.cancel();
  assert.equal(rec.calls.length, 0);
});

test("a concurrency_limit 429 met by a batch pauses none of the client's other calls", async () => {
  // The account's one job slot is taken (a frozen clock keeps it pending): the batch's create is
  // refused with a `concurrency_limit` 429 whose Retry-After is the job's remaining time (≥ 20 s).
  const acct = await frozen.control("accounts", { email: `full-${Date.now()}@example.com`, balance_cents: 5_000, concurrent_jobs: 1 });
  const rec = recording();
  const client = new USVideo({ apiKey: acct.api_key, baseURL: frozen.api, fetch: rec.fetch });
  await client.videos.create({ prompt: "fills the account", mode: "text_to_video" });
  const batch = await client.videos.batch([{ prompt: "refused for now", mode: "text_to_video" }]);
  const first = batch.next();
  while (!rec.calls.some((c) => c.method === "POST" && c.status === 429)) await new Promise((r) => setTimeout(r, 20));
  // About job slots, not the request rate: a read goes out at once (it used to wait out the
  // Retry-After, since the client's limiter never saw the 429's body).
  /** @type {Promise<string>} */
  const late = new Promise((r) => setTimeout(() => r("still waiting after 5 s"), 5_000).unref());
  assert.equal(await Promise.race([client.account.retrieve().then(() => "answered"), late]), "answered");
  await batch.cancel();
  await first.catch(() => undefined);
});
