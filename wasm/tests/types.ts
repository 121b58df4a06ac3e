// Type-level tests of the package's .d.ts (checked by `tsc -p tsconfig.check.json`, never run).
import { USVideo, estimateCost, USVideoError, RateLimitError, APIStatusError, Batch, type Job, type CompletedJob, type CreateVideoParams, type BatchItem, type BatchProgress, type BatchSummary, type JobEvent, type ErrorCode, type IssueCode, type Event as OldEvent } from "usvideo";

declare const client: USVideo;
declare const job: Job;
declare const err: USVideoError;
declare const someText: string;

export async function checks(): Promise<void> {
  // video_url exists only once the status is narrowed to "completed".
  // @ts-expect-error not on every job
  job.video_url;
  if (job.status === "completed") {
    const url: string = job.video_url;
    const cents: number = job.cost_cents;
    void url, cents;
  }
  const done: CompletedJob = await client.videos.createAndWait({ prompt: "x", mode: "text_to_video" });
  void done.video_url;

  // Literal unions for mode and resolution.
  // @ts-expect-error "2K" is not a resolution
  estimateCost({ resolution: "2K", duration: 5 });
  // @ts-expect-error image_url belongs to image_to_video
  const bad: CreateVideoParams = { prompt: "x", mode: "text_to_video", image_url: "https://x/a.png" };
  // @ts-expect-error image_to_video needs image_url
  const missing: CreateVideoParams = { prompt: "x", mode: "image_to_video" };
  const ok: CreateVideoParams = { prompt: "x", mode: "reference", reference_url: "https://x/a.png", resolution: "2k", duration: 10 };
  void bad, missing, ok;

  // A job is no estimate's input (it compiled, then threw for its unknown fields: helper-46).
  // @ts-expect-error a job, not its {resolution, duration}
  estimateCost(done);
  // @ts-expect-error nor a page of jobs
  estimateCost((await client.videos.list()).data);
  estimateCost({ resolution: done.resolution, duration: done.duration });

  // Money and milliseconds are numbers, never bigint.
  const cents: number = estimateCost({ resolution: "1080p", duration: 5 });
  const a = await client.account.retrieve();
  const balance: number = a.balance_cents;
  void cents, balance;

  // Error classes narrow with instanceof.
  try {
    await client.videos.retrieve("job_1", { signal: AbortSignal.timeout(1000) });
  } catch (e) {
    if (e instanceof RateLimitError) {
      const s: number | undefined = e.retryAfter;
      const base: APIStatusError = e;
      const root: USVideoError = base;
      void s, root;
    }
  }
  for await (const j of client.videos.listAll()) void j.id;

  // Error codes: the known ones are offered, and a newer service's own still fits.
  const unknown: ErrorCode = "outcome_unknown";
  const newer: ErrorCode = someText;
  const text: string = err.code;
  if (err.code === "outcome_unknown") void err.idempotencyKey;
  if (err.code === "concurrency_limit" || err.code === "some_code_of_a_newer_service") void err.retryAfterMs;
  // @ts-expect-error a code is text
  const n: number = err.code;
  // Issue codes are a closed union (the core's rules).
  const rule: IssueCode | undefined = err.issues[0]?.code;
  // @ts-expect-error no such rule (it is `out_of_range`)
  if (err.issues[0]?.code === "out_of_rnage") void rule;
  void unknown, newer, text, n;

  // Events: `JobEvent` narrows on `type`; `Event` is its deprecated old name.
  await client.videos.wait("job_1", {
    onEvent: (e: JobEvent) => {
      switch (e.type) {
        case "created": void e.job.id; break;
        case "progress": void e.percent; break;
        case "retrying": if (e.error.code === "rate_limited") void e.after_ms; break;
        case "warning": void e.message; break;
        // @ts-expect-error only a warning has a message
        case "reconciled": void e.message; break;
      }
    },
  });
  const old: OldEvent = { type: "warning", message: "x" };
  const renamed: JobEvent = old;
  // Importing `JobEvent` leaves the global (DOM) `Event` alone.
  const dom: Event = new Event("abort");
  void renamed, dom.bubbles;

  // Batches: an async iterator of items; a completed item's job is a CompletedJob.
  const batch: Batch = await client.videos.batch([{ prompt: "x", mode: "text_to_video" }], { maxSpendCents: 100, concurrentJobs: 4, onProgress: (p: BatchProgress) => void p.in_flight });
  const est: number = batch.estimatedCents;
  for await (const item of batch) {
    const it: BatchItem = item;
    if (it.error) {
      const err: USVideoError = it.error;
      // @ts-expect-error a failed item's job may be absent
      void it.job.id;
      void err;
    } else {
      const url: string = it.job.video_url;
      void url;
    }
  }
  const snap: string = batch.snapshot();
  const resumed = await client.videos.resumeBatch(snap, { signal: AbortSignal.timeout(1000) });
  const summary: BatchSummary | undefined = await resumed.cancel();
  void est, summary?.spent_cents, resumed.summary?.results[0].index;
  // @ts-expect-error options are camelCase
  await client.videos.batch([], { max_spend_cents: 1 });
  // @ts-expect-error batch() is async: a promise is not iterable (await it first)
  for await (const item of client.videos.batch([])) void item;
}
