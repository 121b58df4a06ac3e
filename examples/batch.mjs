// @ts-check
// A batch in JavaScript (Node 18+): twelve videos of mixed resolution and duration, run within the
// account's limits (10 jobs at once, 60 requests a minute, never a 429), with a one-line text
// progress display and each result as it finishes.
//
// With no USVIDEO_API_KEY it starts the local emulator (`usvideo-emulator`, time × 15) and opens an
// account with $50; with a key it talks to USVIDEO_BASE_URL or the real service. Ctrl-C cancels
// the batch (pending jobs are deleted and refunded; processing ones go on).
//
//   npm install usvideo && node batch.mjs   (local_emulator.mjs beside it when no key is set)
import { USVideo, USVideoError } from "usvideo";

const SCALE = 15;

/** The local emulator (time × SCALE) with an account of $50. */
async function localEmulator() {
  // Loaded only without a key: with one, this file runs on its own.
  const { startEmulator } = await import("./local_emulator.mjs");
  const emulator = await startEmulator(SCALE);
  console.log(`No USVIDEO_API_KEY set: using the local emulator at ${emulator.baseURL} (virtual time × ${SCALE}, $50.00)`);
  return { client: new USVideo({ apiKey: emulator.apiKey, baseURL: emulator.baseURL }), scale: 1 / SCALE, stop: emulator.stop };
}

const { client, scale, stop } = process.env.USVIDEO_API_KEY ? { client: new USVideo(), scale: 1, stop: () => {} } : await localEmulator();

/** @type {import("usvideo").CreateVideoParams[]} */
const requests = Array.from({ length: 12 }, (_, i) => ({
  prompt: `Scene ${i}: waves on a rocky shore, golden hour`,
  mode: "text_to_video",
  resolution: /** @type {const} */ (["720p", "1080p", "2k"])[i % 3],
  duration: 1 + ((i * 3) % 10),
}));

const started = performance.now();
const ac = new AbortController();
process.once("SIGINT", () => ac.abort());
/** @param {import("usvideo").BatchProgress} p */
const line = (p) => {
  const done = p.completed + p.failed + p.cancelled;
  const bar = "=".repeat(Math.round((done / p.total) * 30)).padEnd(30);
  return `[${bar}] ${done}/${p.total} done, ${p.in_flight} in flight, ${p.queued} queued, ${p.requests} requests`;
};
const tty = process.stdout.isTTY;
try {
  const batch = await client.videos.batch(requests, {
    maxSpendCents: 2_000,
    longestFirst: true,
    expectedScale: scale,
    signal: ac.signal,
    // One text line, rewritten in place on a terminal (a line per change otherwise).
    onProgress: (p) => (tty ? process.stdout.write(`\r${line(p)}   `) : console.log(line(p))),
  });
  console.log(`Estimated total: ${batch.estimatedCents} cents (budget 2000)`);
  for await (const { index, job, error } of batch) {
    if (tty) process.stdout.write("\r\x1b[K");
    if (error) console.log(`#${String(index).padEnd(2)} ${error.name}: ${error.message}`);
    else console.log(`#${String(index).padEnd(2)} ${job.id} completed: ${job.cost_cents} cents, ${job.video_url}`);
  }
  if (tty) process.stdout.write("\n");
  const s = batch.summary;
  if (s) {
    console.log(`Completed ${s.progress.completed}/${s.progress.total}, spent ${s.spent_cents} cents, ${s.progress.requests} requests (${(s.progress.requests / s.progress.total).toFixed(1)} per job), ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (s.progress.completed !== s.progress.total) process.exitCode = 1;
  }
} catch (e) {
  if (e instanceof USVideoError) console.error(`${e.name} (${e.code}): ${e.message}`);
  process.exitCode = 1;
} finally {
  stop();
}
