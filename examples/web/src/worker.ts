// The package inside a module Web Worker: the same calls as the page, off the main thread. The
// worker gets its base URL from the page (worker.html): the page's own `/v1`, where a server-side
// proxy adds the key (vite.config.ts), so the worker holds no key. It creates a job, waits for it
// and reports progress back. Given a throwaway key instead (`?baseURL=…&apiKey=…`, the emulator
// directly), it needs `dangerouslyAllowBrowser`: in a browser's worker, too, an `sd_` key is
// refused without it (`?strict` shows the refusal).
import { USVideo, estimateCost, USVideoError } from "usvideo";

type Start = { baseURL: string; apiKey?: string; strict: boolean };
const scope = self as unknown as { onmessage: ((e: MessageEvent<Start>) => void) | null; postMessage(m: unknown): void };

scope.onmessage = async ({ data }) => {
  try {
    scope.postMessage({ type: "estimate", cents: estimateCost({ resolution: "720p", duration: 2 }) });
    const client = new USVideo({ baseURL: data.baseURL, apiKey: data.apiKey, dangerouslyAllowBrowser: data.apiKey !== undefined && !data.strict });
    const job = await client.videos.createAndWait(
      { prompt: "a lake at dawn, from a worker", mode: "text_to_video", resolution: "720p", duration: 2 },
      { poll: { expected_scale: 1 / 50, first_poll_ms: 100, min_interval_ms: 100 }, onProgress: (p) => scope.postMessage({ type: "progress", percent: p.percent }) },
    );
    scope.postMessage({ type: "done", id: job.id, status: job.status, video_url: job.video_url });
  } catch (e) {
    scope.postMessage({ type: "error", text: e instanceof USVideoError ? `${e.name} (${e.code}): ${e.message}` : String(e) });
  }
};
// The package's import awaited its module (top-level await), so a message posted to this worker
// before now may have been lost: the page sends its request only when it hears this.
scope.postMessage({ type: "ready" });
