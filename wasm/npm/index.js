// Browsers, workers, Deno and bundlers: fetch and instantiate the module once, at import. The batch
// scheduler's module is fetched only when a batch is first made (a separate chunk for bundlers).
import init from "./gen/usvideo_wasm.js";
import { _setBatchLoader } from "./driver.js";
const wasm = new URL("./gen/usvideo_wasm_bg.wasm", import.meta.url);
try {
  await init({ module_or_path: wasm });
} catch (e) {
  // The usual cause is a server or bundler that does not serve the file beside this one (a 404,
  // a 403 outside a dev server's allowed folders, an HTML page in its place): say which file, and
  // where the README tells how. The import fails either way: nothing here works without it.
  throw new Error(`usvideo: its WebAssembly module did not load from ${wasm.href}: ${e instanceof Error ? e.message : String(e)}. Serve gen/usvideo_wasm_bg.wasm beside the package's JavaScript (the package README, "Vite and other bundlers").`, { cause: e });
}
_setBatchLoader(async () => {
  const m = await import("./gen/usvideo_batch.js");
  await m.default({ module_or_path: new URL("./gen/usvideo_batch_bg.wasm", import.meta.url) });
  return m;
});
export * from "./sdk.js";
