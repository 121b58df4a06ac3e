// Starts src/worker.ts and shows what it reports (worker.html).
const params = new URLSearchParams(location.search);
const log = document.getElementById("log")!;
const result = document.getElementById("result")!;
const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const start = { baseURL: params.get("baseURL") ?? "/v1", apiKey: params.get("apiKey") ?? undefined, strict: params.has("strict") };
worker.onmessage = ({ data }: MessageEvent<{ type: string; [k: string]: unknown }>) => {
  if (data.type === "ready") return worker.postMessage(start);
  log.textContent += `${JSON.stringify(data)}\n`;
  if (data.type === "done" || data.type === "error") result.textContent = data.type === "done" ? `Completed ${String(data.id)}` : String(data.text);
};
worker.onerror = (e) => {
  result.textContent = `worker error: ${e.message}`;
};
