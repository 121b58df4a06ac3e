// Node (and Bun): read the module from disk and instantiate it synchronously at import.
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import { initSync } from "./gen/usvideo_wasm.js";
import { _setRandom } from "./sdk.js";
initSync({ module: readFileSync(new URL("./gen/usvideo_wasm_bg.wasm", import.meta.url)) });
_setRandom((b) => webcrypto.getRandomValues(b));
export * from "./sdk.js";
