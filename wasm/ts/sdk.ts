// The npm package `usvideo`: the sans-IO core (WebAssembly) driven by the host's fetch, clock and
// timers. Every decision (validation, retries, backoff, Retry-After, the poll schedule, deadlines,
// idempotency, reconciliation, the rate limiter) is the core's. This file is the client and its
// resources; the loop that drives the core is in driver.ts, batches in batch.ts, the types and
// errors in types.ts and errors.ts.

import * as w from "./gen/usvideo_wasm.js";
import type { Batch } from "./batch.js";
import { abortError, Ctx, g, J, onAbort, sharedLimiter } from "./driver.js";
import { UsageError, ValidationError } from "./errors.js";
import { API_KEY, BATCH, CLIENT, CREATE, CREATE_AND_WAIT, checkNumber, known, POLL, text, WAIT } from "./options.js";
import type {
  Account, BatchOptions, ClientOptions, CompletedJob, CreateAndWaitOptions, CreatedApiKey, CreateOptions, CreateVideoParams, DeleteResult, FetchLike, Job, JobPage,
  ListParams, PricingTable, RequestOptions, Resolution, WaitOptions,
} from "./types.js";

export * from "./types.js";
// The error classes and `isUSVideoError`; not the package's own `errorFromRecord`.
export {
  USVideoError, ValidationError, APIStatusError, BadRequestError, AuthenticationError, InsufficientBalanceError, NotFoundError, ConflictError,
  RateLimitError, InternalServerError, UpstreamError, APIResponseError, APIConnectionError, APITimeoutError, JobFailedError, WaitTimeoutError,
  AbortError, UsageError, InternalError, isUSVideoError,
} from "./errors.js";
// A type here: the class is in a chunk of its own, loaded by `videos.batch()`.
export type { Batch } from "./batch.js";
export type { ErrorName, StatusErrorName } from "./errors.js";
// The hooks the entries use (`_setRandom`, `_setBatchLoader`) and the tests' `_debugPanic` are
// imported from `driver.js` by file: the package's `exports` map does not reach that module.

/**
 * What `estimateCost` reads besides a whole create request. `id` and `status` are `never`: a job
 * (which has `resolution` and `duration` too) matched this all-optional type and compiled, then
 * was refused at run time for its unknown fields (helper-46); price a job by its
 * `{resolution, duration}`, or read its `estimated_cost_cents`.
 */
export interface EstimateInput {
  resolution?: Resolution | null | undefined;
  duration?: number | null | undefined;
  id?: never;
  status?: never;
}

/**
 * The cost in cents of a video, offline, with the reference's prices (or `table`, from
 * `client.pricing.retrieve()`). Takes `{resolution, duration}` (defaults 720p, 5 s) or a whole
 * create request, or an array of them for the total: `estimateCost({resolution: "1080p", duration: 5})` → 120.
 * @throws {ValidationError} naming the field (an unknown field gets a did-you-mean).
 */
export function estimateCost(input: EstimateInput | CreateVideoParams | readonly (EstimateInput | CreateVideoParams)[], table?: PricingTable): number {
  return g(() => w.estimate(J(input), table && J(table)));
}

// ------------------------------------------------------------------------------------------------
// The client
// ------------------------------------------------------------------------------------------------

