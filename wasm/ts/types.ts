// The package's public types: requests, jobs and the other wire objects (wire names), events, and
// the options of each call.

import type { USVideoError } from "./errors.js";

// ------------------------------------------------------------------------------------------------
// Types (wire names)
// ------------------------------------------------------------------------------------------------

/** How a video is generated. */
export type Mode = "text_to_video" | "image_to_video" | "reference";
/** Output resolution (exact case: `2k`, not `2K`). */
export type Resolution = "720p" | "1080p" | "2k";
/** The statuses this SDK knows. A newer service may send others: they are passed through verbatim and never end a wait. */
export type JobStatus = "pending" | "processing" | "completed" | "failed";
/** A status as reported in progress and errors: one of {@link JobStatus} (offered by editors), or
 * a newer service's own, passed through verbatim. */
export type ReportedStatus = JobStatus | (string & {});
/** The kind of an error (the core's `ErrorKind`, plus `internal` for a bug inside the module). */
export type ErrorKind =
  | "validation" | "bad_request" | "authentication" | "insufficient_balance" | "not_found" | "conflict" | "rate_limit"
  | "internal_server" | "upstream" | "api_status" | "decode" | "connection" | "timeout" | "job_failed" | "wait_timeout"
  | "cancelled" | "usage" | "internal";
/** The rule a {@link ValidationIssue} broke (the core's `IssueCode`). */
export type IssueCode =
  | "required" | "blank" | "invalid_type" | "not_integer" | "out_of_range" | "invalid_choice" | "not_allowed" | "invalid_url"
  | "unknown_field" | "invalid_characters" | "invalid_prefix" | "invalid_format";
/**
 * An error's `code`: one the SDK makes or the service is documented to send (offered by editors),
 * or any other text a newer service sends, passed through verbatim.
 */
export type ErrorCode =
  /** A bare error's: its kind's name (the core's `ErrorKind::as_str`; `internal`: an `InternalError`). */
  | ErrorKind
  /** A `ValidationError`'s: its first issue's code (the core's `Error::validation`). */
  | IssueCode
  /** A create that may have made its job or API key (the core's `OUTCOME_UNKNOWN`). */
  | "outcome_unknown"
  /** A batch item not sent: its batch was resumed from a snapshot older than the service keeps
   * idempotency keys (the core's `SNAPSHOT_TOO_OLD`); look for its job before creating it anew. */
  | "snapshot_too_old"
  /** A job that ended `failed` without an `error` of its own (the core's `Error::job_failed`). */
  | "generation_failed"
  /** An `sd_` key in a browser without `dangerouslyAllowBrowser` (a `UsageError`). */
  | "browser_api_key"
  /** The service's (CONTRACT.md): a 429 of the request rate, a 429 of the account's concurrent
   * jobs, a 409 of an `Idempotency-Key` used with another body. */
  | "rate_limited" | "concurrency_limit" | "idempotency_conflict"
  | (string & {});
/** What went wrong below HTTP, for connection errors. */
export type TransportKind = "connect" | "timeout" | "aborted" | "body_too_large" | "other";

// The runtime's own `AbortSignal` and `Response` where its types declare them (DOM, Node, Deno,
// Bun, workers), so a signal or a fetch of the runtime fits exactly; without such types (a
// `lib: ["es2022"]` project without `@types/node`) the members the SDK uses, so that these
// declarations still compile instead of needing DOM or Node types.
interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}
interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** Read in chunks when present, else through `arrayBuffer()`. */
  readonly body: {
    getReader(): { read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>; cancel(): Promise<void> };
    cancel(): Promise<void>;
  } | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** The runtime's `AbortSignal` (or, without DOM or Node types, the members the SDK uses). */
export type Signal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : AbortSignalLike;
/** The runtime's `Response` (or, without DOM or Node types, the members the SDK reads). */
export type FetchResponse = typeof globalThis extends { Response: { prototype: infer R } } ? R : ResponseLike;

