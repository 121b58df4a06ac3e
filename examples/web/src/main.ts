import { USVideo, estimateCost, USVideoError, type Resolution, type CompletedJob } from "usvideo";

// Where the API is: this page's own origin, `/v1`, where a server-side proxy adds the key
// (vite.config.ts plays it in development: `USVIDEO_API_KEY=sd_… npm run dev`). The client holds
// no key and its requests carry no `Authorization`. For a look at the emulator without the proxy,
// `?baseURL=…&apiKey=…` calls it directly with a throwaway key, which a browser needs
// `dangerouslyAllowBrowser` for (`?strict` shows what a page gets without it: a refusal).
const params = new URLSearchParams(location.search);
function makeClient(): USVideo | undefined {
  const apiKey = params.get("apiKey") ?? undefined;
  try {
    return new USVideo({
      baseURL: params.get("baseURL") ?? "/v1",
      apiKey,
      dangerouslyAllowBrowser: apiKey !== undefined && !params.has("strict"),
    });
  } catch (e) {
    document.getElementById("error")!.textContent = e instanceof USVideoError ? `${e.name}: ${e.message}` : String(e);
    return undefined;
  }
}
const client = makeClient();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const prompt = $<HTMLTextAreaElement>("prompt");
const resolution = $<HTMLSelectElement>("resolution");
const duration = $<HTMLInputElement>("duration");
const estimate = $<HTMLSpanElement>("estimate");
const error = $<HTMLDivElement>("error");
const button = $<HTMLButtonElement>("generate");
const progress = $<HTMLProgressElement>("progress");
const status = $<HTMLDivElement>("status");
const video = $<HTMLVideoElement>("video");

/** The request as the form says; `duration` as typed (the core checks it). */
function request() {
  return { prompt: prompt.value, mode: "text_to_video" as const, resolution: resolution.value as Resolution, duration: Number(duration.value) };
}

/** Re-estimates on every keystroke: offline, in the WebAssembly core. */
function update(): void {
  try {
    const cents = estimateCost(request());
    estimate.textContent = `$${(cents / 100).toFixed(2)} (${cents} cents)`;
    if (client) error.textContent = "";
    button.disabled = !client;
  } catch (e) {
    estimate.textContent = "—";
    error.textContent = e instanceof USVideoError ? e.message : String(e);
    button.disabled = true;
  }
}
for (const el of [prompt, resolution, duration]) el.addEventListener("input", update);
update();

let running: AbortController | undefined;
$<HTMLFormElement>("form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!client) return;
  running?.abort();
  const ac = (running = new AbortController());
  button.disabled = true;
  video.hidden = true;
  progress.value = 0;
  status.textContent = "Submitting…";
  try {
    const job: CompletedJob = await client.videos.createAndWait(request(), {
      signal: ac.signal,
      // The emulator runs at 50x: scale the poll schedule's model of generation time to match.
      poll: params.has("fast") ? { expected_scale: 0.02, first_poll_ms: 200, min_interval_ms: 100 } : undefined,
      onEvent: (e) => {
        if (e.type === "created") status.textContent = `Job ${e.job.id} submitted`;
      },
      onProgress: (p) => {
        progress.value = p.percent;
        status.textContent = `${p.job_id}: ${p.status} ${p.percent}%`;
      },
    });
    progress.value = 100;
    status.textContent = `Completed ${job.id}: ${job.cost_cents} cents`;
    video.src = job.video_url;
    video.hidden = false;
  } catch (e) {
    status.textContent = "Failed";
    error.textContent = e instanceof USVideoError ? `${e.name}: ${e.message}` : String(e);
  } finally {
    button.disabled = false;
  }
});
