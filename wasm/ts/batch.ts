// `Batch`, the driver of the core's batch scheduler. A chunk of its own: the package imports it
// (with the batch module) the first time a batch is made, so apps that never make one never load it.

import type * as wb from "./gen/usvideo_batch.js";
import { abortError, batchGeneration, Callbacks, g, now, onAbort, P, sleep, type Ctx, type Out, type Send } from "./driver.js";
import { errorFromRecord, InternalError, type USVideoError } from "./errors.js";
import type { BatchEvent, BatchItem, BatchOptions, BatchProgress, BatchSummary, CompletedJob, ErrorRecord, Job } from "./types.js";

// ------------------------------------------------------------------------------------------------
// Batches
// ------------------------------------------------------------------------------------------------

type ItemRecord = { type: "item_done"; index: number; job?: Job; error?: ErrorRecord & { class?: string; retryable?: boolean } };

/** An item as the caller sees it; `aborted`: the signal's reason, the `cause` of an item the core
 * cancelled because of it (as an `AbortError` of a single call has). */
function item(r: Omit<ItemRecord, "type">, aborted?: unknown): BatchItem {
  const cause = r.error?.kind === "cancelled" ? aborted : undefined;
  return (r.error ? { index: r.index, job: r.job, error: errorFromRecord(r.error, cause) } : { index: r.index, job: r.job as CompletedJob }) as BatchItem;
}

/**
 * A running batch (the core's `Batch` scheduler driven over `fetch`): `for await (const item of
 * batch)` yields items as they finish; `snapshot()` saves where it stands (JSON) for
 * `client.videos.resumeBatch` in another process; `cancel()` stops it. Nothing is sent until the
 * first `next()` (or `cancel()`); breaking out of `for await` pauses it (jobs already submitted go on
 * at the service), and iterating again continues. Made by `await client.videos.batch(…)`.
 *
 * If the whole batch fails (the balance is short, the key is refused), `next()` rejects with that
 * error once, then the iteration ends. A callback (`onProgress`, `onEvent`) that throws, or whose
 * promise rejects, rejects the next `next()` with its error: the batch is paused, not cancelled.
 */
