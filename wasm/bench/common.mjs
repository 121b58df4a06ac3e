// What the npm benchmarks share: the median, and the stand-in server as a child process.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The median of `a` (the upper one for an even length). */
export const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/**
 * Starts bench/canned-server.mjs (the same small JSON job for every request) in a child process;
 * resolves to its base URL and a `stop()`.
 */
export async function startCannedServer() {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./canned-server.mjs", import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise((resolve, reject) => {
      child.once("error", reject);
      child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
    });
    return { base: `http://127.0.0.1:${port}`, stop: () => child.kill() };
  } catch (e) {
    child.kill();
    throw e;
  }
}
