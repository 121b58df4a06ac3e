// @ts-check
// A batch aborted while its module loads (a file of its own: the batch module must not be loaded
// yet in this process, and its loader is slowed down here to leave time for the abort).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { USVideo, AbortError } from "usvideo";
// Not in the package's entry: the entries' hook is taken from its module by file (`@internal`).
import * as driver from "../pkg/driver.js";
import * as batch from "../pkg/gen/usvideo_batch.js";
/** @type {(f: () => Promise<unknown>) => void} */
const _setBatchLoader = /** @type {any} */ (driver)._setBatchLoader;

let loaded = false;
/** @type {() => void} */
let release = () => {};
const gate = new Promise((r) => (release = () => r(undefined)));
_setBatchLoader(async () => {
  await gate;
  batch.initSync({ module: readFileSync(new URL("../pkg/gen/usvideo_batch_bg.wasm", import.meta.url)) });
  loaded = true;
  return batch;
});

test("an abort while the batch module loads rejects batch() at once, and nothing is sent", async () => {
  let sent = 0;
  const client = new USVideo({ apiKey: "sd_test_batchload", baseURL: "http://127.0.0.1:9/v1", maxRetries: 0, fetch: () => (sent++, Promise.reject(new TypeError("no server"))) });
  const ac = new AbortController();
  const p = client.videos.batch([{ prompt: "a lake", mode: "text_to_video" }], { signal: ac.signal });
  setTimeout(() => ac.abort(new Error("user left")), 20);
  await assert.rejects(p, (e) => e instanceof AbortError && /the call was aborted \(Error: user left\)/.test(e.message));
  assert.equal(loaded, false, "rejected before the module had loaded");
  release();
  // Let the module load and the late batch be made: it is freed, never run.
  for (let i = 0; i < 20 && !loaded; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(loaded, true);
  assert.equal(sent, 0, "no request went out");
  // A later batch on the same client loads and runs as usual (its account check is what goes out).
  const b = await client.videos.batch([{ prompt: "a lake", mode: "text_to_video" }]);
  await assert.rejects(b.next());
  assert.ok(sent > 0);
});
