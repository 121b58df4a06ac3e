// The npm package `usvideo`: the sans-IO core (WebAssembly) driven by the host's fetch, clock and
// timers. Every decision (validation, retries, backoff, Retry-After, the poll schedule, deadlines,
// idempotency, reconciliation, the rate limiter) is the core's; this file only reads the clock,
// sleeps, fetches, honours AbortSignals and turns the core's records into JS values and errors.

import * as w from "./gen/usvideo_wasm.js";
// The batch scheduler is a second WebAssembly module, loaded the first time a batch runs (one
// module cannot be tree-shaken: apps that never run a batch do not download it). Types only here.
import type * as wb from "./gen/usvideo_batch.js";

// ------------------------------------------------------------------------------------------------
// Types (wire names)
// ------------------------------------------------------------------------------------------------

/** How a video is generated. */
export type Mode = "text_to_video" | "image_to_video" | "reference";
/** Output resolution (exact case: `2k`, not `2K`). */
export type Resolution = "720p" | "1080p" | "2k";
/** The statuses this SDK knows. A newer service may send others: they are passed through verbatim and never end a wait. */
export type JobStatus = "pending" | "processing" | "completed" | "failed";

interface CreateCommon {
  /** What the video shows (non-empty). */
  prompt: string;
  /** Default `720p`. */
  resolution?: Resolution | null;
  /** Whole seconds, 1 to 10 (default 5). */
  duration?: number | null;
  /** 0 to 4294967295. */
  seed?: number | null;
}
/** The body of `POST /v1/videos`. `image_url` belongs to `image_to_video`, `reference_url` to `reference`. */
export type CreateVideoParams =
  | (CreateCommon & { mode: "text_to_video"; image_url?: null; reference_url?: null })
  | (CreateCommon & { mode: "image_to_video"; image_url: string; reference_url?: null })
  | (CreateCommon & { mode: "reference"; reference_url: string; image_url?: null });

interface JobCommon {
  id: string;
  prompt?: string;
  mode?: Mode;
  resolution?: Resolution;
  duration?: number;
  seed?: number;
  image_url?: string;
  reference_url?: string;
  /** The charge held at creation, in cents. */
  estimated_cost_cents?: number;
  /** RFC 3339. */
  created_at?: string;
  /** 0–100, when the service reports it. */
  progress?: number;
}
export interface PendingJob extends JobCommon { status: "pending" }
export interface ProcessingJob extends JobCommon { status: "processing" }
export interface CompletedJob extends JobCommon {
  status: "completed";
  /** Where to download the video (a signed URL: no key needed). */
  video_url: string;
  /** The final charge in cents. */
  cost_cents: number;
}
export interface FailedJob extends JobCommon {
  status: "failed";
  error?: { code: string; message: string };
}
/** A job; narrow on `status` (`video_url` exists only when `status === "completed"`). */
export type Job = PendingJob | ProcessingJob | CompletedJob | FailedJob;

export interface JobPage {
  data: Job[];
  limit: number;
  offset: number;
  total?: number;
  has_more: boolean;
}
export interface ListParams { limit?: number; offset?: number }
export interface DeleteResult { id: string; deleted: boolean; refunded_cents: number }
export interface Account {
  email: string;
  balance_cents: number;
  total_jobs: number;
  total_spent_cents: number;
  plan?: string;
}
/** Dollars per second of video, per resolution (the service's `GET /v1/pricing`). */
export type PricingTable = Record<Resolution, { per_second: number }>;
export interface CreatedApiKey {
  id: string;
  name: string | null;
  /** The secret key, shown once. */
  key: string;
  created_at: string | null;
}
export interface Progress {
  job_id: string;
  status: string;
  /** 0–100 (estimated from elapsed time when the service reports none). */
  percent: number;
  elapsed_ms: number;
  expected_ms: number;
}
export interface ErrorRecord {
  kind: string;
  code: string;
  message: string;
  status?: number;
  field?: string;
  request_id?: string;
  retry_after_ms?: number;
  job_id?: string;
  job_status?: string;
  issues?: ValidationIssue[];
  transport?: string;
}
/** Everything a wait or create tells `onEvent` (internally tagged by `type`). */
export type Event =
  | { type: "created"; job: Job }
  | { type: "status_changed"; job: Job }
  | ({ type: "progress" } & Progress)
  | { type: "retrying"; attempt: number; after_ms: number; error: ErrorRecord }
  | { type: "reconciling"; error: ErrorRecord }
  | { type: "reconciled"; job: Job }
  | { type: "warning"; message: string };

export interface ValidationIssue { field: string; code: string; message: string }

/** The knobs of the poll schedule (wire names of the core's `PollPolicy`). */
export interface PollPolicy {
  first_poll_ms?: number;
  min_interval_ms?: number;
  max_interval_ms?: number;
  /** Multiplies the model's expected generation time. */
  expected_scale?: number;
}

