// @ts-check
// A batch in a process of its own, for the resume test in batch.test.mjs: runs USVIDEO_BATCH_N
// requests, writes batch.snapshot() to USVIDEO_BATCH_SNAPSHOT (atomically: temp file + rename)
// before anything is sent and after every event, and prints `item <index>` per finished item. The
// parent SIGKILLs it mid-way and resumes from the file.
import { writeFileSync, renameSync } from "node:fs";
import { USVideo } from "usvideo";

const env = (/** @type {string} */ k) => process.env[k] ?? "";
const file = env("USVIDEO_BATCH_SNAPSHOT");
const n = Number(env("USVIDEO_BATCH_N"));
const client = new USVideo({ apiKey: env("USVIDEO_API_KEY"), baseURL: env("USVIDEO_BASE_URL") });
/** @type {import("usvideo").CreateVideoParams[]} */
const requests = Array.from({ length: n }, (_, i) => ({ prompt: `resume ${i}`, mode: "text_to_video", resolution: i % 2 ? "1080p" : "720p", duration: 1 + ((i * 3) % 6) }));
/** @type {import("usvideo").Batch | undefined} */
let batch;
const save = () => {
  if (!batch) return;
  writeFileSync(`${file}.tmp`, batch.snapshot());
  renameSync(`${file}.tmp`, file);
};
batch = await client.videos.batch(requests, { expectedScale: 1 / 50, pollIntervalMs: 300, onEvent: save });
save();
for await (const item of batch) {
  save();
  console.log(`item ${item.index}`);
}
console.log("done");
