// A user's file checked with no tsconfig, at the oldest target the package's declarations need
// (ES2018: async iterators): `tsc --strict --target es2018 --module esnext --moduleResolution bundler`,
// and again with `--exactOptionalPropertyTypes` (an option given as `undefined` is "not given").
import { AbortError, USVideo, estimateCost, isUSVideoError, type CompletedJob } from "usvideo";

const cents: number = estimateCost({ resolution: "1080p", duration: 5 });
const client = new USVideo({ apiKey: "sd_example", baseURL: "http://127.0.0.1:8080/v1" });
// The global `fetch` and a wrapper of it fit the `fetch` option, under exactOptionalPropertyTypes
// too (helper-27: `body?: string | undefined` did not fit the global's `RequestInit`).
export const withFetch = [new USVideo({ apiKey: "sd_example", fetch: globalThis.fetch }), new USVideo({ apiKey: "sd_example", fetch: (url, init) => fetch(url, init) })];

export async function run(show?: (p: { percent: number }) => void, signal?: AbortSignal): Promise<string | undefined> {
  try {
    await client.videos.wait("job_1", { onProgress: show ? show : undefined, signal, poll: { expected_scale: undefined } });
    await client.videos.list({ limit: signal ? 10 : undefined });
    const job: CompletedJob = await client.videos.createAndWait({ prompt: "a lake", mode: "text_to_video" }, { timeoutMs: 60_000 });
    for await (const j of client.videos.listAll()) if (j.id === job.id) break;
    const batch = await client.videos.batch([{ prompt: "a lake", mode: "text_to_video" }], { concurrentJobs: null, signal: AbortSignal.timeout(60_000) });
    for await (const item of batch) if (item.error) return item.error.message;
    return `${cents} ${job.video_url}`;
  } catch (e) {
    // `cause` reads below ES2022's lib too.
    if (e instanceof AbortError) return String(e.cause);
    if (isUSVideoError(e)) return e.code;
    throw e;
  }
}