interface CreateCommon {
  /** What the video shows (non-empty). */
  prompt: string;
  /** Default `720p`. */
  resolution?: Resolution | null | undefined;
  /** Whole seconds, 1 to 10 (default 5). */
  duration?: number | null | undefined;
  /** 0 to 4294967295. */
  seed?: number | null | undefined;
}
/** The body of `POST /v1/videos`. `image_url` belongs to `image_to_video`, `reference_url` to `reference`. */
export type CreateVideoParams =
  | (CreateCommon & { mode: "text_to_video"; image_url?: null | undefined; reference_url?: null | undefined })
  | (CreateCommon & { mode: "image_to_video"; image_url: string; reference_url?: null | undefined })
  | (CreateCommon & { mode: "reference"; reference_url: string; image_url?: null | undefined });

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
export interface ListParams { limit?: number | undefined; offset?: number | undefined }
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
  status: ReportedStatus;
  /** 0–100 (estimated from elapsed time when the service reports none). */
  percent: number;
  elapsed_ms: number;
  expected_ms: number;
}
export interface ErrorRecord {
  kind: ErrorKind;
  code: ErrorCode;
  message: string;
  status?: number;
  field?: string;
  request_id?: string;
  retry_after_ms?: number;
  job_id?: string;
  job_status?: ReportedStatus;
  idempotency_key?: string;
  issues?: ValidationIssue[];
  transport?: TransportKind;
}
/** Everything a wait or create tells `onEvent` (internally tagged by `type`). */
export type JobEvent =
  | { type: "created"; job: Job }
  | { type: "status_changed"; job: Job }
  | ({ type: "progress" } & Progress)
  | { type: "retrying"; attempt: number; after_ms: number; error: ErrorRecord }
  | { type: "reconciling"; error: ErrorRecord }
  | { type: "reconciled"; job: Job }
  /** The wait's deadline passed with `cancelOnTimeout` and it deletes its job if still pending;
   * `error` is what it ends with if nothing else goes wrong. (After an abort the same clean-up
   * runs, but callbacks are no longer called.) */
  | { type: "cleaning_up"; error: ErrorRecord }
  | { type: "warning"; message: string };
/** @deprecated Use JobEvent; this name shadows the DOM's Event. */
export type Event = JobEvent;

export interface ValidationIssue { field: string; code: IssueCode; message: string }

/** The knobs of the poll schedule (wire names of the core's `PollPolicy`). */
export interface PollPolicy {
  /** The first poll after the create (default 3000), but never later than half the job's expected time. */
  first_poll_ms?: number | null | undefined;
  /** Shortest gap between polls (default 2000). */
  min_interval_ms?: number | null | undefined;
  /** Longest gap between polls (default 20 000). */
  max_interval_ms?: number | null | undefined;
  /** Multiplies the model's expected generation time (e.g. 1/15 against an emulator at 15×: polls come sooner, the first one too). */
  expected_scale?: number | null | undefined;
}

export interface ClientOptions {
  /** `sd_…`; default `USVIDEO_API_KEY` (Node; `""` for none even where that is set). Not needed
   * for pricing or API-key creation. Without one, requests carry no `Authorization` (a
   * server-side proxy adds it); calls that need a key are refused before sending when `baseURL`
   * is the service's own. */
  apiKey?: string | null | undefined;
  /** Default `USVIDEO_BASE_URL`, then `https://usvideoapi.com/v1`. In a browser: your server-side
   * proxy, which may be a path of the page's origin (`"/api/usvideo"`). */
  baseURL?: string | null | undefined;
  /** Retries per request after the first attempt (default 4). */
  maxRetries?: number | null | undefined;
  /** The most one HTTP request may take once sent, in ms (default 60 000; `Infinity` for no
   * limit). A call whose client has spent its `requestsPerMinute` first waits for a slot (up to
   * a minute), which this does not bound: a `signal`, or a wait's own `timeoutMs`, does. A
   * `ValidationError` on `timeoutMs` unless it is above 0. */
  timeoutMs?: number | null | undefined;
  /** Replaces the global `fetch` (proxies, tests, custom agents): any function that takes what
   * the SDK passes (see {@link FetchLike}), the global `fetch` and its wrappers included. */
  fetch?: FetchLike | null | undefined;
  /** The key's request budget per minute (default 60; 0 disables the client-side limiter).
   * Shared by every client of the same key, base URL and budget in the process. */
  requestsPerMinute?: number | null | undefined;
  /** Allow an `sd_` key in a browser (a page, or a browser's worker). Anyone who loads the page can read it: prefer a server-side proxy. */
  dangerouslyAllowBrowser?: boolean | null | undefined;
}
/** What the SDK calls a `fetch` option with: the URL as text, and an init of the method, the
 * headers as a plain record, the body (JSON text, for a create) and the call's signal. Typed this
 * narrowly so that any `fetch` fits: the global one (whatever extra members a runtime's types add
 * to it, like Bun's `preconnect`), undici's, or a wrapper typed to exactly these arguments. */
