// The options the package takes, by their JS names, and how they are checked before anything runs.
// Plain JS has no types to stop `new USVideo({baseUrl})` or `{onProgress: "x"}`: an unknown name
// would be ignored (requests and the key would go to the default service) and a wrong type would
// fail later as a bare TypeError, possibly after a job was created. So each record's names and
// the JS type of the options only this package reads are checked here, naming the option; the
// options the core reads (numbers with ranges, the poll policy, a batch's limits) are checked by
// the core, and the package renames its refusals to the JS names (`JS_NAMES`).

import { ValidationError } from "./errors.js";
import { redact, suggest } from "./gen/usvideo_wasm.js";
import type { BatchOptions, IssueCode } from "./types.js";

/** What an option must be when given; `""`: the core checks it, or a `check` below. One rule for
 * `null`, as for `undefined`: not given (the default), for a whole record as for one option; only
 * a wait's `timeoutMs` gives `null` a meaning of its own (no limit), as its type says. */
type Kind = "string" | "boolean" | "function" | "object" | "signal" | "";
export type Spec = Readonly<Record<string, Kind>>;

/** A batch's options that the core reads: the JS name and the core's (wire) name. */
export const BATCH_NAMES: readonly (readonly [keyof BatchOptions, string])[] = [
  ["maxSpendCents", "max_spend_cents"], ["longestFirst", "longest_first"], ["pollByList", "poll_by_list"], ["pollIntervalMs", "poll_interval_ms"],
  ["likelyFrom", "likely_from"], ["checkBalance", "check_balance"], ["expectedScale", "expected_scale"],
  ["requestsPerMinute", "limits.requests_per_minute"], ["concurrentJobs", "limits.concurrent_jobs"],
];

/** The options the core reads under another name than the caller wrote: the JS name and the
 * core's, for renaming its refusals (a request's fields are the wire names, and keep them). */
export const JS_NAMES: readonly (readonly [string, string])[] = [
  ...BATCH_NAMES, ["apiKey", "api_key"], ["baseURL", "base_url"], ["idempotencyKey", "idempotency_key"], ["timeoutMs", "timeout_ms"], ["cancelOnTimeout", "cancel_on_timeout"],
];

export const CLIENT: Spec = { apiKey: "string", baseURL: "string", maxRetries: "", timeoutMs: "", fetch: "function", requestsPerMinute: "", dangerouslyAllowBrowser: "boolean" };
export const REQUEST: Spec = { signal: "signal" };
export const CREATE: Spec = { ...REQUEST, idempotencyKey: "string" };
export const WAIT: Spec = { ...REQUEST, timeoutMs: "", cancelOnTimeout: "boolean", onProgress: "function", onEvent: "function", poll: "object" };
export const CREATE_AND_WAIT: Spec = { ...WAIT, idempotencyKey: "string" };
export const API_KEY: Spec = { jwt: "", name: "string" };
export const POLL: Spec = { first_poll_ms: "", min_interval_ms: "", max_interval_ms: "", expected_scale: "" };
export const BATCH: Spec = { ...REQUEST, onProgress: "function", onEvent: "function", ...Object.fromEntries(BATCH_NAMES.map(([k]) => [k, ""])) };

const TYPE: Record<Exclude<Kind, "">, string> = { string: "a string", boolean: "true or false", function: "a function", object: "an object", signal: "an AbortSignal" };

function fits(v: unknown, kind: Kind): boolean {
  if (kind === "" || v === undefined || v === null) return true;
  if (kind === "signal") return typeof v === "object" && typeof (v as AbortSignal).aborted === "boolean" && typeof (v as AbortSignal).addEventListener === "function";
  return typeof v === kind;
}

/** A `ValidationError` of one issue, naming `field`. Both go through the core's redaction: a name
 * the caller wrote (an unknown option's) may be an API key (`new USVideo({ [key]: 1 })`). */
export function refuse(field: string, code: IssueCode, message: string): never {
  [field, message] = [redact(field), redact(message)];
  throw new ValidationError(message, { kind: "validation", code, field, issues: [{ field, code, message }] });
}

/**
 * Refuses an options record that is not an object, an option name the package does not know (with
 * the known name that differs only in case or underscores, or that it begins: `baseUrl` → `baseURL`, `timeout` → `timeoutMs`, `firstPollMs` →
 * `first_poll_ms`; else one within two edits: `concurentJobs` → `concurrentJobs`), and an option of the wrong JS type, naming it (`where`: the record's path; `record`: its name when it is not an object).
 * Returns the record, `{}` when it was not given.
 */
export function known<T extends object>(o: T | null | undefined, spec: Spec, where = "", record = "options"): T {
  if (o === undefined || o === null) return {} as T; // every option is optional
  const whole = where.slice(0, -1) || record;
  if (typeof o !== "object" || Array.isArray(o)) refuse(whole, "invalid_type", `${whole} must be an object`);
  const flat = (s: string): string => s.toLowerCase().replace(/_/g, "");
  const names = Object.keys(spec);
  for (const [k, v] of Object.entries(o)) {
    const field = where + k;
    const kind = Object.hasOwn(spec, k) ? spec[k] : undefined; // not `toString` & co. of the prototype
    if (kind === undefined) {
      // The same name but for case or underscores, or one it begins (`timeout` → `timeoutMs`), or
      // else the one within two edits, by the core's rule for a request's fields (`concurentJobs`);
      // not for a name of three letters or fewer, which is two edits from too many.
      const near = names.find((n) => flat(n) === flat(k)) ?? (k.length > 3 ? names.find((n) => flat(n).startsWith(flat(k))) || suggest(k, names.join("\n")) || undefined : undefined);
      refuse(field, "unknown_field", `unknown option \`${field}\`${near ? `; did you mean \`${where}${near}\`?` : ""}`);
    }
    if (!fits(v, kind)) refuse(field, "invalid_type", `${field} must be ${TYPE[kind as Exclude<Kind, "">]}`);
  }
  return o;
}

/** Refuses an argument that must be text (`field`: its name), saying what it is instead: a
 * Promise (an `await` missing) or a job (its `id` meant). Absent, it is the core's to refuse. */
export function text(field: string, v: unknown, absent = true): void {
  if (typeof v === "string" || (absent && v == null)) return;
  const o = v as { then?: unknown; id?: unknown } | null | undefined;
  const got = typeof o?.then === "function" ? "a Promise (is an `await` missing?)" : typeof o?.id === "string" ? "an object with an `id` (pass its `id`)" : v === null ? "null" : typeof v;
  refuse(field, "invalid_type", `${field} must be a string; got ${got}`);
}

/** Refuses an option that breaks its rule, naming it (`code`: the issue's, as the core's). */
export function check(field: string, ok: boolean, rule: string, code: IssueCode = "out_of_range"): void {
  if (!ok) refuse(field, code, `${field} must be ${rule}`);
}

/** Refuses a number option that is not a number (`invalid_type`) or breaks its rule (`out_of_range`). */
export function checkNumber(field: string, v: unknown, ok: (n: number) => boolean, rule: string): void {
  check(field, typeof v === "number", rule, "invalid_type");
  check(field, ok(v as number), rule);
}