export interface ClientOptions {
  /** `sd_…`; default `USVIDEO_API_KEY` (Node). Not needed for pricing or API-key creation. */
  apiKey?: string;
  /** Default `USVIDEO_BASE_URL`, then `https://usvideoapi.com/v1`. In a browser: your server-side proxy. */
  baseURL?: string;
  /** Retries per request after the first attempt (default 4). */
  maxRetries?: number;
  /** The most one HTTP request may take, in ms (default 60 000). */
  timeoutMs?: number;
  /** Replaces the global `fetch` (proxies, tests, custom agents). */
  fetch?: typeof fetch;
  /** The key's request budget per minute (default 60; 0 disables the client-side limiter). */
  requestsPerMinute?: number;
  /** Allow an `sd_` key in a browser (a page, or a browser's worker). Anyone who loads the page can read it: prefer a server-side proxy. */
  dangerouslyAllowBrowser?: boolean;
}
export interface RequestOptions { signal?: AbortSignal }
export interface CreateOptions extends RequestOptions {
  /** Your own idempotency key (default: a fresh random one per call). */
  idempotencyKey?: string;
}
export interface WaitOptions extends RequestOptions {
  /** Give up waiting after this many ms (default 600 000; `null` waits for ever). The job goes on. */
  timeoutMs?: number | null;
  /** On timeout, delete the job if it is still pending (refunding it). */
  cancelOnTimeout?: boolean;
  /** After every poll. */
  onProgress?: (progress: Progress) => void;
  /** Every event of the run (created, status changes, retries, reconciliation). */
  onEvent?: (event: Event) => void;
  /** Overrides of the poll schedule. */
  poll?: PollPolicy;
}
export type CreateAndWaitOptions = WaitOptions & CreateOptions;

/** A batch's counts, after every change. */
export interface BatchProgress {
  /** Items in the batch. */
  total: number;
  /** Not yet submitted. */
  queued: number;
  /** Being created, pending or processing. */
  in_flight: number;
  /** Completed. */
  completed: number;
  /** Failed, refused or cancelled. */
  failed: number;
  /** Requests sent so far (by this process). */
  requests: number;
}
/**
 * One item of a batch, yielded as it finishes: a completed job, or the error that ended it
 * (`JobFailedError`, `AbortError` when cancelled, a refused create's status error…) with the job as
 * last seen, if one was made. `index` is the item's position in the input.
 */
export type BatchItem =
  | { index: number; job: CompletedJob; error?: undefined }
  | { index: number; job?: Job; error: USVideoError };
