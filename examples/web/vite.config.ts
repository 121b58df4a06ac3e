import { fileURLToPath } from "node:url";
import { defineConfig, searchForWorkspaceRoot } from "vite";

// The server-side proxy a real page needs, played here by Vite's dev and preview servers: the page
// calls its own origin's `/v1` with a keyless client, and the proxy forwards to USVIDEO_BASE_URL
// with USVIDEO_API_KEY added, so the key never reaches the browser. In production this is a route
// of your own server (check who is calling before you spend your key for them).
const target = process.env.USVIDEO_BASE_URL ?? "https://usvideoapi.com/v1";
const key = process.env.USVIDEO_API_KEY;
if (!key) console.warn("USVIDEO_API_KEY is not set: the /v1 proxy forwards without a key, so the API answers 401");
const proxy = {
  "/v1": {
    target,
    changeOrigin: true,
    // `/v1/videos` → `<USVIDEO_BASE_URL>/videos`; the key replaces whatever the browser sent.
    rewrite: (path: string) => path.replace(/^\/v1/, ""),
    headers: key ? { Authorization: `Bearer ${key}` } : undefined,
  },
};

export default defineConfig({
  server: {
    proxy,
    // In this repository `usvideo` is `file:../../wasm/pkg`, which npm links: its .wasm lies
    // outside this folder, where the dev server serves nothing unless told. An app that installs
    // the package from the registry needs none of this.
    fs: { allow: [searchForWorkspaceRoot(process.cwd()), fileURLToPath(new URL("../../wasm/pkg", import.meta.url))] },
  },
  preview: { proxy },
  // The package instantiates its .wasm with `new URL(..., import.meta.url)`: keep it out of the
  // dev-server pre-bundling so that URL still points next to the package's files.
  optimizeDeps: { exclude: ["usvideo"] },
  // The package uses top-level await to instantiate the module at import.
  build: {
    target: "es2022",
    // Two pages: the form (index.html) and the package in a Web Worker (worker.html).
    rollupOptions: { input: { main: "index.html", worker: "worker.html" } },
  },
  // The worker imports the package, which awaits its module at the top level: an ES module worker.
  worker: { format: "es" },
});
