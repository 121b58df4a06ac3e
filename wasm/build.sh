#!/usr/bin/env bash
# Builds the npm package `usvideo` into wasm/pkg/: two wasm modules (size profile, wasm-bindgen
# --target web, wasm-opt -Oz from npm binaryen): `usvideo_wasm` (everything but the batch
# scheduler, loaded at import) and `usvideo_batch` (the crate's `batch` feature: the scheduler,
# loaded the first time a batch runs); the TypeScript wrapper and its .d.ts.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"
[ -d node_modules/binaryen ] || npm ci --no-audit --no-fund
target_dir="$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
rm -rf ts/gen pkg
# One cargo invocation per module (the same output path, so each is bound before the next build).
module() { # <out-name> [cargo args…]
  local name="$1"; shift
  cargo build --manifest-path "$root/Cargo.toml" -p usvideo-wasm --target wasm32-unknown-unknown --profile wasm-release "$@"
  wasm-bindgen --target web --experimental-reset-state-function --out-dir ts/gen --out-name "$name" "$target_dir/wasm32-unknown-unknown/wasm-release/usvideo_wasm.wasm"
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-debug --strip-producers -o "ts/gen/${name}_bg.wasm" "ts/gen/${name}_bg.wasm"
}
module usvideo_wasm
module usvideo_batch --features batch
node_modules/.bin/tsc -p tsconfig.json
mkdir -p pkg/gen
cp ts/gen/usvideo_wasm.js ts/gen/usvideo_wasm.d.ts ts/gen/usvideo_wasm_bg.wasm ts/gen/usvideo_batch.js ts/gen/usvideo_batch.d.ts ts/gen/usvideo_batch_bg.wasm pkg/gen/
cp npm/package.json npm/index.js npm/node.js npm/index.d.ts pkg/
[ -f README.md ] && cp README.md pkg/
for f in usvideo_wasm_bg.wasm usvideo_batch_bg.wasm; do
  echo "built wasm/pkg: $f $(wc -c < "pkg/gen/$f") bytes, $(gzip -9c "pkg/gen/$f" | wc -c) gzipped"
done