// One type argument: the declarations then read in TypeScript before 5.6 too.
export class Batch implements AsyncIterableIterator<BatchItem> {
  readonly #c: Ctx;
  readonly #m: wb.BatchRun;
  readonly #gen: number;
  readonly #o: BatchOptions;
  readonly #items: BatchItem[] = [];
  /** Every item this process saw end, by index, with its error's record as the core wrote it then:
   * the summary is made of the same objects (an item keeps the `cause` it had when it was yielded,
   * and only items an abort cancelled have one) unless the core changed the record since (`#result`). */
  readonly #seen = new Map<number, [BatchItem, string | undefined]>();
  /** The jobs the events showed that no item has ended yet: what a reset of the module loses (`#lose`). */
  readonly #running = new Set<string>();
  /** Set once a reset of the batch module lost the batch's state. */
  #lost?: InternalError;
  #summary?: BatchSummary;
  #failure?: USVideoError;
  #reported = false;
  #cancelling = false;
  /** Set as the batch ends (its machine is freed then): its last snapshot and counts. */
  #end?: { snapshot: string; progress: BatchProgress };
  #lock: Promise<unknown> = Promise.resolve();
  #wake = new AbortController();
  /** The callbacks; what one throws (or its promise rejects with) wakes the batch, and the next
   * `next()` rejects with it (once). */
  readonly #callbacks = new Callbacks(() => this.#rouse());
  /** The signal's reason once it aborted the batch. */
  #aborted?: unknown;
  /** Whether a `next()` was rejected for the signal's abort. One is (the waiting one, or else the
   * next); the following ones yield the items its clean-up ended, as after a `cancel()`, then end. */
  #abortTold = false;
  /** Stops listening to the signal (set once listening). */
  #unlisten: () => void = () => {};
  readonly #onAbort = (): void => {
    this.#aborted = this.#o.signal?.reason;
    void this.cancel().catch(() => {});
  };
  /** The estimated cost of what is left, in cents (known before anything is sent). */
  readonly estimatedCents: number;

  /** @internal */
  constructor(c: unknown, started: unknown, o: BatchOptions) {
    this.#c = c as Ctx;
    [this.#m, this.#gen] = started as [wb.BatchRun, number];
    this.#o = o;
    // Aborted while the batch module loaded (or before `batch()`): refused, as a call given an
    // aborted signal is, and nothing sent (a resumed batch's cancel would look at its jobs and
    // delete the pending ones, for a batch its caller never got).
    if (o.signal?.aborted) {
      if (this.#gen === batchGeneration) this.#m.free();
      throw abortError(o.signal);
    }
    this.estimatedCents = g(() => this.#m.estimatedCents, this.#gen, true);
    this.#unlisten = onAbort(o.signal, this.#onAbort);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next finished item, in completion order. An abort of `signal` rejects one `next()` at once with `AbortError` (the batch is then cancelled in the background); the following ones yield the items the cancel ended, then end. */
  next(): Promise<IteratorResult<BatchItem, undefined>> {
    const signal = this.#o.signal;
    if (signal?.aborted && !this.#abortTold) {
      this.#abortTold = true;
      return Promise.reject(abortError(signal));
    }
    // Once the batch has ended, the callbacks' promises are awaited before the last `next()`
    // answers (a late rejection is still the batch's to report), outside the lock: a callback that
    // awaits `cancel()` would otherwise wait for the pump that waits for it (helper-64: both hung).
    // A `next()` the abort rejected takes nothing: its item (or the batch's error) would be lost.
    const waiter = { gone: false };
    const ready = this.#serial(() => this.#pump(waiter)).then(async () => {
      if (!waiter.gone && this.#over && !this.#items.length) await this.#callbacks.settled();
    });
    return new Promise((resolve, reject) => {
      const off = signal && !signal.aborted
        ? onAbort(signal, () => {
            waiter.gone = this.#abortTold = true;
            reject(abortError(signal));
          })
        : () => {};
      // Taken and answered in one step: an abort between the two dropped the item (helper-72).
      ready.then(
        () => {
          off();
          if (waiter.gone) return;
          try {
            resolve(this.#take());
          } catch (e) {
            reject(e);
          }
        },
        (e: unknown) => {
          off();
          if (!waiter.gone) reject(e);
        },
      );
    });
  }

  /** Ends a `for await` early: the batch pauses (nothing more is sent until `next()` or `cancel()`). */
  return(): Promise<IteratorResult<BatchItem, undefined>> {
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Cancels the batch and sees it through: queued items end cancelled, pending jobs are deleted
   * (refunded), processing jobs go on (reported cancelled with their job). Items finished meanwhile
   * are still yielded by the iterator. Resolves with the summary (`undefined` if the batch failed),
   * also when cancelled before it started (its queued items cancelled; a resumed batch's jobs
   * as the cancel found them: deleted if pending, processing or completed otherwise).
   */
  cancel(): Promise<BatchSummary | undefined> {
    if (!this.#cancelling && !this.#over) {
      this.#cancelling = true;
      // A module reset under the batch (another batch's internal error) throws here: a rejection,
      // not a throw out of the signal's abort listener (helper-64: the process exited).
      try {
        this.#g(() => this.#m.cancel(now()));
      } catch (e) {
        return Promise.reject(e);
      }
      this.#rouse();
    }
    return this.#serial(() => this.#pump()).then(() => {
      if (this.#lost) throw this.#lost; // nothing was deleted: no summary pretends otherwise
      return this.#summary;
    });
  }

  /** Where the batch stands, as JSON text: save it and pass it to `client.videos.resumeBatch` (in any process) to continue without submitting anything twice. Resume within a day, from the latest one: the service honours an idempotency key for 24 h (an assumption), so from a snapshot more than 23 h older than the service's `Date` nothing is sent again: its queued items end `snapshot_too_old` (the batch may have sent them after the snapshot), its submitting ones adopt their listed job or end the same way. */
  snapshot(): string {
    return this.#end?.snapshot ?? this.#g(() => this.#m.snapshot());
  }

  /** The counts now. */
  progress(): BatchProgress {
    return this.#end?.progress ?? P(this.#g(() => this.#m.progress()));
  }

  /** Every item in input order, once the batch has ended (`undefined` before, or if it failed as a whole). */
  get summary(): BatchSummary | undefined {
    return this.#summary;
  }

  /** Whether the batch ended, or was lost to a reset of its module. */
  get #over(): boolean {
    return !!(this.#end || this.#lost);
  }

  /** A call into the batch module. A reset of the module (a trap in it, this batch's or another's)
   * loses this batch's state: `#lose`. */
  #g<T>(f: () => T): T {
    if (this.#lost) throw this.#lost;
    try {
      return g(f, this.#gen, true);
    } catch (e) {
      throw this.#gen === batchGeneration ? e : this.#lose(e);
    }
  }

  /**
   * The batch as it stood is gone with the module's old instance, and the batch ends: `next()`
   * yields the items already finished, then rejects once with the error this makes, which says
   * what was lost and how to go on; `cancel()`, `snapshot()` and `progress()` throw it. The
   * snapshot as of the last good step is not kept: that would write every item's record at every
   * step, for a bug; the caller's last saved one resumes safely (creates sent since are
   * reconciled by their keys).
   */
  #lose(cause: unknown): InternalError {
    if (!this.#lost) {
      const jobs = [...this.#running];
      const going = jobs.length ? `; its jobs ${jobs.join(", ")} go on at the service (charged unless they fail)` : "";
      this.#lost = new InternalError(
        `the batch module was reset after an internal error (please report it), and this batch's state with it${going}: resume it from the last snapshot() you saved, with client.videos.resumeBatch (creates sent since are reconciled by their idempotency keys, so no job is made twice; items that finished since are yielded again)`,
        { kind: "internal", code: "internal", job_id: jobs.length === 1 ? jobs[0] : undefined },
        { cause },
      );
      this.#failure = this.#lost;
      this.#unlisten();
    }
    return this.#lost;
  }

  /** An item of the summary: the one yielded, unless the core's record of it changed since. Rule 9
   * does that: once a resumed batch's snapshot turns too old, the core drops the idempotency key of
   * every item that ended with one (and recodes `outcome_unknown` as `snapshot_too_old`), since a
   * create under it is no safe retry; the summary says what the core says now, and the object
   * yielded stays as the caller got it (an `onEvent` warning names those items). */
  #result(r: ItemRecord): BatchItem {
    const seen = this.#seen.get(r.index);
    return seen && seen[1] === JSON.stringify(r.error) ? seen[0] : item(r);
  }

  /** Ends the pump's current sleep (a cancel, a callback's error). */
  #rouse(): void {
    const wake = this.#wake;
    this.#wake = new AbortController();
    wake.abort();
  }

  /** The callbacks' error, once: it rejects one `next()`. */
  #callbackError(): void {
    const failed = this.#callbacks.failure;
    if (!failed) return;
    this.#callbacks.failure = undefined;
    throw failed.error;
  }

  /** Runs `f` (a pump) after the one before. A batch lost to a reset of its module ends it: its
   * error is `#take`'s to report, once, after the items already finished (`cancel()` throws it). */
  #serial(f: () => Promise<void>): Promise<void> {
    const p = this.#lock.then(f).catch((e: unknown) => {
      if (e !== this.#lost) throw e;
    });
    this.#lock = p.catch(() => {});
    return p;
  }

  #take(): IteratorResult<BatchItem, undefined> {
    const value = this.#items.shift();
    if (value) return { value, done: false };
    this.#callbackError(); // one met during a cancel, or by the batch's end
    if (this.#failure && !this.#reported) {
      this.#reported = true;
      throw this.#failure;
    }
    return { value: undefined, done: true };
  }

  /** Waits for a slot of the key's rate limit for `out`: `false` (not sent, and the core is told
   * so) once its `send_by` passes, or once the batch is cancelled: a create still waiting for a
   * slot then is never sent (helper-64: one went out 44 s after `cancel()` and was charged). A
   * callback's error, which wakes the batch too, does not end the wait: the request is the core's,
   * and the pump must not leave with it unsent. A request the cancel itself makes (a delete), and
   * any read, waits for its slot. */
  async #slot(out: Send): Promise<boolean> {
    const by = out.send_by ?? Infinity;
    // Only a create's wait (a POST): a read cut short would count as a failed one (helper-66).
    const create = out.method === "POST";
    for (;;) {
      const wake = this.#cancelling || !create ? undefined : this.#wake.signal;
      if (await this.#c.slot(wake, by)) return true;
      if (now() >= by || (this.#cancelling && wake?.aborted)) return false;
    }
  }

  /** Drives the machine until an item is ready for `waiter` (a `next()`, unless the batch is
   * cancelling or the signal's abort rejected that `next()`) or the batch ends. */
  async #pump(waiter?: { gone: boolean }): Promise<void> {
    const [m, c, o] = [this.#m, this.#c, this.#o];
    while (!this.#over) {
      const untilItem = !!waiter && !waiter.gone;
      // A callback's error rejects the `next()` that is waiting (a cancel sees the batch through).
      if (untilItem) this.#callbackError();
      if (untilItem && !this.#cancelling && this.#items.length) return;
      const out: Exclude<Out, { t: "event" }> | { t: "event"; event: BatchEvent | ItemRecord } = P(this.#g(() => m.poll(now())));
      if (out.t === "send") {
        // A batch's requests are seen through even when it is cancelled: their outcomes decide
        // what must be deleted.
        // A delete carries `send_by` (its job's pending sighting goes stale then): a slot later
        // than that is not waited for, and the core looks at the job first (helper-55: held by
        // the key's other calls, a delete went out on a stale sighting).
        if (!c.takeSlot() && !(await this.#slot(out))) {
          this.#g(() => m.handleNotSent(out.id, now()));
          continue;
        }
        const r = await c.exec(out);
        if ("status" in r) {
          c.refresh();
          c.limiter.observe(r.status, r.headers, r.body, now());
          this.#g(() => m.handleResponse(out.id, r.status, r.headers, r.body, now()));
        } else {
          this.#g(() => m.handleTransportError(out.id, r.kind, r.message, now()));
        }
      } else if (out.t === "event") {
        const e = out.event;
        if (e.type === "item_done") {
          const it = item(e, this.#aborted);
          this.#seen.set(e.index, [it, JSON.stringify(e.error)]);
          if (e.job) this.#running.delete(e.job.id);
          this.#items.push(it);
        }
        else {
          if ("job" in e) this.#running.add(e.job.id); // created, reconciled, status_changed
          if (e.type === "batch_progress" && o.onProgress) {
            const { type: _, ...p } = e;
            this.#callbacks.call(o.onProgress, p);
          }
          this.#callbacks.call(o.onEvent, e);
        }
      } else if (out.t === "wait") {
        await sleep(out.until - now(), this.#wake.signal);
        this.#g(() => m.handleTimeout(now()));
      } else if (out.t === "pending") {
        this.#g(() => m.cancel(now())); // nothing can be in flight: every request is awaited inline
      } else {
        const end = { snapshot: this.#g(() => m.snapshot()), progress: P(this.#g(() => m.progress())) as BatchProgress };
        try {
          const s = P(this.#g(() => m.takeResult()));
          this.#summary = { results: s.results.map((r: ItemRecord) => this.#result(r)), progress: s.progress, spent_cents: s.spent_cents };
        } catch (e) {
          if (e === this.#lost) throw e;
          this.#failure = e as USVideoError;
        }
        this.#end = end; // the callbacks' promises are awaited by `next()`, outside the lock
        this.#unlisten();
        if (this.#gen === batchGeneration) m.free();
      }
    }
  }
}
