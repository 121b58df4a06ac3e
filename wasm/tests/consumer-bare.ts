// A user's file in a project with neither DOM nor Node types (`--lib es2018 --types ""`: a
// library, an edge function typed by hand): the package's declarations must compile without
// them, and its literal types must catch a misspelt error name, kind or status.
import { USVideo, isUSVideoError, type ErrorName, type FetchResponse, type Signal } from "usvideo";

// A fetch of one's own, as a runtime without DOM types would have it.
declare const transport: (url: string, init: { method: string; body?: string | undefined }) => Promise<FetchResponse>;
const client = new USVideo({ apiKey: "sd_example", baseURL: "http://127.0.0.1:8080/v1", fetch: (url, init) => transport(url, init) });

export async function run(signal?: Signal): Promise<string> {
  try {
    const job = await client.videos.createAndWait(
      { prompt: "a lake", mode: "text_to_video" },
      {
        signal,
        onProgress: (p) => {
          if (p.status === "processing") return;
          // @ts-expect-error: a status is text
          if (p.status === 3) return;
        },
      },
    );
    return job.video_url;
  } catch (e) {
    if (!isUSVideoError(e)) throw e;
    const name: ErrorName = e.name;
    // @ts-expect-error: no error class has this name
    if (e.name === "RateLimitErorr") return "";
    // @ts-expect-error: no such kind (it is `rate_limit`)
    if (e.kind === "ratelimit") return "";
    // @ts-expect-error: no such transport failure (it is `connect`)
    if (e.transport === "connection") return "";
    if (e.jobStatus === "failed") return e.jobId ?? "";
    return `${name} ${e.kind}`;
  }
}