const VERSION = "0.1.0";
const env = (k: string): string | undefined => (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[k] || undefined;
const inspect = Symbol.for("nodejs.util.inspect.custom");

/** The core's wait options from the JS ones (their names already checked by `known`). The two the
 * package renames are checked here, by their JS names; the core checks the rest (`poll.first_poll_ms`). */
function waitSpec(o: WaitOptions): Record<string, unknown> {
  known(o.poll, POLL, "poll.");
  const options: Record<string, unknown> = {};
  const t = o.timeoutMs;
  if (t !== undefined) {
    if (t !== null) checkNumber("timeoutMs", t, (n) => n === Infinity || (Number.isSafeInteger(n) && n >= 0), "a whole number of milliseconds from 0 to 9007199254740991 (Number.MAX_SAFE_INTEGER), or null or Infinity for no limit");
    options.timeout_ms = t === Infinity ? null : t;
  }
  if (o.cancelOnTimeout != null) options.cancel_on_timeout = o.cancelOnTimeout;
  if (o.poll) options.poll = Object.fromEntries(Object.entries(o.poll).filter(([, v]) => v != null)); // null: not given
  return options;
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
  async create(params: CreateVideoParams, options?: CreateOptions | null): Promise<Job> {
    options = known(options, CREATE);
    const [m, gen] = this.#c.start({ machine: "create", request: params, idempotency_key: options.idempotencyKey });
    return (await this.#c.run(m, gen, options)) as Job;
  }

  /** One job. */
  async retrieve(id: string, options?: RequestOptions | null): Promise<Job> {
    text("id", id);
    return await this.#c.callId("retrieve_video", id, options);
  }

  /** One page of jobs, most recent first (`limit` 1–100, default 20). */
  list(params: ListParams = {}, options?: RequestOptions | null): Promise<JobPage> {
    return this.#c.call({ target: "list_videos", params }, options);
  }

  /** Every job, page after page (100 a page): `for await (const job of client.videos.listAll())`.
   * Ends at the last page, or at a page that starts with the job the one before started with
   * (a server that ignores `offset`: the walk would never end). */
  listAll(options?: RequestOptions | null): AsyncGenerator<Job, void, undefined> {
    return this.#c.walk(100, (params) => this.list(params, options), options?.signal);
  }

  /** Cancels a pending job (refunding it) or deletes a finished job's record (`ConflictError` while processing). */
  async delete(id: string, options?: RequestOptions | null): Promise<DeleteResult> {
    text("id", id);
    return await this.#c.callId("delete_video", id, options);
  }

  /**
   * Waits until the job completes (`JobFailedError` if it fails, `WaitTimeoutError` after
   * `timeoutMs`, default 10 minutes, while the job goes on). Polls follow the core's schedule.
   * An abort rejects at once; the job goes on (a wait only watches it: others may be waiting for
   * it), unless `cancelOnTimeout` is set: then the core deletes it if it was last seen pending (a
   * job not seen yet is left alone: it may be finished).
   */
  async wait(id: string, options?: WaitOptions | null): Promise<CompletedJob> {
    text("id", id);
    options = known(options, WAIT);
    const [m, gen] = this.#c.start({ machine: "job_run_wait", job_id: id, options: waitSpec(options) });
    return (await this.#c.run(m, gen, { ...options, cleanup: true })) as CompletedJob;
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
   * @throws {ValidationError} naming every bad request (`requests[3].duration`), or a bad option
   * (`maxSpendCents`, also when the estimate is above it).
   */
  batch(requests: readonly CreateVideoParams[], options?: BatchOptions | null): Promise<Batch> {
    return this.#batch(requests, options);
  }

  /**
   * Continues a batch from `batch.snapshot()` (possibly taken in another process that died): items
   * whose create may have been sent are reconciled against the job list before anything is sent,
   * so no job is created or charged twice, within a day of the snapshot: from one more than 23 h
   * older than the service's `Date`, nothing is sent again (queued items end coded
   * `snapshot_too_old`). Items already done are not yielded again (they are in the summary).
   */
  async resumeBatch(snapshot: string, options?: BatchOptions | null): Promise<Batch> {
    text("snapshot", snapshot, false);
    return this.#batch(null, options, snapshot);
  }

  /** Starts (or resumes) a batch in the batch module, with the `Batch` driver from its own chunk.
   * An abort of `signal` while the module loads rejects at once, as a call's does; the batch made
   * once it has loaded is freed unsent (its constructor refuses an aborted signal). */
  async #batch(requests: readonly CreateVideoParams[] | null, options: BatchOptions | null | undefined, snapshot?: string): Promise<Batch> {
    const o = known(options, BATCH);
    const signal = o.signal;
    if (signal?.aborted) throw abortError(signal);
    const loaded = Promise.all([this.#c.startBatch(requests, o, snapshot), import("./batch.js")]);
    const make = ([started, { Batch }]: Awaited<typeof loaded>): Batch => new Batch(this.#c, started, o);
    if (!signal) return make(await loaded);
    let unlisten = (): void => {};
    const aborted = new Promise<never>((_, reject) => (unlisten = onAbort(signal, () => reject(abortError(signal)))));
    let got: Awaited<typeof loaded>;
    try {
      got = await Promise.race([loaded, aborted]);
    } catch (e) {
      // Only a race the abort won leaves the batch to be made (and freed) later: one that the
      // load won is made below, once (helper-72: it was freed twice).
      if (signal.aborted) void loaded.then(make).catch(() => {});
      throw e;
    } finally {
      unlisten();
    }
    return make(got);
  }

  /** Creates a job (at most once) and waits for it. */
  async createAndWait(params: CreateVideoParams, options?: CreateAndWaitOptions | null): Promise<CompletedJob> {
    options = known(options, CREATE_AND_WAIT);
    const spec = { machine: "job_run_create_and_wait", request: params, idempotency_key: options.idempotencyKey, options: waitSpec(options) };
    const [m, gen] = this.#c.start(spec);
    return (await this.#c.run(m, gen, { ...options, cleanup: true })) as CompletedJob;
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
  retrieve(options?: RequestOptions | null): Promise<Account> {
    return this.#c.call({ target: "retrieve_account" }, options);
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
  retrieve(options?: RequestOptions | null): Promise<PricingTable> {
    return this.#c.call({ target: "retrieve_pricing" }, options);
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
  async create(params: { jwt: string; name?: string | null | undefined }, options?: RequestOptions | null): Promise<CreatedApiKey> {
    const { jwt, name } = known(params, API_KEY, "", "params");
    text("jwt", jwt);
    const created: CreatedApiKey = await this.#c.call({ target: "create_api_key", jwt, name }, options);
    // `console.log(created)` shows the key redacted (helper-63: printed whole); `created.key` and
    // `JSON.stringify` (to store it) give it whole.
    const shown = typeof created.key === "string" ? g(() => w.redact(created.key)) : created.key;
    Object.defineProperty(created, inspect, { value: () => ({ ...created, key: shown === created.key ? "[redacted]" : shown }), enumerable: false });
    return created;
  }
}

/**
 * A path (`/api/usvideo`) is the page's own origin's, as `fetch` reads it: a page's proxy. Only
 * where there is a page with an origin (`location`; not a `data:` worker or `about:srcdoc`), and
 * only a path that stays on it (`/\\evil.com` would not): anything else is left as it is, for the
 * core to refuse as not a URL.
 */
function sameOrigin(base: string): string {
  const origin = here();
  if (typeof base !== "string" || !base.startsWith("/") || origin === undefined) return base;
  try {
    const url = new URL(base, origin);
    return url.origin === origin ? url.href : base;
  } catch {
    return base;
  }
}

/** The origin of the page (or worker) the package runs in, where it has one. */
function here(): string | undefined {
  const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  return typeof origin === "string" && /^https?:\/\//.test(origin) ? origin : undefined;
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

const isCount = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffff_ffff;

/** The client of the US Video API. */
export class USVideo {
  readonly videos: Videos;
  readonly account: AccountResource;
  readonly pricing: PricingResource;
  readonly apiKeys: ApiKeysResource;
  /** The base URL requests go to. */
  readonly baseURL: string;
  readonly #shown: string;

  constructor(options?: ClientOptions | null) {
    options = known(options, CLIENT);
    const key = options.apiKey ?? env("USVIDEO_API_KEY");
    const base = sameOrigin(options.baseURL ?? env("USVIDEO_BASE_URL") ?? "https://usvideoapi.com/v1");
    if (key?.startsWith("sd_") && inBrowser() && !options.dangerouslyAllowBrowser) {
      throw new UsageError(
        "refusing to use an API key in a browser: anyone who loads the page could read it. Call the API from your server, or make the client without `apiKey` and point `baseURL` at a server-side proxy that adds the key (a path such as `/api/usvideo` will do); pass `dangerouslyAllowBrowser: true` only if you accept the risk.",
        { kind: "usage", code: "browser_api_key", field: "apiKey" },
      );
    }
    // The options only this driver reads, checked here, at once, by their JS names.
    const rpm = options.requestsPerMinute ?? 60;
    const timeoutMs = options.timeoutMs ?? 60_000;
    checkNumber("timeoutMs", timeoutMs, (n) => n > 0, "a number of milliseconds above 0 (Infinity for no limit)");
    checkNumber("requestsPerMinute", rpm, isCount, "a whole number from 0 (no client-side limit) to 4294967295");
    const maxRetries = options.maxRetries ?? undefined;
    if (maxRetries !== undefined) checkNumber("maxRetries", maxRetries, isCount, "a whole number from 0 to 4294967295");
    const f: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
    const ua = `usvideo-js/${VERSION}`;
    let ctx: Ctx;
    try {
      ctx = new Ctx(
        () => {
          const client = new w.Client(base, key, ua);
          // The core's base URL (trailing slashes removed): `…/v1` and `…/v1/` are one service.
          return [client, sharedLimiter(client.baseURL, key, rpm)];
        },
        (m, requests, snapshot, spec, entropy, t) => m.BatchRun.start(base, key ?? "", ua, requests, snapshot, spec, entropy, t),
        f, options.fetch == null, timeoutMs, { max_retries: maxRetries }, rpm,
      );
    } catch (e) {
      // A value the caller did not write came from the environment: say which variable. In a
      // page, a base URL may also be a path of its origin (`sameOrigin`): say so.
      const from = e instanceof ValidationError && { apiKey: options.apiKey == null && "USVIDEO_API_KEY", baseURL: options.baseURL == null && "USVIDEO_BASE_URL" }[e.field ?? ""];
      const path = e instanceof ValidationError && e.field === "baseURL" && !from && here() !== undefined && "; in a page, a path from its origin (`/api/usvideo`) is taken too";
      const more = from ? ` (from ${from})` : path || "";
      if (more) {
        (e as Error).message += more;
        for (const issue of (e as ValidationError).issues) issue.message += more;
      }
      throw e;
    }
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
