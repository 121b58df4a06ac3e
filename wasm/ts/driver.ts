// The driver (internal, not re-exported by the package): the guard around every call into the
// WebAssembly modules, the clock, entropy and sleeps, and the loop that runs the core's machines
// over `fetch`. It decides nothing: it reads the clock, sleeps, fetches, honours AbortSignals and
// turns the core's records into JS values and errors.

import * as w from "./gen/usvideo_wasm.js";
// The batch scheduler is a second WebAssembly module, loaded the first time a batch runs (one
// module cannot be tree-shaken: apps that never run a batch do not download it). Types only here.
import type * as wb from "./gen/usvideo_batch.js";
import { AbortError, InternalError, UsageError, USVideoError, ValidationError, WaitTimeoutError, errorFromRecord } from "./errors.js";
import { BATCH_NAMES, JS_NAMES, known, refuse, REQUEST } from "./options.js";
import type { BatchOptions, ErrorRecord, FetchLike, Job, JobEvent, JobPage, ListParams, Progress, RequestOptions } from "./types.js";

// ------------------------------------------------------------------------------------------------
// The WebAssembly boundary: the panic guard
// ------------------------------------------------------------------------------------------------

/** Bumped whenever the module is re-instantiated after a panic: objects of older generations are dead. */
let generation = 0;

/** The same for the batch module. */
export let batchGeneration = 0;

function reset(batch: boolean): void {
  if (batch) {
    (loadedBatch as unknown as { __wbg_reset_state(): void } | undefined)?.__wbg_reset_state();
    batchGeneration++;
  } else {
    (w as unknown as { __wbg_reset_state(): void }).__wbg_reset_state();
    generation++;
    // The lines of the dead limiters send their waiters on to the new ones' (Line, rule 4): not
    // from here, which may be inside a line's own `serve`.
    void Promise.resolve().then(() => [...waitingLines].forEach((line) => line.serve()));
  }
}

/** Runs `f` against the module (`batch`: the batch module). A thrown core record becomes its error
 * class; a trap (a panic) becomes an `InternalError` and the module is re-instantiated, so the next
 * call works. */
export function g<T>(f: () => T, gen?: number, batch = false): T {
  if (gen !== undefined && gen !== (batch ? batchGeneration : generation)) {
    throw new InternalError("the WebAssembly module was reset after an internal error during this call", { kind: "internal", code: "internal" });
  }
  try {
    return f();
  } catch (e) {
    if (typeof e === "string") throw jsNames(errorFromRecord(JSON.parse(e)));
    if (e instanceof WebAssembly.RuntimeError || (e instanceof Error && /recursive use|null pointer|unreachable/.test(e.message))) {
      reset(batch);
      throw new InternalError(`internal error in the usvideo WebAssembly module (it was reset; please report this): ${e.message}`, { kind: "internal", code: "internal" });
    }
    throw e;
  }
}

/** The rate limiters of this module instance, by base URL, key digest and budget, the least
 * recently asked for first. */
const limiters = new Map<string, [number, w.Limiter]>();
/** How many keys' limiters are kept: a server with its customers' keys must not grow for ever. */
const LIMITERS_KEPT = 64;

/**
 * The rate limiter of a key: one per base URL, key and budget, shared by every client made with
 * them (the service counts a key's requests, not a client's: two clients on one key, or a server
 * that makes a client per request, would each spend the whole budget). The newest
 * `LIMITERS_KEPT` keys' are kept past their clients (a key's window must outlive a short-lived
 * client); a client keeps its own limiter however many keys came after. With no budget (0)
 * there is nothing to share. Keyed by a digest: the key itself is kept by the module's client only.
 */
export function sharedLimiter(base: string, key: string | undefined, rpm: number): w.Limiter {
  if (rpm === 0) return new w.Limiter(0);
  const id = `${base}\n${digest(key ?? "")}\n${rpm}`;
  const had = limiters.get(id);
  limiters.delete(id); // set again below: the most recently asked for last
  const kept = had?.[0] === generation ? had : ([generation, new w.Limiter(rpm)] as [number, w.Limiter]);
  limiters.set(id, kept);
  if (limiters.size > LIMITERS_KEPT) limiters.delete(limiters.keys().next().value as string);
  return kept[1];
}

/** 64 bits to tell keys apart by (FNV-1a, two lanes with different primes), not to hide them. */
function digest(s: string): string {
  let [a, b] = [0x811c9dc5, 0x9747b28c];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(36) + "." + (b >>> 0).toString(36);
}

/** @internal Tests only: makes the module panic. */
export function _debugPanic(): number {
  return g(() => w.__debug_panic(7));
}

