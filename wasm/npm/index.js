// Browsers, workers, Deno and bundlers: fetch and instantiate the module once, at import. The batch
// scheduler's module is fetched only when a batch is first made (a separate chunk for bundlers).
import init from "./gen/usvideo_wasm.js";
import { _setBatchLoader } from "./driver.js";
await init({ module_or_path: new URL("./gen/usvideo_wasm_bg.wasm", import.meta.url) });
_setBatchLoader(async () => {
  const m = await import("./gen/usvideo_batch.js");
  await m.default({ module_or_path: new URL("./gen/usvideo_batch_bg.wasm", import.meta.url) });
  return m;
});
export * from "./sdk.js";
