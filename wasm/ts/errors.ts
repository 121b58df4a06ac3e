// The error classes the package throws, and how a record of the core becomes one.

import type { ErrorCode, ErrorKind, ErrorRecord, ReportedStatus, TransportKind, ValidationIssue } from "./types.js";

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/** The `name` of `APIStatusError` and of its subclasses. */
export type StatusErrorName =
  | "APIStatusError" | "BadRequestError" | "AuthenticationError" | "InsufficientBalanceError" | "NotFoundError" | "ConflictError"
  | "RateLimitError" | "InternalServerError" | "UpstreamError";
/** The `name` of each of the SDK's error classes. */
export type ErrorName =
  | "USVideoError" | "ValidationError" | StatusErrorName | "APIResponseError" | "APIConnectionError" | "APITimeoutError"
  | "JobFailedError" | "WaitTimeoutError" | "AbortError" | "UsageError" | "InternalError";

/** Base class of every error the SDK throws on purpose. Messages never hold a key or a JWT. */
export class USVideoError extends Error {
  override name: ErrorName = "USVideoError";
  /** The server's code (`insufficient_balance`, `concurrency_limit`, …), the SDK's own
   * (`outcome_unknown`, a validation error's first issue's) or the kind's name: an {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** The core's error kind (`rate_limit`, `not_found`, …). */
  readonly kind: ErrorKind;
  readonly status?: number;
  readonly field?: string;
  readonly requestId?: string;
  /** How long the server asked to wait, in seconds. */
  readonly retryAfter?: number;
  /** The same in milliseconds. */
  readonly retryAfterMs?: number;
  readonly jobId?: string;
  readonly jobStatus?: ReportedStatus;
  /** A create whose outcome is unknown (`code === "outcome_unknown"`), or that ended with a `5xx`
   * after its retries: its idempotency key. Create the same request again with
   * `{ idempotencyKey }` set to it, and the service answers with the job if an attempt made one,
   * instead of charging a second. */
  readonly idempotencyKey?: string;
  /** What went wrong below HTTP, for connection errors: `connect`, `timeout`, `aborted`,
   * `body_too_large` or `other`. */
  readonly transport?: TransportKind;
  /** Every violated rule (validation). */
  readonly issues: ValidationIssue[];
  /** Whether the same call could succeed later (429, 5xx, connection, timeout). */
  readonly retryable: boolean;
  /** What led to it: the signal's reason, for an `AbortError` or a batch item its abort cancelled.
   * Declared here so that it reads below ES2022's lib, which adds it to `Error`. */
  declare readonly cause?: unknown;
  constructor(message: string, record: Partial<ErrorRecord> & { retryable?: boolean } = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = record.kind ?? "usage";
    this.code = record.code ?? this.kind;
    this.status = record.status;
    this.field = record.field;
    this.requestId = record.request_id;
    this.retryAfterMs = record.retry_after_ms;
    this.retryAfter = record.retry_after_ms === undefined ? undefined : record.retry_after_ms / 1000;
    this.jobId = record.job_id;
    this.jobStatus = record.job_status;
    this.idempotencyKey = record.idempotency_key;
    this.transport = record.transport;
    this.issues = record.issues ?? [];
    this.retryable = !!record.retryable;
    for (const k of Object.keys(this) as (keyof this)[]) if (this[k] === undefined) delete this[k];
  }
  /** `JSON.stringify(error)` keeps the message (an `Error`'s own `message` is not enumerable), for
   * structured logs, and leaves out an abort's or a timeout's `cleanup` promise (it showed as
   * `"cleanup":{}`: helper-52). Nothing here holds a key or a JWT. */
  toJSON(): Omit<this, "toJSON" | "stack" | "cause" | "cleanup"> & { name: ErrorName; message: string } {
    const { cleanup: _promise, ...fields } = this as this & { cleanup?: unknown };
    return { ...fields, name: this.name, message: this.message } as Omit<this, "toJSON" | "stack" | "cause" | "cleanup"> & { name: ErrorName; message: string };
  }
}
/** Input refused before anything was sent; `issues` lists every violated rule, `field` is the first one's. */
export class ValidationError extends USVideoError { override name = "ValidationError" as const }
/** The service answered with a non-2xx status (this class for statuses without their own). */
export class APIStatusError extends USVideoError {
  override name: StatusErrorName = "APIStatusError";
  /** The HTTP status: always there for an answer's error. */
  declare readonly status: number;
}
/** 400. */
export class BadRequestError extends APIStatusError { override name = "BadRequestError" as const }
/** 401: missing, malformed or unknown key (or an API key where a JWT belongs). */
export class AuthenticationError extends APIStatusError { override name = "AuthenticationError" as const }
/** 402: the balance does not cover the job; nothing was created or charged. */
export class InsufficientBalanceError extends APIStatusError { override name = "InsufficientBalanceError" as const }
/** 404. */
export class NotFoundError extends APIStatusError { override name = "NotFoundError" as const }
/** 409: for example deleting a processing job. */
export class ConflictError extends APIStatusError { override name = "ConflictError" as const }
/** 429: too many requests or concurrent jobs; see `retryAfter`. */
export class RateLimitError extends APIStatusError { override name = "RateLimitError" as const }
/** 500. */
export class InternalServerError extends APIStatusError { override name = "InternalServerError" as const }
/** 502. */
export class UpstreamError extends APIStatusError { override name = "UpstreamError" as const }
/** A 2xx answer whose body is not what the endpoint returns. */
export class APIResponseError extends USVideoError { override name = "APIResponseError" as const }
/** No answer: the connection was refused, reset or dropped. */
export class APIConnectionError extends USVideoError { override name: "APIConnectionError" | "APITimeoutError" = "APIConnectionError" }
/** No answer within the request timeout. */
export class APITimeoutError extends APIConnectionError { override name = "APITimeoutError" as const }
/** The job ended `failed` (its charge is refunded); `code` is the service's reason. */
export class JobFailedError extends USVideoError { override name = "JobFailedError" as const }
/** The wait's deadline passed; the job goes on (unless `cancelOnTimeout`: then it is deleted if pending). */
export class WaitTimeoutError extends USVideoError {
  override name = "WaitTimeoutError" as const;
  /**
   * Of a wait with `cancelOnTimeout` whose delete was not done 10 s after the wait gave up (held
   * by the rate limit, a 429's `Retry-After` or the server): it goes on in the background, and
   * this settles (never rejects) once it is over, with the error the wait ended with, whose
   * `message` says what became of the job (deleted and refunded, or not), or `null` if the job
   * turned out to have completed.
   */
  cleanup?: Promise<USVideoError | null>;
}
/** The call was aborted through its `signal`. */
export class AbortError extends USVideoError {
  override name = "AbortError" as const;
  /**
   * Of an aborted `createAndWait` or `wait`, whose run is cancelled in the background after the
   * abort (a `createAndWait`'s job, or a `wait`'s with `cancelOnTimeout`, deleted if still
   * pending): settles (never rejects) once that is over, with the error the run ended with, whose
   * `message` and `jobStatus` say what became of the job (deleted and refunded; already
   * processing, so it goes on and is charged; left to run; none made yet), or `null` if the job
   * had completed.
   */
  cleanup?: Promise<USVideoError | null>;
}
/** The SDK was used wrongly. */
export class UsageError extends USVideoError { override name = "UsageError" as const }
/** A bug inside the SDK's WebAssembly module (a caught panic; the module was reset). Please report it. */
export class InternalError extends USVideoError { override name = "InternalError" as const }

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
export function errorFromRecord(r: ErrorRecord & { class?: string; retryable?: boolean }, cause?: unknown): USVideoError {
  return new (classes[r.class ?? ""] ?? USVideoError)(r.message, r, cause === undefined ? undefined : { cause });
}