/** The batch module once loaded, and how to load it (set by the entry: `index.js` fetches it, `node.js` reads it from disk). */
export type BatchModule = typeof wb;
let loadedBatch: BatchModule | undefined;
let loading: Promise<BatchModule> | undefined;
let batchLoader: () => BatchModule | Promise<BatchModule> = () => Promise.reject(new UsageError("the batch module has no loader (import the package through its entry)", { kind: "usage", code: "usage" }));
/** @internal The package's entries say how the batch module is loaded. */
export function _setBatchLoader(f: () => BatchModule | Promise<BatchModule>): void {
  batchLoader = f;
}
function loadBatch(): Promise<BatchModule> {
  if (loadedBatch) return Promise.resolve(loadedBatch);
  loading ??= Promise.resolve()
    .then(batchLoader)
    .then(
      (m) => (loadedBatch = m),
      (e) => {
        loading = undefined; // a failed download may be retried
        throw e;
      },
    );
  return loading;
}

/** A refusal of the core with each option named as the caller wrote it (`base_url` → `baseURL`,
 * `limits.concurrent_jobs` → `concurrentJobs`): its issues' fields and messages, its `field`, and
 * those names in its message. An unknown field keeps its name: it is what the caller wrote, in a
 * request (`idempotency_key` there is not the option). */
function jsNames<E extends Error>(e: E): E {
  if (!(e instanceof ValidationError)) return e;
  const r = e as { -readonly [K in keyof ValidationError]: ValidationError[K] };
  r.issues = e.issues.map((issue) => {
    const to = issue.code === "unknown_field" ? undefined : JS_NAMES.find(([, n]) => n === issue.field)?.[0];
    if (!to) return issue;
    if (r.field === issue.field) r.field = to;
    r.message = r.message.split(issue.field).join(to);
    return { ...issue, field: to, message: issue.message.split(issue.field).join(to) };
  });
  return e;
}

/** JSON for the core. A number JSON cannot hold (`NaN`, `±Infinity`) or a `bigint` is sent as an
 * object no field takes (`{"not_json": "NaN"}`), so that the core refuses it by type, naming the
 * field, instead of reading the `null` `JSON.stringify` would write (which means "default" or
 * "none"), a TypeError, or text a string field would take. Input that is not JSON data at all (a
 * cycle) is a `ValidationError`. */
export function J(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => ((typeof x === "number" && !Number.isFinite(x)) || typeof x === "bigint" ? { not_json: typeof x === "bigint" ? `${x}n` : String(x) } : x)) ?? "null"; // `undefined` itself: absent
  } catch (e) {
    refuse("input", "invalid_type", `input must be JSON data: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
}
export const P = JSON.parse;

// ------------------------------------------------------------------------------------------------
// The driver
// ------------------------------------------------------------------------------------------------

export const now = (): number => Math.floor(performance.now());
let fill = (b: Uint8Array): Uint8Array => crypto.getRandomValues(b);
/** @internal The Node entry supplies `webcrypto` where `crypto` is not global (Node 18). */
export function _setRandom(f: (b: Uint8Array) => Uint8Array): void {
  fill = f;
}
/** Whether a read (`GET`) goes out without a signal of our own (`Ctx.exec`): set by the Node
 * entry, where an `AbortController` and the listener `fetch` hangs on its signal are slow. Not in
 * browsers: there a request left running until its answer comes holds one of the six connections
 * an HTTP/1.1 origin gets. */
let leanReads = false;
/** @internal The Node entry's (`npm/node.js`). */
export function _setLeanReads(on: boolean): void {
  leanReads = on;
}
/** Fresh random bytes for seeds and idempotency keys, drawn from a pool refilled 4 KiB at a time. */
let pool: Uint8Array = new Uint8Array(0);
let used = 0;
function random(n: number): Uint8Array {
  if (used + n > pool.length) {
    pool = fill(new Uint8Array(4096));
    used = 0;
  }
  return pool.subarray(used, (used += n));
}

const MAX_BODY = 4 * 1024 * 1024;
/** How long a wait's caller waits for its clean-up before it goes on in the background (the
 * core's `job::CLEANUP_MS`, as in every driver). */
const CLEANUP_MS = 10_000;
/** The longest delay `setTimeout` takes (2^31 - 1 ms, ~24.8 days): beyond it, it fires at once. */
const MAX_TIMER = 2 ** 31 - 1;

/** The error of an aborted call: its `cause` is the signal's reason (what `abort(reason)` was given,
 * a `TimeoutError` from `AbortSignal.timeout`), which its message names. */
export function abortError(signal?: AbortSignal, job?: { job_id?: string; job_status?: string; idempotency_key?: string }, sentCreate = false): AbortError {
  const reason: unknown = signal?.reason;
  const { name, message } = (reason ?? {}) as { name?: unknown; message?: unknown };
  // A plain `controller.abort()` (a DOMException named AbortError, whose default message speaks of
  // an abort in every engine) adds nothing to say; a `TimeoutError` of `AbortSignal.timeout()` or
  // the caller's own reason (`new DOMException("user left", "AbortError")` too) does.
  const why = name === "AbortError" && /abort/i.test(String(message)) ? "" : typeof message === "string" ? (typeof name === "string" && name ? `${name}: ${message}` : message) : typeof reason === "string" ? reason : "";
  // A plain create aborted after its request went out: its key, and how to get its job, if it
  // made one (not a create-and-wait's: its clean-up deals with that job).
  const { idempotency_key: key, ...seen } = job ?? {};
  const sent = sentCreate && key && !seen.job_id ? `; its create was sent and may have made a job (charged): create again with \`{ idempotencyKey: "${key}" }\` to get that job rather than a second` : "";
  return new AbortError(`${why ? `the call was aborted (${why})` : "the call was aborted"}${sent}`, { kind: "cancelled", code: "cancelled", ...seen, ...(sent ? { idempotency_key: key } : {}) }, reason === undefined ? undefined : { cause: reason });
}

/** The calls waiting on each signal's abort. */
const fans = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `f` once `signal` aborts; returns what stops that. One listener per signal however many
 * calls share it: Node warns past 10 listeners on one `EventTarget` ("possible memory leak", a
 * false alarm for an app-wide signal given to many calls at once, but noise in a server's log).
 */
export function onAbort(signal: AbortSignal | null | undefined, f: () => void): () => void {
  if (!signal) return () => {};
  let waiting = fans.get(signal);
  if (!waiting) {
    const calls = new Set<() => void>();
    fans.set(signal, calls);
    // One call's throw (none is expected: each turns its errors into its call's rejection) must
    // not keep the abort from the others, nor escape the listener: Node makes that an uncaught
    // exception (helper-64).
    signal.addEventListener("abort", () => {
      for (const c of [...calls]) {
        try {
          c();
        } catch {
          // (see above)
        }
      }
    }, { once: true });
    waiting = calls;
  }
  const call = () => f(); // its own entry, even when one `f` is given twice
  waiting.add(call);
  return () => void waiting.delete(call);
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      off();
      resolve();
    };
    const t = setTimeout(done, Math.min(MAX_TIMER, Math.max(0, ms))); // a longer sleep wakes early: callers re-check
    const off = onAbort(signal, done);
  });
}

