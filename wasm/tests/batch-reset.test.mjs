// @ts-check
// A batch whose module is reset under it (a trap in the batch module: a bug, this batch's or
// another's). A file of its own: the batch module is loaded here through a loader that can make
// the module's next `poll` trap, as a panic in the core would (the module is then reset for real).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { USVideo, InternalError } from "usvideo";
// Not in the package's entry: the entries' hook is taken from its module by file (`@internal`).
import * as driver from "../pkg/driver.js";
import * as batch from "../pkg/gen/usvideo_batch.js";
import { startEmulator } from "./emulator.mjs";

/** @type {(f: () => unknown) => void} */
const _setBatchLoader = /** @type {any} */ (driver)._setBatchLoader;

/** Set: the batch module's next `poll` traps (once). */
let trap = false;
let loaded = false;
_setBatchLoader(() => {
  if (!loaded) {
    batch.initSync({ module: readFileSync(new URL("../pkg/gen/usvideo_batch_bg.wasm", import.meta.url)) });
    const poll = batch.BatchRun.prototype.poll;
    batch.BatchRun.prototype.poll = function (/** @type {number} */ now) {
      if (trap) {
        trap = false;
        throw new WebAssembly.RuntimeError("unreachable");
      }
      return poll.call(this, now);
    };
    loaded = true;
  }
  return batch;
});

/** A frozen clock: jobs stay pending until deleted. @type {Awaited<ReturnType<typeof startEmulator>>} */
let frozen;
before(async () => {
  frozen = await startEmulator(["--time-scale", "0"]);
});
after(() => frozen?.stop());

/** @param {number} n @returns {import("usvideo").CreateVideoParams[]} */
const requests = (n) => Array.from({ length: n }, (_, i) => ({ prompt: `reset clip ${i}`, mode: "text_to_video", duration: 2 }));

test("a batch lost to a reset of its module names its running jobs, and its last snapshot resumes it with nothing made twice", async () => {
  const acct = await frozen.account(5_000);
  const client = new USVideo({ apiKey: acct.api_key, baseURL: frozen.api });
  /** @type {string[]} */
  const jobs = [];
  /** @type {string | undefined} */
  let saved;
  /** @type {import("usvideo").Batch} */
  let b;
  b = await client.videos.batch(requests(3), {
    concurrentJobs: 3,
    pollIntervalMs: 200,
    onEvent: (e) => {
      if (e.type !== "created") return;
      jobs.push(e.job.id);
      saved = b.snapshot(); // as a caller saves its progress
      if (jobs.length === 3) trap = true; // the module traps at the batch's next poll
    },
  });
  await assert.rejects(b.next(), (e) => {
    assert.ok(e instanceof InternalError, String(e));
    assert.match(e.message, /the batch module was reset after an internal error/);
    assert.match(e.message, /resume it from the last snapshot\(\) you saved/);
    for (const id of jobs) assert.ok(e.message.includes(id), `names ${id}: ${e.message}`);
    return true;
  });
  assert.equal(jobs.length, 3);
  assert.equal(trap, false, "the trap fired");
  // The batch is over: what it held is gone, and it says so rather than pretend.
  assert.throws(() => b.snapshot(), InternalError);
  await assert.rejects(b.cancel(), InternalError);
  assert.deepEqual(await b.next(), { value: undefined, done: true });

  // The reset module serves a new batch: the last snapshot resumes the lost one, adopting its jobs.
  assert.ok(saved);
  const resumed = await client.videos.resumeBatch(saved, { pollIntervalMs: 200 });
  const summary = await resumed.cancel();
  assert.ok(summary);
  assert.deepEqual(summary.results.map((r) => r.job?.id).sort(), [...jobs].sort(), "the same three jobs");
  const l = await frozen.ledger(acct.email);
  assert.equal(l.jobs_created, 3, "nothing made twice");
  assert.deepEqual([l.active_jobs, l.balance_cents], [0, l.deposits_cents], "the pending jobs deleted and refunded by the resumed batch's cancel");
});
