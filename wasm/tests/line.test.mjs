// @ts-check
// The line of calls waiting for a slot of a client's rate limit, on a virtual clock: first come
// first served, one timer a slot however many wait, an abort or a deadline leaving at once.
// Node only (node:test's mock timers; `performance.now` replaced): not in the Node 18, Bun and
// Deno runs.
import { test, mock, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { USVideo, AbortError, WaitTimeoutError } from "usvideo";

const WINDOW = 61_000; // the limiter's rolling minute and its margin (core/src/ratelimit.rs)

/** Virtual time: `performance.now()` (the driver's clock) and the mocked `setTimeout` move together. */
let clock = 0;
const realNow = performance.now;
/** Timers set and timers that fired (the herd: a wake-up per waiter per slot). */
let counts = { set: 0, fired: 0 };

beforeEach(() => {
  clock = 1_000_000;
  performance.now = () => clock;
  mock.timers.enable({ apis: ["setTimeout"] });
  const mocked = globalThis.setTimeout;
  counts = { set: 0, fired: 0 };
  // @ts-ignore -- a counting wrapper of the mocked setTimeout
  globalThis.setTimeout = (/** @type {() => void} */ f, /** @type {number} */ ms) => {
    counts.set++;
    return mocked(() => {
      counts.fired++;
      f();
    }, ms);
  };
});
afterEach(() => {
  mock.timers.reset();
  performance.now = realNow;
});

/** Lets every promise chain the virtual time started run (setImmediate is not mocked). */
async function settle() {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

/** Moves virtual time to `to` (ms after the start), firing the timers due on the way. @param {number} to */
async function advanceTo(to) {
  const ms = 1_000_000 + to - clock;
  clock += ms;
  mock.timers.tick(ms);
  await settle();
}

/** A client whose fetch answers every retrieve at once, recording the ids in the order sent. @param {number} rpm */
function client(rpm) {
  /** @type {string[]} */
  const sent = [];
  /** @param {string | URL | Request} url */
  const fetch = async (url) => {
    const id = String(url).split("/").pop() ?? "";
    sent.push(id);
    return new Response(JSON.stringify({ id, status: "pending" }), { status: 200, headers: { "content-type": "application/json" } });
  };
  return { sent, c: new USVideo({ apiKey: "sd_test_key_000000001", baseURL: "http://fake.test/v1", requestsPerMinute: rpm, timeoutMs: 3_600_000, fetch }) };
}

test("calls waiting for a slot are served in the order they came, one timer a slot", async () => {
  const { sent, c } = client(3);
  // The budget spent at 0, 20 and 40 s: one slot frees at 61, 81 and 101 s, and so on.
  for (const [i, at] of [0, 20_000, 40_000].entries()) {
    await advanceTo(at);
    await c.videos.retrieve(`job_first${i}`);
  }
  await advanceTo(41_000);
  const n = 20;
  /** @type {string[]} */
  const done = [];
  const calls = Array.from({ length: n }, (_, i) => c.videos.retrieve(`job_w${i}`).then((j) => done.push(j.id)));
  await settle();
  assert.equal(sent.length, 3, "nobody passes the spent budget");
  const firedBefore = counts.fired;
  // Each slot as it frees: exactly one more call goes, the first in line.
  const frees = [WINDOW, WINDOW + 20_000, WINDOW + 40_000];
  while (frees.length < n) frees.push((frees[frees.length - 3] ?? 0) + WINDOW);
  for (const [k, at] of frees.entries()) {
    await advanceTo(at - 1);
    assert.equal(done.length, k, `nothing goes before ${at} ms`);
    await advanceTo(at);
    assert.deepEqual(done, Array.from({ length: k + 1 }, (_, i) => `job_w${i}`), `the first ${k + 1} in line, in order`);
  }
  await Promise.all(calls);
  // One timer fires a slot (and the requests' own, which are cleared unfired). Each waiter
  // sleeping on its own fired one for every waiter left at every slot: n(n+1)/2 = 210 here.
  const fired = counts.fired - firedBefore;
  assert.ok(fired <= n + 2, `${fired} timers fired for ${n} slots`);
});

test("a waiter that aborts or whose deadline comes leaves the line at once and takes no slot", async () => {
  const { sent, c } = client(1);
  await c.videos.retrieve("job_first");
  const ac = new AbortController();
  /** @type {string[]} */
  const done = [];
  const a = c.videos.retrieve("job_a").then((j) => done.push(j.id));
  const aborted = c.videos.retrieve("job_aborted", { signal: ac.signal });
  // A wait of another client on the key (so in the same line) whose deadline comes while it waits.
  const other = new USVideo({ apiKey: "sd_test_key_000000001", baseURL: "http://fake.test/v1", requestsPerMinute: 1, fetch: async () => new Response("{}") });
  const timedOut = other.videos.wait("job_short", { timeoutMs: 30_000 }).catch((e) => e); // rejects before it is awaited
  const b = c.videos.retrieve("job_b").then((j) => done.push(j.id));
  await settle();
  ac.abort();
  await assert.rejects(aborted, AbortError);
  await advanceTo(30_000);
  const e = await timedOut;
  assert.ok(e instanceof WaitTimeoutError && /not sent: no slot/.test(e.message), String(e));
  assert.deepEqual(done, [], "still no slot: leaving the line took none");
  await advanceTo(WINDOW);
  assert.deepEqual(done, ["job_a"]);
  await advanceTo(2 * WINDOW);
  await Promise.all([a, b]);
  assert.deepEqual(done, ["job_a", "job_b"], "the one behind the two that left came next");
  assert.deepEqual(sent, ["job_first", "job_a", "job_b"]);
});