/**
 * The calls waiting for a slot of one rate limiter, first come first served, behind one timer.
 *
 * Rules:
 * 1. A call takes a slot at once only when nobody is in line (`Ctx.takeSlot`); otherwise it joins
 *    the end of the line.
 * 2. One timer per line, set for when the limiter frees its next slot. When it fires, slots go to
 *    the head of the line, one after another, for as long as the limiter grants them; the rest
 *    wait for the next timer. (Each waiter sleeping to the limiter's time on its own woke every
 *    waiter for every slot, ~1,000 timers a slot with 1,000 calls waiting, and handed slots out
 *    in no fair order.)
 * 3. A waiter whose signal aborts or whose deadline (`until`, on the driver's clock: a timer
 *    that fires early waits on) comes leaves the line at once with `false`, taking no slot; so
 *    does a head found aborted when a slot is handed out (its abort event not yet run).
 * 4. A limiter of a module instance that was reset (after a panic) is dead: its waiters are sent
 *    back (`"again"`) to wait in the line of the new instance's limiter, as soon as the reset is
 *    done (`waitingLines`), not when the dead line's timer would have fired.
 */
class Line {
  #queue: Waiter[] = [];
  #timer: { timer: ReturnType<typeof setTimeout> } | undefined;
  readonly #gen = generation;
  constructor(readonly limiter: w.Limiter) {}

  waiting(): boolean {
    return this.#queue.length > 0;
  }

  wait(signal: AbortSignal | undefined, until: number): Promise<boolean | "again"> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, signal, leave: () => {} };
      const leave = () => {
        const at = this.#queue.indexOf(waiter);
        if (at < 0) return;
        this.#queue.splice(at, 1);
        waiter.leave();
        resolve(false);
        if (at === 0) this.serve(); // the next in line may be due now
        else this.#tidy();
      };
      const offAbort = onAbort(signal, leave);
      const deadline = Number.isFinite(until) ? timerAt(until, leave) : undefined;
      waiter.leave = () => {
        offAbort();
        if (deadline !== undefined) clearTimeout(deadline.timer);
      };
      this.#queue.push(waiter);
      if (this.#queue.length === 1) this.serve();
    });
  }

  /** Hands slots to the head of the line while the limiter grants them, then sets the one timer. */
  serve(): void {
    clearTimeout(this.#timer?.timer);
    this.#timer = undefined;
    let next = -1; // when the limiter frees its next slot; NaN: the limiter is dead (rule 4)
    try {
      while (this.#queue.length) {
        const head = this.#queue[0] as Waiter;
        // A head already aborted (its abort on its way: a signal two calls share, one of them
        // served first) leaves with no slot (rule 3).
        let got = false;
        if (!head.signal?.aborted) {
          if (this.#gen !== generation) {
            next = NaN;
            break;
          }
          next = g(() => this.limiter.acquire(now()));
          if (next >= 0) break;
          got = true;
        }
        this.#queue.shift();
        head.leave();
        head.resolve(got);
      }
    } catch {
      next = NaN; // the module trapped (and was reset): each waiter meets what follows in its own call
    }
    if (Number.isNaN(next)) {
      for (const waiter of this.#queue.splice(0)) {
        waiter.leave();
        waiter.resolve("again");
      }
    } else if (this.#queue.length) {
      this.#timer = timerAt(next, () => this.serve());
    }
    this.#tidy();
  }

  /** Keeps `waitingLines` to the lines that have waiters. */
  #tidy(): void {
    if (this.#queue.length) waitingLines.add(this);
    else waitingLines.delete(this);
  }
}

