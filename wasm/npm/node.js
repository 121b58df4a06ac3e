// Node (and Bun): read the module from disk and instantiate it synchronously at import; the batch
// scheduler's module is read and instantiated (synchronously) the first time a batch runs.
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import { initSync } from "./gen/usvideo_wasm.js";
import * as batch from "./gen/usvideo_batch.js";
import { _setRandom, _setBatchLoader } from "./driver.js";
initSync({ module: readFileSync(new URL("./gen/usvideo_wasm_bg.wasm", import.meta.url)) });
_setRandom((b) => webcrypto.getRandomValues(b));
let ready = false;
_setBatchLoader(() => {
  if (!ready) batch.initSync({ module: readFileSync(new URL("./gen/usvideo_batch_bg.wasm", import.meta.url)) });
  ready = true;
  return batch;
});
export * from "./sdk.js";