/** Every item in input order, the final counts, and the cents charged for completed jobs. */
export interface BatchSummary {
  results: BatchItem[];
  progress: BatchProgress;
  spent_cents: number;
}
/** What a batch tells `onEvent` besides its items: counts, and each job's creates, status changes and retries. */
export type BatchEvent = Event | ({ type: "batch_progress" } & BatchProgress);
export interface BatchOptions extends RequestOptions {
  /** Refuse to start (a `ValidationError` on `max_spend_cents`, nothing sent) if the estimated total exceeds this. */
  maxSpendCents?: number;
  /** Jobs in flight at once (default 10, the standard tier's limit). */
  concurrentJobs?: number;
  /** The batch's request budget per minute (default: the client's `requestsPerMinute`). */
  requestsPerMinute?: number;
  /** Submit the longest expected jobs first (shortens the tail; results still come as jobs finish). */
  longestFirst?: boolean;
  /** Observe running jobs with one list request (default true) instead of one get each. */
  pollByList?: boolean;
  /** Gap between polls while a completion is likely, in ms (default 3000). */
  pollIntervalMs?: number;
  /** From which fraction of its expected time a job is likely to be finishing (default 0.65). */
  likelyFrom?: number;
  /** Read the account first and refuse to start beyond its balance (default true). */
  checkBalance?: boolean;
  /** Multiplies the model's expected times until jobs finish (e.g. 1/15 against an emulator at 15×). */
  expectedScale?: number;
  /** After every change of the counts. */
  onProgress?: (progress: BatchProgress) => void;
  /** Every event except finished items (those come from the iterator). */
  onEvent?: (event: BatchEvent) => void;
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/** Base class of every error the SDK throws on purpose. Messages never hold a key or a JWT. */
export class USVideoError extends Error {
  override name: string = "USVideoError";
  /** The server's code (`insufficient_balance`, `concurrency_limit`, …) or the kind's name. */
  readonly code: string;
  /** The core's error kind (`rate_limit`, `not_found`, …). */
  readonly kind: string;
  readonly status?: number;
  readonly field?: string;
  readonly requestId?: string;
  /** How long the server asked to wait, in seconds. */
  readonly retryAfter?: number;
  /** The same in milliseconds. */
  readonly retryAfterMs?: number;
  readonly jobId?: string;
  readonly jobStatus?: string;
  /** Every violated rule (validation). */
  readonly issues: ValidationIssue[];
  /** Whether the same call could succeed later (429, 5xx, connection, timeout). */
  readonly retryable: boolean;
  constructor(message: string, record: Partial<ErrorRecord> & { retryable?: boolean } = {}) {
    super(message);
    this.kind = record.kind ?? "usage";
    this.code = record.code ?? this.kind;
    this.status = record.status;
    this.field = record.field;
    this.requestId = record.request_id;
    this.retryAfterMs = record.retry_after_ms;
    this.retryAfter = record.retry_after_ms === undefined ? undefined : record.retry_after_ms / 1000;
    this.jobId = record.job_id;
    this.jobStatus = record.job_status;
    this.issues = record.issues ?? [];
    this.retryable = !!record.retryable;
    for (const k of Object.keys(this) as (keyof this)[]) if (this[k] === undefined) delete this[k];
  }
}
/** Input refused before anything was sent; `issues` lists every violated rule, `field` is the first one's. */
export class ValidationError extends USVideoError { override name = "ValidationError" }
/** The service answered with a non-2xx status (this class for statuses without their own). */
export class APIStatusError extends USVideoError { override name = "APIStatusError" }
/** 400. */
export class BadRequestError extends APIStatusError { override name = "BadRequestError" }
/** 401: missing, malformed or unknown key (or an API key where a JWT belongs). */
export class AuthenticationError extends APIStatusError { override name = "AuthenticationError" }
/** 402: the balance does not cover the job; nothing was created or charged. */
export class InsufficientBalanceError extends APIStatusError { override name = "InsufficientBalanceError" }
/** 404. */
export class NotFoundError extends APIStatusError { override name = "NotFoundError" }
/** 409: for example deleting a processing job. */
export class ConflictError extends APIStatusError { override name = "ConflictError" }
/** 429: too many requests or concurrent jobs; see `retryAfter`. */
export class RateLimitError extends APIStatusError { override name = "RateLimitError" }
/** 500. */
export class InternalServerError extends APIStatusError { override name = "InternalServerError" }
/** 502. */
export class UpstreamError extends APIStatusError { override name = "UpstreamError" }
/** A 2xx answer whose body is not what the endpoint returns. */
export class APIResponseError extends USVideoError { override name = "APIResponseError" }
/** No answer: the connection was refused, reset or dropped. */
export class APIConnectionError extends USVideoError { override name = "APIConnectionError" }
/** No answer within the request timeout. */
export class APITimeoutError extends APIConnectionError { override name = "APITimeoutError" }
/** The job ended `failed` (its charge is refunded); `code` is the service's reason. */
export class JobFailedError extends USVideoError { override name = "JobFailedError" }
/** The wait's deadline passed; the job goes on. */
export class WaitTimeoutError extends USVideoError { override name = "WaitTimeoutError" }
/** The call was aborted through its `signal`. */
export class AbortError extends USVideoError { override name = "AbortError" }
/** The SDK was used wrongly. */
export class UsageError extends USVideoError { override name = "UsageError" }
/** A bug inside the SDK's WebAssembly module (a caught panic; the module was reset). Please report it. */
export class InternalError extends USVideoError { override name = "InternalError" }

/** The class for each of the core's `ErrorKind::class_name()`. */
const classes: Record<string, typeof USVideoError> = {
  ValidationError, APIStatusError, BadRequestError, AuthenticationError, InsufficientBalanceError, NotFoundError, ConflictError,
  RateLimitError, InternalServerError, UpstreamError, APIResponseError, APIConnectionError, APITimeoutError, JobFailedError,
  WaitTimeoutError, CancelledError: AbortError, UsageError,
};

/** Whether `e` is one of the SDK's errors (works across copies of the package, unlike `instanceof`). */
export function isUSVideoError(e: unknown): e is USVideoError {
  return e instanceof USVideoError || (e instanceof Error && typeof (e as USVideoError).kind === "string" && Array.isArray((e as USVideoError).issues));
}

/** The error for one of the core's records. */
export function errorFromRecord(r: ErrorRecord & { class?: string; retryable?: boolean }): USVideoError {
  return new (classes[r.class ?? ""] ?? USVideoError)(r.message, r);
}

// ------------------------------------------------------------------------------------------------
// The WebAssembly boundary: the panic guard
// ------------------------------------------------------------------------------------------------

/** Bumped whenever the module is re-instantiated after a panic: objects of older generations are dead. */
let generation = 0;

/** The same for the batch module. */
let batchGeneration = 0;

function reset(batch: boolean): void {
  if (batch) {
    (loadedBatch as unknown as { __wbg_reset_state(): void } | undefined)?.__wbg_reset_state();
    batchGeneration++;
  } else {
    (w as unknown as { __wbg_reset_state(): void }).__wbg_reset_state();
    generation++;
  }
}

/** Runs `f` against the module (`batch`: the batch module). A thrown core record becomes its error
 * class; a trap (a panic) becomes an `InternalError` and the module is re-instantiated, so the next
 * call works. */
function g<T>(f: () => T, gen?: number, batch = false): T {
  if (gen !== undefined && gen !== (batch ? batchGeneration : generation)) {
    throw new InternalError("the WebAssembly module was reset after an internal error during this call", { kind: "internal", code: "internal" });
  }
  try {
    return f();
  } catch (e) {
    if (typeof e === "string") throw errorFromRecord(JSON.parse(e));
    if (e instanceof WebAssembly.RuntimeError || (e instanceof Error && /recursive use|null pointer|unreachable/.test(e.message))) {
      reset(batch);
      throw new InternalError(`internal error in the usvideo WebAssembly module (it was reset; please report this): ${e.message}`, { kind: "internal", code: "internal" });
    }
    throw e;
  }
}

/** @internal Tests only: makes the module panic. */
export function _debugPanic(): number {
  return g(() => w.__debug_panic(7));
}

/** The batch module once loaded, and how to load it (set by the entry: `index.js` fetches it, `node.js` reads it from disk). */
type BatchModule = typeof wb;
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

const J = JSON.stringify;
const P = JSON.parse;

/**
 * The cost in cents of a video, offline, with the reference's prices (or `table`, from
 * `client.pricing.retrieve()`). Takes `{resolution, duration}` (defaults 720p, 5 s) or a whole
 * create request, or an array of them for the total: `estimateCost({resolution: "1080p", duration: 5})` → 120.
 * @throws {ValidationError} naming the field (an unknown field gets a did-you-mean).
 */
export function estimateCost(input: { resolution?: Resolution | null; duration?: number | null } | CreateVideoParams | readonly ({ resolution?: Resolution | null; duration?: number | null } | CreateVideoParams)[], table?: PricingTable): number {
  return g(() => w.estimate(J(input), table && J(table)));
}

// ------------------------------------------------------------------------------------------------
// The driver
// ------------------------------------------------------------------------------------------------

const now = (): number => Math.floor(performance.now());
let fill = (b: Uint8Array): Uint8Array => crypto.getRandomValues(b);
/** @internal The Node entry supplies `webcrypto` where `crypto` is not global (Node 18). */
export function _setRandom(f: (b: Uint8Array) => Uint8Array): void {
  fill = f;
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

function abortError(): AbortError {
  return new AbortError("the call was aborted", { kind: "cancelled", code: "cancelled" });
}

/** Resolves after `ms`, or early when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done);
  });
}

interface Send {
  t: "send";
  id: number;
  method: string;
  url: string;
  headers: [string, string][];
  body: string | null;
  timeout_ms: number | null;
}
type Out = Send | { t: "event"; event: Event } | { t: "wait"; until: number } | { t: "pending" } | { t: "done"; ok?: unknown; error?: ErrorRecord & { class?: string } };

type Outcome = { status: number; headers: string; body: Uint8Array } | { kind: string; message: string };

/** The connection-level part of a fetch failure (Node's undici puts it in `cause.code`). */
function transportKind(e: unknown): string {
  const code = String((e as { cause?: { code?: unknown } })?.cause?.code ?? "");
  return /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT)$/.test(code) ? "connect" : "other";
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { message?: string } })?.cause?.message;
  return String((e as Error)?.message ?? e) + (cause ? `: ${cause}` : "");
}