interface Waiter {
  resolve: (got: boolean | "again") => void;
  signal: AbortSignal | undefined;
  /** Stops listening for the waiter's abort and deadline. */
  leave: () => void;
}

/** The line of each limiter (a limiter is shared by the clients of a key: so is its line). */
const lines = new WeakMap<w.Limiter, Line>();
function lineOf(limiter: w.Limiter): Line {
  let line = lines.get(limiter);
  if (!line) lines.set(limiter, (line = new Line(limiter)));
  return line;
}
/** Lines with waiters: a reset of the module (rule 4) sends theirs on at once. */
const waitingLines = new Set<Line>();

/** Calls `f` once `now()` (the driver's clock) has reached `at`: timers run on the event loop's
 * cached clock and can fire a little early on ours; a wait longer than setTimeout's range is
 * re-armed. The first call is never synchronous. */
function timerAt(at: number, f: () => void): { timer: ReturnType<typeof setTimeout> } {
  const handle = { timer: undefined as unknown as ReturnType<typeof setTimeout> };
  const arm = () => {
    handle.timer = setTimeout(() => (now() < at ? arm() : f()), Math.min(MAX_TIMER, Math.max(0, at - now())));
  };
  arm();
  return handle;
}

export interface Send {
  t: "send";
  id: number;
  method: string;
  url: string;
  headers: [string, string][];
  body: string | null;
  timeout_ms: number | null;
  /** No key's request (pricing, key creation): it takes no slot of the key's limiter. */
  free?: true;
  /** The latest it may go out (a clean-up's delete, whose job's sighting goes stale then): a slot
   * later than that is not waited for, and the core looks at the job again first. */
  send_by?: number;
}
export type Out = Send | { t: "event"; event: JobEvent } | { t: "wait"; until: number } | { t: "pending" } | { t: "done"; ok?: unknown; error?: ErrorRecord & { class?: string } };

type Outcome = { status: number; headers: string; body: Uint8Array } | { kind: string; message: string };

/** The connection-level part of a fetch failure (Node's undici puts it in `cause.code`). */
function transportKind(e: unknown): string {
  const code = String((e as { cause?: { code?: unknown } })?.cause?.code ?? "");
  return /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT)$/.test(code) ? "connect" : "other";
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { message?: string } })?.cause?.message;
  const text = String((e as Error)?.message ?? e);
  // A browser's fetch says only this (Chromium, Firefox, Safari), for a server it cannot reach
  // and for a response its CORS rules refuse alike; the page cannot tell them apart.
  const browser = !cause && /^(Failed to fetch|NetworkError when attempting to fetch resource\.|Load failed)$/.test(text);
  return text + (cause ? `: ${cause}` : "") + (browser ? " (a browser says this for a CORS refusal too: the server must allow this page's origin; the console names the cause)" : "");
}