// `body?: string`, not `string | undefined`: under `exactOptionalPropertyTypes` the global
// `fetch` (whose `RequestInit.body` is `BodyInit | null`) must still fit. A GET has no `body` key.
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: Signal }) => Promise<FetchResponse>;
export interface RequestOptions { signal?: Signal | null | undefined }
export interface CreateOptions extends RequestOptions {
  /** Your own idempotency key (default: a fresh random one per call). */
  idempotencyKey?: string | null | undefined;
}
export interface WaitOptions extends RequestOptions {
  /** Give up waiting after this many ms (default 600 000; `null` waits for ever). The job goes on. */
  timeoutMs?: number | null | undefined;
  /** When the wait gives up (its timeout, or an abort of a `wait`), delete the job if it was last seen pending (refunding it); a job not seen yet is left alone. An aborted `createAndWait` deletes its own job either way. */
  cancelOnTimeout?: boolean | null | undefined;
  /** After every poll. */
  onProgress?: ((progress: Progress) => void) | null | undefined;
  /** Every event of the run (created, status changes, retries, reconciliation). */
  onEvent?: ((event: JobEvent) => void) | null | undefined;
  /** Overrides of the poll schedule. */
  poll?: PollPolicy | null | undefined;
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
  /** Failed, or refused by the service or the batch's checks. */
  failed: number;
  /** Cancelled by the batch's cancel (queued, deleted while pending, or processing and going on). */
  cancelled: number;
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
/** Every item in input order, the final counts, and `spent_cents`: what the batch's jobs cost the
 * account (completed jobs' costs, and the estimates of jobs that go on after it, such as those a
 * cancel found processing: charged unless they fail; refunded jobs cost nothing). */
export interface BatchSummary {
  results: BatchItem[];
  progress: BatchProgress;
  spent_cents: number;
}
/** What a batch tells `onEvent` besides its items: counts, and each job's creates, status changes and retries. */
export type BatchEvent = JobEvent | ({ type: "batch_progress" } & BatchProgress);
export interface BatchOptions extends RequestOptions {
  /** Refuse to start (a `ValidationError` on `maxSpendCents`, nothing sent) if the estimated total exceeds this. */
  maxSpendCents?: number | null | undefined;
  /** Jobs in flight at once (default 10, the standard tier's limit). */
  concurrentJobs?: number | null | undefined;
  /** The batch's request budget per minute (default: the client's `requestsPerMinute`). */
  requestsPerMinute?: number | null | undefined;
  /** Submit the longest expected jobs first (shortens the tail; results still come as jobs finish). */
  longestFirst?: boolean | null | undefined;
  /** Observe running jobs with one list request (default true) instead of one get each. */
  pollByList?: boolean | null | undefined;
  /** Gap between polls while a completion is likely, in ms (default 3000). */
  pollIntervalMs?: number | null | undefined;
  /** From which fraction of its expected time a job is likely to be finishing (default 0.65). */
  likelyFrom?: number | null | undefined;
  /** Read the account first and refuse to start beyond its balance (default true). */
  checkBalance?: boolean | null | undefined;
  /** Multiplies the model's expected times until jobs finish (e.g. 1/15 against an emulator at 15×). */
  expectedScale?: number | null | undefined;
  /** After every change of the counts. */
  onProgress?: ((progress: BatchProgress) => void) | null | undefined;
  /** Every event except finished items (those come from the iterator). */
  onEvent?: ((event: BatchEvent) => void) | null | undefined;
}
