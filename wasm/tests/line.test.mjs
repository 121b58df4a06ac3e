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
  /** A counting wrapper of the mocked setTimeout. @param {() => void} f @param {number} ms */
  const counting = (f, ms) => {
    counts.set++;
    return mocked(() => {
      counts.fired++;
      f();
    }, ms);
  };
  globalThis.setTimeout = /** @type {typeof setTimeout} */ (/** @type {unknown} */ (counting));
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

/** Moves only the driver's clock (`performance.now`), firing no timer: a slot frees "between" two
 * timers, or a timer fires early on the driver's clock (timers run on the event loop's). @param {number} to */
function clockTo(to) {
  clock = 1_000_000 + to;
}

/** Fires the timers due within `ms` of mocked time, leaving the driver's clock where it is. @param {number} ms */
async function tickOnly(ms) {
  mock.timers.tick(ms);
  await settle();
}

let keys = 0;

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
  // A key of its own per test: the module keeps a key's limiter (and its window) across clients.
  const apiKey = `sd_test_key_line_${String(++keys).padStart(6, "0")}`;
  return { sent, c: new USVideo({ apiKey, baseURL: "http://fake.test/v1", requestsPerMinute: rpm, timeoutMs: 3_600_000, fetch }), apiKey };
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
  const { sent, c, apiKey } = client(1);
  await c.videos.retrieve("job_first");
  const ac = new AbortController();
  /** @type {string[]} */
  const done = [];
  const a = c.videos.retrieve("job_a").then((j) => done.push(j.id));
  const aborted = c.videos.retrieve("job_aborted", { signal: ac.signal });
  // A wait of another client on the key (so in the same line) whose deadline comes while it waits.
  const other = new USVideo({ apiKey, baseURL: "http://fake.test/v1", requestsPerMinute: 1, fetch: async () => new Response("{}") });
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

test("a call that comes when a slot has freed but the line's timer has not run yet joins the line", async () => {
  const { sent, c } = client(1);
  await c.videos.retrieve("job_first");
  /** @type {string[]} */
  const done = [];
  const w0 = c.videos.retrieve("job_w0").then((j) => done.push(j.id));
  await settle();
  clockTo(WINDOW); // the slot is free, the line's timer not yet run
  const late = c.videos.retrieve("job_late").then((j) => done.push(j.id));
  await settle();
  assert.deepEqual(sent, ["job_first"], "the late call did not take the slot the first in line waits for");
  await tickOnly(WINDOW);
  assert.deepEqual(done, ["job_w0"]);
  await advanceTo(2 * WINDOW);
  await Promise.all([w0, late]);
  assert.deepEqual(done, ["job_w0", "job_late"]);
});

test("two waiters of one aborted signal take no slot: the one behind them gets it at once", async () => {
  const { sent, c } = client(1);
  await c.videos.retrieve("job_first");
  const ac = new AbortController();
  const a = c.videos.retrieve("job_a", { signal: ac.signal }).catch((e) => e);
  const b = c.videos.retrieve("job_b", { signal: ac.signal }).catch((e) => e);
  /** @type {string[]} */
  const done = [];
  const third = c.videos.retrieve("job_c").then((j) => done.push(j.id));
  await settle();
  clockTo(WINDOW); // the slot is free, the line's timer not yet run: the abort comes first
  ac.abort();
  await settle();
  assert.ok((await a) instanceof AbortError && (await b) instanceof AbortError);
  assert.deepEqual(done, ["job_c"], "the slot went to the first waiter not aborted");
  await third;
  assert.deepEqual(sent, ["job_first", "job_c"]);
});

test("a deadline timer that fires early on the driver's clock waits on: the wait's own timeout comes", async () => {
  const { c } = client(1);
  await c.videos.retrieve("job_first");
  /** @type {unknown} */
  let settled;
  const waiting = c.videos.wait("job_x", { timeoutMs: 30_000 }).then(
    () => (settled = "resolved"),
    (e) => (settled = e),
  );
  await settle();
  clockTo(29_998); // the event loop's clock is 2 ms ahead of the driver's
  await tickOnly(30_000);
  assert.equal(settled, undefined, "still in line: the driver's clock is not at the deadline yet");
  clockTo(30_000);
  await tickOnly(5);
  await waiting;
  const e = /** @type {any} */ (settled);
  assert.ok(e instanceof WaitTimeoutError && /not sent: no slot/.test(e.message), String(e));
});