/** A response's body, streamed and cut off past `MAX_BODY` bytes (then `null`: never buffered whole). */
async function readCapped(res: Response, reading: (r: ReadableStreamDefaultReader<Uint8Array>) => void): Promise<Uint8Array | null> {
  if (Number(res.headers.get("content-length")) > MAX_BODY) {
    await res.body?.cancel().catch(() => {});
    return null;
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  reading(reader);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The caller's callbacks of one call or batch. The first error one throws, or that a promise one
 * returns rejects with, is kept (`failure`) for the call to end with, and `onFail` wakes the
 * driver: it is never an unhandled rejection that stops the process. A call that ends awaits the
 * promises its callbacks returned (`settled`), so a late rejection is still its error.
 */
export class Callbacks {
  failure?: { error: unknown };
  readonly #pending = new Set<Promise<void>>();
  constructor(private readonly onFail: () => void) {}

  call<A>(f: ((a: A) => unknown) | null | undefined, a: A): void {
    if (!f) return;
    try {
      const r = f(a) as { then?: unknown } | null | undefined;
      if (typeof r?.then !== "function") return;
      const p = Promise.resolve(r).then(() => {}, (error: unknown) => this.fail(error));
      this.#pending.add(p);
      void p.then(() => this.#pending.delete(p));
    } catch (error) {
      this.fail(error);
    }
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.onFail();
  }

  /** Resolves once every promise a callback has returned so far has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.all(this.#pending);
  }
}

/** Whether a `fetch` gave something that reads like a `Response` (of any realm). */
const isResponse = (r: unknown): r is Response => typeof r === "object" && r !== null && typeof (r as Response).status === "number" && typeof (r as Response).headers?.get === "function";

/** The response headers the core reads: only these cross into the module (the core's list). */
let headersRead: string[] | undefined;

/** What a client shares between its calls. */
export class Ctx {
  gen = -1;
  client!: w.Client;
  limiter!: w.Limiter;
  constructor(
    private readonly make: () => [w.Client, w.Limiter],
    /** Starts a `BatchRun` of the batch module with this client's base URL and key. */
    readonly makeBatch: (m: BatchModule, requests: string | undefined, snapshot: string | undefined, options: string, entropy: Uint8Array, now: number) => wb.BatchRun,
    readonly fetcher: FetchLike,
    /** `fetcher` is the runtime's own `fetch`, not a `fetch` option's. */
    readonly ownFetch: boolean,
    readonly timeoutMs: number,
    readonly retry: { max_retries?: number },
    readonly rpm: number,
  ) {
    this.refresh();
  }

  /** Objects of a module generation that was reset are rebuilt. */
  refresh(): void {
    if (this.gen !== generation) {
      [this.client, this.limiter] = g(this.make);
      this.gen = generation;
    }
  }

  /** Starts a machine of the core. `plain`: the spec holds no number but the client's own (checked
   * when it was made), so `JSON.stringify` writes it as `J` would, without `J`'s replacer (which
   * takes V8 off its fast path: ~1.5 µs of a `retrieve`). */
  start(spec: Record<string, unknown>, plain = false): [w.Machine, number] {
    if (this.retry.max_retries !== undefined) spec.retry = this.retry;
    return this.begin((plain ? JSON.stringify : J)(spec));
  }

  /** Starts a machine of the core from its spec's JSON text. */
  begin(spec: string): [w.Machine, number] {
    this.refresh();
    return [g(() => this.client.start(spec, random(24), now())), generation];
  }

  /** The `retry` member `start` adds to a spec, as JSON text after a comma (or nothing): the
   * client's own record, checked when it was made, written once. */
  #retryText?: string;
  get retryText(): string {
    return (this.#retryText ??= this.retry.max_retries === undefined ? "" : `,"retry":${JSON.stringify(this.retry)}`);
  }

  /** Loads the batch module (once per process) and starts the core's batch in it (or, with
   * `snapshot`, resumes one): checked, keyed and estimated, nothing sent yet. */
  async startBatch(requests: unknown, o: BatchOptions, snapshot?: string): Promise<[wb.BatchRun, number]> {
    const spec: Record<string, unknown> = { limits: { requests_per_minute: o.requestsPerMinute ?? this.rpm, concurrent_jobs: o.concurrentJobs ?? 10 } };
    for (const [k, n] of BATCH_NAMES) if (o[k] != null && !n.startsWith("limits.")) spec[n] = o[k]; // null: not given
    if (this.retry.max_retries !== undefined) spec.retry = this.retry;
    const reqs = snapshot === undefined ? J(requests) : undefined;
    const options = J(spec);
    const mod = await loadBatch();
    return [g(() => this.makeBatch(mod, reqs, snapshot, options, random(24), now()), undefined, true), batchGeneration];
  }

  /** One API call with the core's retries; the parsed 2xx body. */
  async call<T>(call: Record<string, unknown>, o?: RequestOptions | null): Promise<T> {
    o = known(o, REQUEST);
    // Text only (a job's id, a key's name), or nothing: no number for `J` to stand in for.
    const plain = Object.values(call).every((v) => typeof v === "string" || v === undefined);
    const [m, gen] = this.start({ machine: "call", call }, plain);
    return (await this.run(m, gen, o)) as T;
  }

  /** A call whose spec is its target and a job's id (`retrieve`, `delete`; the id checked as text
   * by the caller), its JSON written here: `JSON.stringify` of the spec object and the check for
   * numbers in it cost ~5-10 µs of a call right after a request (2026-12-07, A/B in one process). */
  async callId<T>(target: "retrieve_video" | "delete_video", id: string, o?: RequestOptions | null): Promise<T> {
    o = known(o, REQUEST);
    const [m, gen] = this.begin(`{"machine":"call","call":{"target":"${target}","id":${JSON.stringify(id)}}${this.retryText}}`);
    return (await this.run(m, gen, o)) as T;
  }

  /** Every job, page after page of `limit` (`list` fetches one), as the core's `PageWalk` says
   * (it ends at the last page, and at one that repeats the page before's first job; a job the
   * page before held, pushed down by a newer one, is not yielded twice). An abort ends the walk
   * at once, not after the rest of the page. */
  async *walk(limit: number, list: (params: ListParams) => Promise<JobPage>, signal?: AbortSignal | null): AsyncGenerator<Job, void, undefined> {
    for (let offset = 0, before = "[]"; offset >= 0; ) {
      const page = await list({ limit, offset });
      const ids = J(page.data.map((j) => j.id));
      const [next, ...keep] = P(g(() => w.pageStep(offset, before, ids, page.has_more))) as number[];
      for (const i of keep) {
        if (signal?.aborted) throw abortError(signal);
        yield page.data[i];
      }
      if (signal?.aborted) throw abortError(signal); // also after the last job: the walk did not end by itself
      [offset, before] = [next, ids];
    }
  }

  /** Performs one request for the core and reports nothing: returns the outcome. */
  async exec(s: Send, signal?: AbortSignal, until: number = s.timeout_ms === null ? Infinity : now() + s.timeout_ms): Promise<Outcome> {
    // A signal of our own cuts the request at the client's timeout as well as at the caller's
    // abort. A read (`GET`) through Node's own `fetch` of a call given no signal gets none
    // (`leanReads`): there a controller and the listener `fetch` hangs on its signal cost ~20-50
    // µs a request, as much as the rest of the call. The timeout still ends the attempt at once
    // (below), and the request left behind is let go when its answer comes (undici gives up on it
    // after 300 s). A caller's signal is never handed to `fetch` itself: undici's listener on it
    // stays until garbage collection, and one app-wide signal would gather hundreds (helper-66).
    // A create or a delete always gets one, and so does every request through a `fetch` option
    // (`FetchLike` promises it one).
    const own = leanReads && this.ownFetch && s.method === "GET" && !signal ? undefined : new AbortController();
    let ended: "timeout" | "aborted" | undefined;
    // The client's timeout, or what is left of the call's own time (`until`: a slot wait used some).
    const limit = Math.max(1, Math.min(this.timeoutMs, until - now()));
    const end = now() + limit;
    // The timeout and an abort end the request here too, not only through a signal: a `fetch`
    // option that drops `init.signal` (rebuilding `init`) would otherwise hang the call for ever
    // (helper-37). `stop` rejects the step under way (`step`); the answer that may still come is
    // not read, and its connection is let go.
    let stop: (e: unknown) => void = () => {};
    let fetched: Promise<unknown> | undefined;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    // The answer that may still come, or the rest of its body, is not read: its connection goes.
    const letGo = (): void => {
      if (reader) void reader.cancel().catch(() => {});
      else void fetched?.then((r) => void (isResponse(r) && r.body?.cancel().catch(() => {})), () => {});
    };
    const halt = (why: "timeout" | "aborted"): void => {
      ended ??= why;
      own?.abort();
      stop(undefined);
      letGo();
    };
    const step = <T>(p: Promise<T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        // (`Promise.resolve`: a `fetch` option may return a Response itself.)
        const q = Promise.resolve(p);
        if (ended) {
          q.catch(() => {}); // halted between two steps: what it comes to is nobody's (helper-66)
          return reject(undefined);
        }
        stop = reject;
        q.then(resolve, reject);
      });
    // Reported only once our clock, the core's, is at `end` (`timerAt`): a timer that fired early
    // would let the core see a request time out before the call's deadline (and take it for a
    // failed request). No timer beyond setTimeout's range (~24.8 days): as good as no limit.
    const timer = limit > MAX_TIMER ? undefined : timerAt(end, () => halt("timeout"));
    const off = onAbort(signal, () => halt("aborted"));
    try {
      // Headers as a plain record: a `fetch` option that adds its own with
      // `{...init.headers, "X-Trace": "1"}` keeps ours (an array of pairs would spread to indices).
      // Copied by a loop: `Object.fromEntries` costs ~5x as much hot (0.34 against 0.06 µs; the
      // core's names are fixed, never `__proto__`).
      const sent: Record<string, string> = {};
      for (const [n, v] of s.headers) sent[n] = v;
      const init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal } = { method: s.method, headers: sent };
      if (own) init.signal = own.signal; // always, but for a lean read (above): that goes to Node's `fetch`
      if (s.body !== null) init.body = s.body;
      const res = await step((fetched = this.fetcher(s.url, init as Parameters<FetchLike>[1])));
      // A `fetch` option of the caller's that resolves to something else is said to be that, not
      // a TypeError deep in here (the outcome is still unknown: it may have sent the request).
      if (!isResponse(res)) return { kind: "other", message: `the \`fetch\` option resolved to ${res === null ? "null" : typeof res}, not a Response` };
      let headers = "";
      for (const k of (headersRead ??= g(() => w.responseHeaders()).split("\0"))) {
        const v = res.headers.get(k);
        if (v != null) headers += `${k}\0${v}\0`;
      }
      const body = await step(
        readCapped(res, (r) => {
          reader = r;
          if (ended) letGo(); // halted before this step began
        }),
      );
      if (!body) return { kind: "body_too_large", message: `response body over ${MAX_BODY} bytes` };
      return { status: res.status, headers, body };
    } catch (e) {
      if (ended === "timeout") return { kind: "timeout", message: `no answer within ${limit} ms` };
      if (ended || signal?.aborted) return { kind: "aborted", message: "aborted" };
      return { kind: transportKind(e), message: describe(e) };
    } finally {
      clearTimeout(timer?.timer);
      off();
    }
  }

  /** Takes a slot of the shared rate limiter at once if no call is waiting for one (a call does
   * not pass those in line): `false` means `slot()` must wait. */
  takeSlot(): boolean {
    this.refresh(); // the limiter of the module's current instance
    return !lineOf(this.limiter).waiting() && g(() => this.limiter.acquire(now())) < 0;
  }

  /** Waits in line for a slot of the shared rate limiter: `true` once one is taken; `false`
   * (nothing may be sent) when `signal` aborts or `until` comes first. */
  async slot(signal?: AbortSignal, until = Infinity): Promise<boolean> {
    for (;;) {
      if (signal?.aborted || now() >= until) return false;
      if (this.takeSlot()) return true;
      const got = await lineOf(this.limiter).wait(signal, until);
      if (got !== "again") return got; // "again": the module was reset, its limiter with it
    }
  }

  /**
   * Runs machine `m` to its end and returns its result (JSON text). With `signal`, an abort
   * rejects at once with `AbortError`; a wait is then cancelled in the core, which may still
   * delete a pending job (refunding it) in the background. A callback that throws (or returns a
   * promise that rejects) ends the run the same way, with its error.
   */
  run(m: w.Machine, gen: number, o: { signal?: AbortSignal | null; onEvent?: ((e: JobEvent) => void) | null; onProgress?: ((p: Progress) => void) | null; cleanup?: boolean } = {}): Promise<unknown> {
    const signal = o.signal ?? undefined;
    // With callbacks, a failing one stops the run as an abort does: `stop` aborts on either, and
    // wakes the loop from a sleep or a slot wait. Without, the caller's signal is used as it is:
    // a `retrieve` pays for no second controller, no callbacks and no extra await.
    const stop = o.onEvent || o.onProgress ? new AbortController() : undefined;
    const callbacks = stop && new Callbacks(() => stop.abort());
    const forward = (): void => stop?.abort();
    if (stop && signal?.aborted) stop.abort();
    const unforward = stop && !signal?.aborted ? onAbort(signal, forward) : () => {};
    // The run's job as last seen (its events), for an abort's `jobId` and `jobStatus`: the job goes
    // on (or is deleted in the background), and the caller may not have its id yet.
    // With it, once a create was sent, that create's idempotency key: an abort leaves its job (if it
    // made one) charged, and the key is how the caller gets that job back instead of a second
    // (helper-63: a plain `create` aborted after its request went out, no key in the error).
    let seen: { job_id?: string; job_status?: string; idempotency_key?: string } | undefined;
    const stopped = (): unknown => (callbacks?.failure ? callbacks.failure.error : abortError(signal, seen, !o.cleanup));
    // Told the error record of a timed-out wait's clean-up once it begins (the core's
    // `cleaningUp`: the delete of the job with `cancelOnTimeout`, saying it goes on), to hand it
    // off (below).
    let cleaningUp: ((record: string) => void) | undefined;
    const loop = async (): Promise<unknown> => {
      let cancelled = false;
      let handing = false;
      // The output that came back with the last answer (`respond`), if it is still current.
      let next: Out | undefined;
      try {
        for (;;) {
          // Once a timed-out wait's clean-up is handed off, the caller's signal and callbacks
          // are no longer its: the clean-up runs on as a cancel's does, unbounded by them.
          if ((signal?.aborted || callbacks?.failure) && !cancelled && !handing) {
            cancelled = true;
            if (!o.cleanup) throw stopped();
            // The core decides what the cancel means, from the freshest answer (already taken):
            // a job last seen pending is deleted. A run that has just ended is left to end.
            if (next?.t !== "done") {
              g(() => m.cancel(now()), gen);
              next = undefined;
            }
          }
          if (o.cleanup && !cancelled && !handing && next?.t !== "done") {
            const record = g(() => m.cleaningUp(), gen);
            if (record !== undefined) {
              handing = true;
              cleaningUp?.(record);
            }
          }
          const live = cancelled || handing ? undefined : (stop?.signal ?? signal);
          const out: Out = next ?? P(g(() => m.poll(now()), gen));
          next = undefined;
          if (out.t === "send") {
            // The request's time runs while it waits for a slot: a wait's deadline holds even when
            // the client's rate limit is spent.
            const until = out.timeout_ms === null ? Infinity : now() + out.timeout_ms;
            // (Aborted while it waited, it is not sent even with a slot: the cancel comes next.)
            if (!out.free && !this.takeSlot() && (!(await this.slot(live, Math.min(until, out.send_by ?? Infinity))) || live?.aborted)) {
              // Not sent, and the core is told so (a `connect` failure, in its words when no slot
              // came): nothing reached the service, so a create made no job (the cancel that
              // follows an abort stops any resend; a deadline that came first is the call's or
              // wait's timeout, saying nothing was created).
              g(() => (live?.aborted ? m.handleTransportError(out.id, "connect", "not sent: the call was aborted", now()) : m.handleNotSent(out.id, now())), gen);
              continue;
            }
            // A clean-up run sees a request it sent through even when the caller aborts: the answer
            // to a create says which job must be deleted, and a poll's says whether it is still
            // pending. The answer is given to the core before the cancel (at the top of the loop).
            const key = out.method === "POST" ? out.headers.find(([n]) => n.toLowerCase() === "idempotency-key")?.[1] : undefined;
            if (key) seen = { ...seen, idempotency_key: key };
            const r = await this.exec(out, o.cleanup ? undefined : live, until);
            if ("status" in r) {
              this.refresh();
              // One call: the limiter learns, the machine takes the answer, and says what is next.
              next = P(g(() => m.respond(out.id, r.status, r.headers, r.body, now(), this.limiter, !out.free), gen));
            } else {
              g(() => m.handleTransportError(out.id, r.kind, r.message, now()), gen);
            }
          } else if (out.t === "event") {
            const e = out.event;
            const job = "job" in e ? e.job : e.type === "progress" ? { id: e.job_id, status: e.status } : undefined;
            if (job?.id) seen = { ...seen, job_id: job.id, job_status: job.status };
            if (!cancelled && !handing && callbacks) {
              callbacks.call(o.onEvent, e);
              if (e.type === "progress" && o.onProgress) {
                const { type: _, ...p } = e;
                callbacks.call(o.onProgress, p);
              }
            }
          } else if (out.t === "wait") {
            await sleep(out.until - now(), live);
            g(() => m.handleTimeout(now()), gen);
          } else if (out.t === "pending") {
            // This driver awaits every request inline: nothing can be in flight here.
            g(() => m.cancel(now()), gen);
          } else {
            const result = out.error ? undefined : "ok" in out ? out.ok : P(g(() => m.takeResult(), gen));
            if (callbacks && !handing) {
              await callbacks.settled(); // a callback's late rejection is still this call's error
              if (callbacks.failure) throw callbacks.failure.error; // the caller's own, whatever the run came to
            }
            if (out.error) throw errorFromRecord(out.error);
            return result;
          }
        }
      } catch (e) {
        // The module was reset under this run (another call's internal error): its job, if it made
        // one, goes on and is charged; the error names it, so the caller can wait for it instead
        // of creating another.
        if (e instanceof InternalError && seen?.job_id && !e.jobId) {
          throw new InternalError(`${e.message}; job ${seen.job_id} (last seen ${seen.job_status}) goes on: wait for it by its id`, { kind: "internal", code: "internal", job_id: seen.job_id, job_status: seen.job_status });
        }
        throw e;
      } finally {
        if (gen === generation) m.free();
        unforward();
      }
    };
    const done = loop();
    const trigger = stop?.signal ?? signal;
    if (!trigger && !o.cleanup) return done;
    // How the run's clean-up ended, for the caller that stopped waiting for it: the error the run
    // ended with, or `null` if the job completed. A rejection that is no SDK error (a bug) must
    // not read as `null`.
    const outcome = (): Promise<USVideoError | null> =>
      done.then(() => null, (end: unknown) => (end instanceof USVideoError ? end : new InternalError(`the clean-up failed: ${String(end)}`, { kind: "internal", code: "internal", job_id: seen?.job_id, job_status: seen?.job_status }, { cause: end })));
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onStop = () => {
        clearTimeout(timer);
        const e = stopped();
        // The clean-up goes on; its outcome is the caller's to await if it wants (helper-37: a
        // job aborted as `pending` had started processing, its delete got a 409, and nothing said
        // so).
        if (o.cleanup && e instanceof AbortError) e.cleanup = outcome();
        done.catch(() => {}); // not an unhandled rejection when nobody awaits the clean-up
        reject(e);
      };
      // A timed-out wait's delete is awaited CLEANUP_MS at most, as the other drivers do: then
      // the caller gets the wait's own error, saying the delete goes on, and its `cleanup` says
      // how that ended (the core gave it 10 s, then left the job to be charged).
      cleaningUp = (record) => {
        timer = setTimeout(() => {
          const e = errorFromRecord(P(record) as ErrorRecord);
          if (e instanceof WaitTimeoutError || e instanceof AbortError) e.cleanup = outcome();
          done.catch(() => {});
          reject(e);
        }, CLEANUP_MS);
      };
      if (trigger?.aborted) return onStop();
      const off = onAbort(trigger, onStop);
      done.then(resolve, reject).finally(() => {
        off();
        clearTimeout(timer);
      });
    });
  }
}
