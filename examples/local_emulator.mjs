// @ts-check
// The local emulator for the JavaScript examples when no USVIDEO_API_KEY is set: starts the
// emulator binary as a child process and opens an account with $50.
//
// The binary: $USVIDEO_EMULATOR; else, in a clone of the repository, the one `cargo build -p
// usvideo-emulator` makes; else `usvideo-emulator` on the PATH.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * Starts the emulator with its clock `timeScale` times faster; returns its API base URL, the
 * account's key and how to stop it. Exits with a message saying what to do when there is no binary.
 * @param {number} timeScale
 * @returns {Promise<{ baseURL: string; apiKey: string; stop: () => void }>}
 */
export async function startEmulator(timeScale) {
  const built = fileURLToPath(new URL("../target/debug/usvideo-emulator", import.meta.url));
  const bin = process.env.USVIDEO_EMULATOR || (existsSync(built) ? built : "usvideo-emulator");
  const child = spawn(bin, ["--port", "0", "--time-scale", String(timeScale), "--exit-on-stdin-close"], { stdio: ["pipe", "pipe", "ignore"] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: /** @type {import("node:stream").Readable} */ (child.stdout) }).once("line", resolve);
    child.once("error", reject);
    // An emulator that ends before it says where it listens (a bad flag, a port in use) would
    // otherwise leave this waiting for ever.
    child.once("exit", (code, signal) => reject(new Error(`the emulator (\`${bin}\`) exited (${signal ?? `code ${code}`}) before it started listening`)));
  }).catch((e) => {
    if (e?.code !== "ENOENT") throw e;
    console.error(`No USVIDEO_API_KEY is set and there is no local emulator (\`${bin}\`). Set USVIDEO_API_KEY (and USVIDEO_BASE_URL), or build the emulator in a clone of the repository (cargo build -p usvideo-emulator) and name it in USVIDEO_EMULATOR or put it on the PATH.`);
    process.exit(1);
  });
  const url = String(line).replace(/^.*listening on /, "");
  const res = await fetch(`${url}/_emulator/accounts`, { method: "POST", body: JSON.stringify({ email: "me@example.com", balance_cents: 5_000 }) });
  if (!res.ok) {
    child.kill();
    throw new Error(`the emulator refused to open an account: HTTP ${res.status} ${await res.text()}`);
  }
  const account = await res.json();
  return { baseURL: `${url}/v1`, apiKey: account.api_key, stop: () => child.kill() };
}
