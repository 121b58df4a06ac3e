// @ts-check
// The quickstart in JavaScript (Node 18+): the reference's own example, end to end.
//
// With no USVIDEO_API_KEY it starts the local emulator (`usvideo-emulator`, time sped up so the job
// takes a few seconds) and opens an account with $50; with a key it talks to USVIDEO_BASE_URL or
// the real service. Then: the offline estimate, a 1080p 5 s text-to-video job with a progress bar,
// the download, and the balance before and after.
//
//   npm install usvideo && node quickstart.mjs   (local_emulator.mjs beside it when no key is set)
import { writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { USVideo, estimateCost, USVideoError } from "usvideo";

const started = performance.now();

/** The local emulator (time × 15) with an account of $50. */
async function localEmulator() {
  // Loaded only without a key: with one, this file runs on its own.
  const { startEmulator } = await import("./local_emulator.mjs");
  const emulator = await startEmulator(15);
  console.log(`No USVIDEO_API_KEY set: using the local emulator at ${emulator.baseURL} (account with $50.00)`);
  return { client: new USVideo({ apiKey: emulator.apiKey, baseURL: emulator.baseURL }), stop: emulator.stop };
}

const { client, stop } = process.env.USVIDEO_API_KEY
  ? { client: new USVideo(), stop: () => {} }
  : await localEmulator();

try {
  const estimate = estimateCost({ resolution: "1080p", duration: 5 });
  console.log(`Offline estimate for 1080p × 5 s: ${estimate} cents ($${(estimate / 100).toFixed(2)})`);

  const before = await client.account.retrieve();
  console.log(`Balance before: ${before.balance_cents} cents`);

  const job = await client.videos.createAndWait(
    { prompt: "A drone shot over a misty mountain lake at sunrise", mode: "text_to_video", resolution: "1080p", duration: 5 },
    {
      // 15x virtual time on the emulator: scale the poll schedule's model to match.
      poll: process.env.USVIDEO_API_KEY ? undefined : { expected_scale: 1 / 15, first_poll_ms: 500, min_interval_ms: 250 },
      onEvent: (/** @type {import("usvideo").JobEvent} */ e) => {
        if (e.type === "created") console.log(`Submitted job ${e.job.id} (held ${e.job.estimated_cost_cents ?? 0} cents)`);
        if (e.type === "retrying") console.log(`retry ${e.attempt} in ${e.after_ms} ms: ${e.error.message}`);
      },
      onProgress: (/** @type {import("usvideo").Progress} */ p) => {
        const bar = "=".repeat(Math.round(p.percent / 2.5)).padEnd(40);
        process.stdout.write(`\r[${bar}] ${String(p.percent).padStart(3)}% ${p.status}   `);
      },
    },
  );
  process.stdout.write("\n");

  // `video_url` exists because `createAndWait` returns a completed job.
  const video = await fetch(job.video_url);
  if (!video.ok) throw new Error(`downloading the video failed with HTTP ${video.status}`);
  const bytes = new Uint8Array(await video.arrayBuffer());
  const dir = join(tmpdir(), "usvideo-quickstart");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${job.id}.mp4`);
  await writeFile(path, bytes);

  const after = await client.account.retrieve();
  console.log(`Job:          ${job.id}`);
  console.log(`Video:        ${path} (${bytes.length} bytes)`);
  console.log(`Cost:         ${job.cost_cents} cents`);
  console.log(`Balance:      ${before.balance_cents} → ${after.balance_cents} cents`);
  console.log(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (e) {
  if (e instanceof USVideoError) console.error(`${e.name} (${e.code}): ${e.message}`);
  process.exitCode = 1;
  throw e;
} finally {
  stop();
}
