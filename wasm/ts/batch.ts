// `Batch`, the driver of the core's batch scheduler. A chunk of its own: the package imports it
// (with the batch module) the first time a batch is made, so apps that never make one never load it.

import type * as wb from "./gen/usvideo_batch.js";
import { abortError, batchGeneration, Callbacks, g, now, onAbort, P, sleep, type Ctx, type Out, type Send } from "./driver.js";
import { errorFromRecord, type USVideoError } from "./errors.js";
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
  /** Every item this process saw end, by index: the summary is made of the same objects (an item
   * keeps the `cause` it had when it was yielded, and only items an abort cancelled have one). */
  readonly #seen = new Map<number, BatchItem>();
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
    this.estimatedCents = g(() => this.#m.estimatedCents, this.#gen, true);
    if (o.signal?.aborted) this.#onAbort();
    else this.#unlisten = onAbort(o.signal, this.#onAbort);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next finished item, in completion order. An abort of `signal` rejects at once with `AbortError` (the batch is then cancelled in the background). */
  next(): Promise<IteratorResult<BatchItem, undefined>> {
    const signal = this.#o.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    // Once the batch has ended, the callbacks' promises are awaited before the last `next()`
    // answers (a late rejection is still the batch's to report), outside the lock: a callback that
    // awaits `cancel()` would otherwise wait for the pump that waits for it (helper-64: both hung).
    const p = this.#serial(() => this.#pump(true)).then(async () => {
      if (this.#end && !this.#items.length) await this.#callbacks.settled();
      return this.#take();
    });
    if (!signal) return p;
    return new Promise((resolve, reject) => {
      const stop = () => {
        reject(abortError(signal));
        p.catch(() => {});
      };
      const off = onAbort(signal, stop);
      p.then(resolve, reject).finally(off);
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
    if (!this.#cancelling && !this.#end) {
      this.#cancelling = true;
      // A module reset under the batch (another batch's internal error) throws here: a rejection,
      // not a throw out of the signal's abort listener (helper-64: the process exited).
      try {
        g(() => this.#m.cancel(now()), this.#gen, true);
      } catch (e) {
        return Promise.reject(e);
      }
      this.#rouse();
    }
    return this.#serial(() => this.#pump(false)).then(() => this.#summary);
  }

  /** Where the batch stands, as JSON text: save it and pass it to `client.videos.resumeBatch` (in any process) to continue without submitting anything twice. Resume within a day, from the latest one: the service honours an idempotency key for 24 h (an assumption), so from a snapshot more than 23 h older than the service's `Date` nothing is sent again: its queued items end `snapshot_too_old` (the batch may have sent them after the snapshot), its submitting ones adopt their listed job or end the same way. */
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

  #serial(f: () => Promise<void>): Promise<void> {
    const p = this.#lock.then(f);
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

  /** Drives the machine until an item is ready (`untilItem`, unless cancelling) or the batch ends. */
  async #pump(untilItem: boolean): Promise<void> {
    const [m, c, gen, o] = [this.#m, this.#c, this.#gen, this.#o];
    while (!this.#end) {
      // A callback's error rejects the `next()` that is waiting (a cancel sees the batch through).
      if (untilItem) this.#callbackError();
      if (untilItem && !this.#cancelling && this.#items.length) return;
      const out: Exclude<Out, { t: "event" }> | { t: "event"; event: BatchEvent | ItemRecord } = P(g(() => m.poll(now()), gen, true));
      if (out.t === "send") {
        // A batch's requests are seen through even when it is cancelled: their outcomes decide
        // what must be deleted.
        // A delete carries `send_by` (its job's pending sighting goes stale then): a slot later
        // than that is not waited for, and the core looks at the job first (helper-55: held by
        // the key's other calls, a delete went out on a stale sighting).
        if (!c.takeSlot() && !(await this.#slot(out))) {
          g(() => m.handleNotSent(out.id, now()), gen, true);
          continue;
        }
        const r = await c.exec(out);
        if ("status" in r) {
          c.refresh();
          c.limiter.observe(r.status, r.headers, r.body, now());
          g(() => m.handleResponse(out.id, r.status, r.headers, r.body, now()), gen, true);
        } else {
          g(() => m.handleTransportError(out.id, r.kind, r.message, now()), gen, true);
        }
      } else if (out.t === "event") {
        const e = out.event;
        if (e.type === "item_done") {
          const it = item(e, this.#aborted);
          this.#seen.set(e.index, it);
          this.#items.push(it);
        }
        else {
          if (e.type === "batch_progress" && o.onProgress) {
            const { type: _, ...p } = e;
            this.#callbacks.call(o.onProgress, p);
          }
          this.#callbacks.call(o.onEvent, e);
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
          this.#summary = { results: s.results.map((r: ItemRecord) => this.#seen.get(r.index) ?? item(r)), progress: s.progress, spent_cents: s.spent_cents };
        } catch (e) {
          this.#failure = e as USVideoError;
        }
        this.#end = end; // the callbacks' promises are awaited by `next()`, outside the lock
        this.#unlisten();
        if (gen === batchGeneration) m.free();
      }
    }
  }
}
