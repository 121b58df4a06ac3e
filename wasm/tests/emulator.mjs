// @ts-check
// Starts the emulator binary as a child process and talks to its control surface.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The emulator binary: $USVIDEO_EMULATOR, else the workspace's debug build. */
export function emulatorBinary() {
  const bin = process.env.USVIDEO_EMULATOR || `${process.env.CARGO_TARGET_DIR || `${root}target`}/debug/usvideo-emulator`;
  if (!existsSync(bin)) throw new Error(`no emulator at ${bin}: run \`cargo build -p usvideo-emulator\``);
  return bin;
}

/**
 * @param {string[]} [args]
 * @returns {Promise<{url: string, api: string, control: (path: string, body?: unknown, method?: string) => Promise<any>, account: (balance?: number, email?: string) => Promise<{email: string, api_key: string, jwt: string}>, ledger: (email: string) => Promise<any>, stop: () => void}>}
 */
export async function startEmulator(args = ["--time-scale", "50"]) {
  const child = spawn(emulatorBinary(), ["--port", "0", "--exit-on-stdin-close", ...args], { stdio: ["pipe", "pipe", "ignore"] });
  const rl = createInterface({ input: /** @type {import("node:stream").Readable} */ (child.stdout) });
  const line = await new Promise((resolve, reject) => {
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  const m = /listening on (http:\/\/\S+)/.exec(String(line));
  if (!m) throw new Error(`unexpected first line: ${line}`);
  const url = m[1];
  let n = 0;
  /** @param {string} path @param {unknown} [body] @param {string} [method] */
  const control = async (path, body, method) => {
    const res = await fetch(`${url}/_emulator/${path}`, {
      method: method ?? (body === undefined ? "GET" : "POST"),
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url,
    api: `${url}/v1`,
    control,
    account: (balance = 5_000, email = `user${++n}-${Date.now()}@example.com`) => control("accounts", { email, balance_cents: balance }),
    ledger: async (email) => (await control("ledger")).accounts.find((/** @type {any} */ a) => a.email === email),
    stop: () => {
      child.stdin?.end();
      child.kill();
    },
  };
}

/** Fast polling for an emulator at 50x virtual time. */
export const FAST_POLL = { first_poll_ms: 100, min_interval_ms: 50, max_interval_ms: 500, expected_scale: 0.02 };
