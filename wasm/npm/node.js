// Node (and Bun): read the module from disk and instantiate it synchronously at import; the batch
// scheduler's module is read and instantiated (synchronously) the first time a batch runs.
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import { initSync } from "./gen/usvideo_wasm.js";
import * as batch from "./gen/usvideo_batch.js";
import { _setRandom, _setBatchLoader, _setLeanReads } from "./driver.js";
const wasm = new URL("./gen/usvideo_wasm_bg.wasm", import.meta.url);
try {
  initSync({ module: readFileSync(wasm) });
} catch (e) {
  // The usual cause is a bundled server (esbuild or webpack with a Node target) whose output has
  // no gen/ folder beside it (helper-37): say which file, and how.
  throw new Error(`usvideo: its WebAssembly module did not load from ${wasm.pathname}: ${e instanceof Error ? e.message : String(e)}. Bundling a Node app, mark "usvideo" external (esbuild --external:usvideo) or copy the package's gen/*.wasm beside the bundle (the package README, "Vite and other bundlers").`, { cause: e });
}
_setRandom((b) => webcrypto.getRandomValues(b));
// Reads go out without a signal of the driver's own (driver.ts, `Ctx.exec`): Node's
// `AbortController` and undici's watch of a request's signal cost as much as the rest of a call.
// Node only (undici closes a request left unanswered after 300 s): not Bun or Deno, which load
// this entry too.
_setLeanReads(typeof globalThis.Deno === "undefined" && !process.versions.bun);
let ready = false;
_setBatchLoader(() => {
  if (!ready) batch.initSync({ module: readFileSync(new URL("./gen/usvideo_batch_bg.wasm", import.meta.url)) });
  ready = true;
  return batch;
});
export * from "./sdk.js";
