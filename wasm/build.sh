#!/usr/bin/env bash
# Builds the npm package `usvideo` into wasm/pkg/: the wasm module (size profile, wasm-bindgen
# --target web, wasm-opt -Oz from npm binaryen), the TypeScript wrapper and its .d.ts.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"
[ -d node_modules/binaryen ] || npm ci --no-audit --no-fund
cargo build --manifest-path "$root/Cargo.toml" -p usvideo-wasm --target wasm32-unknown-unknown --profile wasm-release
target_dir="$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
rm -rf ts/gen pkg
wasm-bindgen --target web --experimental-reset-state-function --out-dir ts/gen "$target_dir/wasm32-unknown-unknown/wasm-release/usvideo_wasm.wasm"
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  --strip-debug --strip-producers -o ts/gen/usvideo_wasm_bg.wasm ts/gen/usvideo_wasm_bg.wasm
node_modules/.bin/tsc -p tsconfig.json
mkdir -p pkg/gen
cp ts/gen/usvideo_wasm.js ts/gen/usvideo_wasm.d.ts ts/gen/usvideo_wasm_bg.wasm pkg/gen/
cp npm/package.json npm/index.js npm/node.js npm/index.d.ts pkg/
[ -f README.md ] && cp README.md pkg/
raw=$(wc -c < pkg/gen/usvideo_wasm_bg.wasm); gz=$(gzip -9c pkg/gen/usvideo_wasm_bg.wasm | wc -c)
echo "built wasm/pkg: usvideo_wasm_bg.wasm $raw bytes, $gz gzipped"
