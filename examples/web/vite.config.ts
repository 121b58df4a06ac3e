import { defineConfig } from "vite";

export default defineConfig({
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
