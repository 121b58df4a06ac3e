// Browsers, workers, Deno and bundlers: fetch and instantiate the module once, at import.
import init from "./gen/usvideo_wasm.js";
await init({ module_or_path: new URL("./gen/usvideo_wasm_bg.wasm", import.meta.url) });
export * from "./sdk.js";