/** A response's body, streamed and cut off past `MAX_BODY` bytes (then `null`: never buffered whole). */
async function readCapped(res: Response): Promise<Uint8Array | null> {
  if (Number(res.headers.get("content-length")) > MAX_BODY) {
    await res.body?.cancel().catch(() => {});
    return null;
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
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

/** What a client shares between its calls. */
class Ctx {
  gen = -1;
  client!: w.Client;
  limiter!: w.Limiter;
  constructor(
    private readonly make: () => [w.Client, w.Limiter],
    /** Starts a `BatchRun` of the batch module with this client's base URL and key. */
    readonly makeBatch: (m: BatchModule, requests: string | undefined, snapshot: string | undefined, options: string, entropy: Uint8Array, now: number) => wb.BatchRun,
    readonly fetcher: typeof globalThis.fetch,
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

  /** Starts a machine of the core. */
  start(spec: Record<string, unknown>): [w.Machine, number] {
    this.refresh();
    if (this.retry.max_retries !== undefined) spec.retry = this.retry;
    return [g(() => this.client.start(J(spec), random(24), now())), generation];
  }

  /** Loads the batch module (once per process) and starts the core's batch in it (or, with
   * `snapshot`, resumes one): checked, keyed and estimated, nothing sent yet. */
  async startBatch(requests: unknown, o: BatchOptions, snapshot?: string): Promise<[wb.BatchRun, number]> {
    const spec: Record<string, unknown> = { limits: { requests_per_minute: o.requestsPerMinute ?? this.rpm, concurrent_jobs: o.concurrentJobs ?? 10 } };
    const names: [keyof BatchOptions, string][] = [
      ["maxSpendCents", "max_spend_cents"], ["longestFirst", "longest_first"], ["pollByList", "poll_by_list"], ["pollIntervalMs", "poll_interval_ms"],
      ["likelyFrom", "likely_from"], ["checkBalance", "check_balance"], ["expectedScale", "expected_scale"],
    ];
    for (const [k, n] of names) if (o[k] !== undefined) spec[n] = o[k];
    if (this.retry.max_retries !== undefined) spec.retry = this.retry;
    const reqs = snapshot === undefined ? J(requests) : undefined;
    const options = J(spec);
    const mod = await loadBatch();
    return [g(() => this.makeBatch(mod, reqs, snapshot, options, random(24), now()), undefined, true), batchGeneration];
  }

  /** One API call with the core's retries; the parsed 2xx body. */
  async call<T>(call: Record<string, unknown>, o: RequestOptions = {}): Promise<T> {
    const [m, gen] = this.start({ machine: "call", call });
    return (await this.run(m, gen, o)) as T;
  }

  /** Performs one request for the core and reports nothing: returns the outcome. */
  async exec(s: Send, signal?: AbortSignal): Promise<Outcome> {
    const ac = new AbortController();
    let timedOut = false;
    const limit = Math.max(1, Math.min(this.timeoutMs, s.timeout_ms ?? Infinity));
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, limit);
    const onAbort = () => ac.abort();
    signal?.addEventListener("abort", onAbort);
    try {
      const res = await this.fetcher(s.url, { method: s.method, headers: s.headers, body: s.body ?? undefined, signal: ac.signal });
      let headers = "";
      res.headers.forEach((v: string, k: string) => (headers += `${k}\0${v}\0`));
      const body = await readCapped(res);
      if (!body) return { kind: "body_too_large", message: `response body over ${MAX_BODY} bytes` };
      return { status: res.status, headers, body };
    } catch (e) {
      if (timedOut) return { kind: "timeout", message: `no answer within ${limit} ms` };
      if (ac.signal.aborted) return { kind: "aborted", message: "aborted" };
      return { kind: transportKind(e), message: describe(e) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Waits for a slot of the shared rate limiter. */
  async slot(signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.refresh();
      const t = this.limiter.acquire(now());
      if (t < 0 || signal?.aborted) return;
      await sleep(t - now(), signal);
    }
  }

  /**
   * Runs machine `m` to its end and returns its result (JSON text). With `signal`, an abort
   * rejects at once with `AbortError`; a wait is then cancelled in the core, which may still
   * delete a pending job (refunding it) in the background.
   */
  run(m: w.Machine, gen: number, o: { signal?: AbortSignal; onEvent?: (e: Event) => void; cleanup?: boolean } = {}): Promise<unknown> {
    const { signal } = o;
    const loop = async (): Promise<unknown> => {
      let cancelled = false;
      // The output that came back with the last answer (`respond`), if it is still current.
      let next: Out | undefined;
      try {
        for (;;) {
          if (signal?.aborted && !cancelled) {
            cancelled = true;
            if (!o.cleanup) throw abortError();
            g(() => m.cancel(now()), gen);
            next = undefined;
          }
          const live = cancelled ? undefined : signal;
          const out: Out = next ?? P(g(() => m.poll(now()), gen));
          next = undefined;
          if (out.t === "send") {
            if (this.limiter.acquire(now()) >= 0) await this.slot(live);
            if (live?.aborted) continue;
            const r = await this.exec(out, live);
            if (live?.aborted && o.cleanup) {
              // The run is being cancelled: the core decides (a pending job is deleted).
              cancelled = true;
              g(() => m.cancel(now()), gen);
            }
            if ("status" in r) {
              this.refresh();
              // One call: the limiter learns, the machine takes the answer, and says what is next.
              next = P(g(() => m.respond(out.id, r.status, r.headers, r.body, now(), this.limiter), gen));
            } else {
              g(() => m.handleTransportError(out.id, r.kind, r.message, now()), gen);
            }
          } else if (out.t === "event") {
            if (!cancelled) o.onEvent?.(out.event);
          } else if (out.t === "wait") {
            await sleep(out.until - now(), live);
            g(() => m.handleTimeout(now()), gen);
          } else if (out.t === "pending") {
            // This driver awaits every request inline: nothing can be in flight here.
            g(() => m.cancel(now()), gen);
          } else if (out.error) {
            throw errorFromRecord(out.error);
          } else {
            return "ok" in out ? out.ok : P(g(() => m.takeResult(), gen));
          }
        }
      } finally {
        if (gen === generation) m.free();
      }
    };
    const done = loop();
    if (!signal) return done;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(abortError());
        done.catch(() => {}); // the clean-up goes on; its outcome is not the caller's any more
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      done.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }
}

// ------------------------------------------------------------------------------------------------
// Batches
// ------------------------------------------------------------------------------------------------

type ItemRecord = { type: "item_done"; index: number; job?: Job; error?: ErrorRecord & { class?: string; retryable?: boolean } };

function item(r: Omit<ItemRecord, "type">): BatchItem {
  return (r.error ? { index: r.index, job: r.job, error: errorFromRecord(r.error) } : { index: r.index, job: r.job as CompletedJob }) as BatchItem;
}

/**
 * A running batch (the core's `Batch` scheduler driven over `fetch`): `for await (const item of
 * batch)` yields items as they finish; `snapshot()` saves where it stands (JSON) for
 * `client.videos.resumeBatch` in another process; `cancel()` stops it. Nothing is sent until the
 * first `next()` (or `cancel()`); breaking out of `for await` pauses it (jobs already submitted go on
 * at the service), and iterating again continues. Made by `await client.videos.batch(…)`.
 *
 * If the whole batch fails (the balance is short, the key is refused), `next()` rejects with that
 * error once, then the iteration ends.
 */
export class Batch implements AsyncIterableIterator<BatchItem, undefined, undefined> {
  readonly #c: Ctx;
  readonly #m: wb.BatchRun;
  readonly #gen: number;
  readonly #o: BatchOptions;
  readonly #items: BatchItem[] = [];
  #summary?: BatchSummary;
  #failure?: USVideoError;
  #reported = false;
  #cancelling = false;
  /** Set as the batch ends (its machine is freed then): its last snapshot and counts. */
  #end?: { snapshot: string; progress: BatchProgress };
  #lock: Promise<unknown> = Promise.resolve();
  #wake = new AbortController();
  readonly #onAbort = (): void => void this.cancel().catch(() => {});
  /** The estimated cost of what is left, in cents (known before anything is sent). */
  readonly estimatedCents: number;

  /** @internal */
  constructor(c: unknown, started: unknown, o: BatchOptions) {
    this.#c = c as Ctx;
    [this.#m, this.#gen] = started as [wb.BatchRun, number];
    this.#o = o;
    this.estimatedCents = g(() => this.#m.estimatedCents, this.#gen, true);
    if (o.signal?.aborted) this.#onAbort();
    else o.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next finished item, in completion order. An abort of `signal` rejects at once with `AbortError` (the batch is then cancelled in the background). */
  next(): Promise<IteratorResult<BatchItem, undefined>> {
    const signal = this.#o.signal;
    if (signal?.aborted) return Promise.reject(abortError());
    const p = this.#serial(() => this.#pump(true)).then(() => this.#take());
    if (!signal) return p;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(abortError());
        p.catch(() => {});
      };
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** Ends a `for await` early: the batch pauses (nothing more is sent until `next()` or `cancel()`). */
  return(): Promise<IteratorResult<BatchItem, undefined>> {
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Cancels the batch and sees it through: queued items end cancelled, pending jobs are deleted
   * (refunded), processing jobs go on (reported cancelled with their job). Items finished meanwhile
   * are still yielded by the iterator. Resolves with the summary (`undefined` if the batch failed
   * or was cancelled before it started).
   */
  cancel(): Promise<BatchSummary | undefined> {
    if (!this.#cancelling && !this.#end) {
      this.#cancelling = true;
      g(() => this.#m.cancel(now()), this.#gen, true);
      const wake = this.#wake;
      this.#wake = new AbortController();
      wake.abort();
    }
    return this.#serial(() => this.#pump(false)).then(() => this.#summary);
  }

  /** Where the batch stands, as JSON text: save it and pass it to `client.videos.resumeBatch` (in any process) to continue without submitting anything twice. */
  snapshot(): string {
    return this.#end?.snapshot ?? g(() => this.#m.snapshot(), this.#gen, true);
  }

  /** The counts now. */
  progress(): BatchProgress {
    return this.#end?.progress ?? P(g(() => this.#m.progress(), this.#gen, true));
  }

  /** Every item in input order, once the batch has ended (`undefined` before, or if it failed as a whole). */
  get summary(): BatchSummary | undefined {
    return this.#summary;
  }

  #serial(f: () => Promise<void>): Promise<void> {
    const p = this.#lock.then(f);
    this.#lock = p.catch(() => {});
    return p;
  }

  #take(): IteratorResult<BatchItem, undefined> {
    const value = this.#items.shift();
    if (value) return { value, done: false };
    if (this.#failure && !this.#reported) {
      this.#reported = true;
      throw this.#failure;
    }
    return { value: undefined, done: true };
  }

  /** Drives the machine until an item is ready (`untilItem`, unless cancelling) or the batch ends. */
  async #pump(untilItem: boolean): Promise<void> {
    const [m, c, gen, o] = [this.#m, this.#c, this.#gen, this.#o];
    while (!this.#end) {
      if (untilItem && !this.#cancelling && this.#items.length) return;
      const out: Exclude<Out, { t: "event" }> | { t: "event"; event: BatchEvent | ItemRecord } = P(g(() => m.poll(now()), gen, true));
      if (out.t === "send") {
        // A batch's requests are seen through even when it is cancelled: their outcomes decide
        // what must be deleted.
        if (c.limiter.acquire(now()) >= 0) await c.slot();
        const r = await c.exec(out);
        if ("status" in r) {
          c.refresh();
          c.limiter.observe(r.status, r.headers, now());
          g(() => m.handleResponse(out.id, r.status, r.headers, r.body, now()), gen, true);
        } else {
          g(() => m.handleTransportError(out.id, r.kind, r.message, now()), gen, true);
        }
      } else if (out.t === "event") {
        const e = out.event;
        if (e.type === "item_done") this.#items.push(item(e));
        else {
          if (e.type === "batch_progress" && o.onProgress) {
            const { type: _, ...p } = e;
            o.onProgress(p);
          }
          o.onEvent?.(e);
        }
      } else if (out.t === "wait") {
        await sleep(out.until - now(), this.#wake.signal);
        g(() => m.handleTimeout(now()), gen, true);
      } else if (out.t === "pending") {
        g(() => m.cancel(now()), gen, true); // nothing can be in flight: every request is awaited inline
      } else {
        const end = { snapshot: g(() => m.snapshot(), gen, true), progress: P(g(() => m.progress(), gen, true)) as BatchProgress };
        try {
          const s = P(g(() => m.takeResult(), gen, true));
          this.#summary = { results: s.results.map(item), progress: s.progress, spent_cents: s.spent_cents };
        } catch (e) {
          this.#failure = e as USVideoError;
        }
        this.#end = end;
        o.signal?.removeEventListener("abort", this.#onAbort);
        if (gen === batchGeneration) m.free();
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// The client
// ------------------------------------------------------------------------------------------------

const VERSION = "0.1.0";
const env = (k: string): string | undefined => (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[k] || undefined;
const inspect = Symbol.for("nodejs.util.inspect.custom");

function waitSpec(o: WaitOptions): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (o.timeoutMs !== undefined) options.timeout_ms = o.timeoutMs === null || o.timeoutMs === Infinity ? null : o.timeoutMs;
  if (o.cancelOnTimeout !== undefined) options.cancel_on_timeout = o.cancelOnTimeout;
  if (o.poll) options.poll = o.poll;
  return options;
}

function onEvents(o: WaitOptions): ((e: Event) => void) | undefined {
  if (!o.onProgress && !o.onEvent) return undefined;
  return (e) => {
    o.onEvent?.(e);
    if (e.type === "progress" && o.onProgress) {
      const { type: _, ...p } = e;
      o.onProgress(p);
    }
  };
}

/** Jobs: create, retrieve, list, delete, wait. */
export class Videos {
  readonly #c: Ctx;
  /** @internal */
  constructor(c: unknown) {
    this.#c = c as Ctx;
  }

  /**
   * Submits a job (made at most once: an idempotency key on every attempt, and reconciliation
   * against the job list when an outcome is unknown). Returns it as created (`pending`).
   * Loose input is checked by the core: an unknown field is a `ValidationError` naming it.
   */
  async create(params: CreateVideoParams, o: CreateOptions = {}): Promise<Job> {
    const [m, gen] = this.#c.start({ machine: "create", request: params, idempotency_key: o.idempotencyKey });
    return (await this.#c.run(m, gen, o)) as Job;
  }

  /** One job. */
  retrieve(id: string, o?: RequestOptions): Promise<Job> {
    return this.#c.call({ target: "retrieve_video", id }, o);
  }

  /** One page of jobs, most recent first (`limit` 1–100, default 20). */
  list(params: ListParams = {}, o?: RequestOptions): Promise<JobPage> {
    return this.#c.call({ target: "list_videos", params }, o);
  }

  /** Every job, page after page (100 a page): `for await (const job of client.videos.listAll())`. */
  async *listAll(o?: RequestOptions): AsyncGenerator<Job, void, undefined> {
    for (let offset = 0; ; ) {
      const page = await this.list({ limit: 100, offset }, o);
      yield* page.data;
      if (!page.has_more || page.data.length === 0) return;
      offset += page.data.length;
    }
  }

  /** Cancels a pending job (refunding it) or deletes a finished job's record (`ConflictError` while processing). */
  delete(id: string, o?: RequestOptions): Promise<DeleteResult> {
    return this.#c.call({ target: "delete_video", id }, o);
  }

  /**
   * Waits until the job completes (`JobFailedError` if it fails, `WaitTimeoutError` after
   * `timeoutMs`, default 10 minutes, while the job goes on). Polls follow the core's schedule.
   * An abort rejects at once; the core then deletes the job if it is still pending.
   */
  async wait(id: string, o: WaitOptions = {}): Promise<CompletedJob> {
    const [m, gen] = this.#c.start({ machine: "job_run_wait", job_id: id, options: waitSpec(o) });
    return (await this.#c.run(m, gen, { signal: o.signal, onEvent: onEvents(o), cleanup: true })) as CompletedJob;
  }

  /**
   * Runs many jobs within the account's limits and yields them as they finish:
   * `for await (const item of await client.videos.batch(requests, {maxSpendCents: 2000}))`. The
   * total is estimated first: beyond `maxSpendCents` this rejects with a `ValidationError`, beyond
   * the balance the first `next()` rejects with `InsufficientBalanceError`; nothing is sent either
   * way. Async because batches live in a second WebAssembly module, fetched the first time a
   * batch is made (apps that never make one never load it).
   * At most `concurrentJobs` are in flight; creates and polls share one request budget, so the
   * batch itself never causes a 429; each create is made at most once (an idempotency key per item,
   * reconciliation when an outcome is unknown); running jobs are observed with one list request.
   * @throws {ValidationError} naming every bad request (`requests[3].duration`), or `max_spend_cents`.
   */
  async batch(requests: readonly CreateVideoParams[], o: BatchOptions = {}): Promise<Batch> {
    return new Batch(this.#c, await this.#c.startBatch(requests, o), o);
  }

  /**
   * Continues a batch from `batch.snapshot()` (possibly taken in another process that died): items
   * whose create may have been sent are reconciled against the job list before anything is sent,
   * so no job is created or charged twice. Items already done are not yielded again (they are in
   * the summary).
   */
  async resumeBatch(snapshot: string, o: BatchOptions = {}): Promise<Batch> {
    return new Batch(this.#c, await this.#c.startBatch(null, o, snapshot), o);
  }

  /** Creates a job (at most once) and waits for it. */
  async createAndWait(params: CreateVideoParams, o: CreateAndWaitOptions = {}): Promise<CompletedJob> {
    const spec = { machine: "job_run_create_and_wait", request: params, idempotency_key: o.idempotencyKey, options: waitSpec(o) };
    const [m, gen] = this.#c.start(spec);
    return (await this.#c.run(m, gen, { signal: o.signal, onEvent: onEvents(o), cleanup: true })) as CompletedJob;
  }
}

/** `client.account`. */
export class AccountResource {
  readonly #c: Ctx;
  /** @internal */
  constructor(c: unknown) {
    this.#c = c as Ctx;
  }
  /** Balance, usage and plan. */
  retrieve(o?: RequestOptions): Promise<Account> {
    return this.#c.call({ target: "retrieve_account" }, o);
  }
}

/** `client.pricing`. */
export class PricingResource {
  readonly #c: Ctx;
  /** @internal */
  constructor(c: unknown) {
    this.#c = c as Ctx;
  }
  /** The service's prices (no key needed); pass it to `estimateCost(input, table)`. */
  retrieve(o?: RequestOptions): Promise<PricingTable> {
    return this.#c.call({ target: "retrieve_pricing" }, o);
  }
}

/** `client.apiKeys`. */
export class ApiKeysResource {
  readonly #c: Ctx;
  /** @internal */
  constructor(c: unknown) {
    this.#c = c as Ctx;
  }
  /** Creates an API key, authenticated with a JWT (not an API key). The key is shown once. */
  create(params: { jwt: string; name?: string | null }, o?: RequestOptions): Promise<CreatedApiKey> {
    return this.#c.call({ target: "create_api_key", jwt: params.jwt, name: params.name }, o);
  }
}

/**
 * True in a web page and in a browser's workers (dedicated, shared, service): wherever whoever
 * loads the page can read the key. A page has `window` and `document`; a worker has neither, but
 * runs in a `WorkerGlobalScope` under a browser's `navigator.userAgent` ("Mozilla/5.0 …"). Deno,
 * Bun, Node and edge runtimes such as Cloudflare Workers name themselves there instead, so a
 * worker on a server is not refused.
 */
function inBrowser(): boolean {
  const g = globalThis as { window?: unknown; document?: unknown; WorkerGlobalScope?: unknown; navigator?: { userAgent?: unknown } };
  if (g.window !== undefined && g.document !== undefined) return true;
  return g.WorkerGlobalScope !== undefined && String(g.navigator?.userAgent ?? "").startsWith("Mozilla/");
}

/** The client of the US Video API. */
export class USVideo {
  readonly videos: Videos;
  readonly account: AccountResource;
  readonly pricing: PricingResource;
  readonly apiKeys: ApiKeysResource;
  /** The base URL requests go to. */
  readonly baseURL: string;
  readonly #shown: string;

  constructor(options: ClientOptions = {}) {
    const key = options.apiKey ?? env("USVIDEO_API_KEY");
    const base = options.baseURL ?? env("USVIDEO_BASE_URL") ?? "https://usvideoapi.com/v1";
    if (key?.startsWith("sd_") && inBrowser() && !options.dangerouslyAllowBrowser) {
      throw new UsageError(
        "refusing to use an API key in a browser: anyone who loads the page could read it. Call the API from your server, or point `baseURL` at a server-side proxy that adds the key; pass `dangerouslyAllowBrowser: true` only if you accept the risk.",
        { kind: "usage", code: "browser_api_key", field: "apiKey" },
      );
    }
    const rpm = options.requestsPerMinute ?? 60;
    const f = options.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
    const ua = `usvideo-js/${VERSION}`;
    const ctx = new Ctx(
      () => [new w.Client(base, key, ua), new w.Limiter(rpm)],
      (m, requests, snapshot, spec, entropy, t) => m.BatchRun.start(base, key ?? "", ua, requests, snapshot, spec, entropy, t),
      f, options.timeoutMs ?? 60_000, { max_retries: options.maxRetries }, rpm,
    );
    this.baseURL = ctx.client.baseURL;
    this.#shown = ctx.client.redactedKey ?? "none";
    this.videos = new Videos(ctx);
    this.account = new AccountResource(ctx);
    this.pricing = new PricingResource(ctx);
    this.apiKeys = new ApiKeysResource(ctx);
  }

  toString(): string {
    return `USVideo { baseURL: '${this.baseURL}', apiKey: '${this.#shown}' }`;
  }
  toJSON(): { baseURL: string; apiKey: string } {
    return { baseURL: this.baseURL, apiKey: this.#shown };
  }
  [inspect](): string {
    return this.toString();
  }
}
