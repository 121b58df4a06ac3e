#!/usr/bin/env bash
# Builds the npm package `usvideo` into wasm/pkg/: two wasm modules (size profile, nightly
# build-std (below), wasm-bindgen --target web, wasm-opt -Oz --converge from npm binaryen): `usvideo_wasm` (everything but the batch
# scheduler, loaded at import) and `usvideo_batch` (the crate's `batch` feature: the scheduler,
# loaded the first time a batch runs); the TypeScript wrapper and its .d.ts.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"
[ -d node_modules/binaryen ] || npm ci --no-audit --no-fund
target_dir="$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
rm -rf ts/gen pkg
# The shipped modules are built with the standard library rebuilt for size (nightly `-Z build-std`):
# panics abort at once (`-C panic=immediate-abort`: no panic messages, locations or formatting;
# a panic was already a trap that the package turns into an InternalError) and `Debug` formatting
# compiled out (`-Z fmt-debug=none`: nothing of ours prints `{:?}`; core/src/json.rs quotes
# without it); no caller locations kept (`-Z location-detail=none`: nothing prints them) and std's
# `optimize_for_size` (its smaller sorts, integer printing and char counting: nothing of ours is
# hot in them). ~6.5 KB gzipped less than stable (60,235 against 53,705 bytes, 2026-12-04). Without a nightly toolchain
# (USVIDEO_WASM_STABLE=1, or none installed) the same code is built on stable, only larger.
cargo_wasm() {
  if [ -z "${USVIDEO_WASM_STABLE:-}" ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src' \
      || rustup component add rust-src --toolchain nightly >&2
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none" \
      cargo +nightly build --manifest-path "$root/Cargo.toml" -p usvideo-wasm --target wasm32-unknown-unknown --profile wasm-release \
      -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size --target-dir "$target_dir/wasm-shipped" "$@"
    wasm_out="$target_dir/wasm-shipped/wasm32-unknown-unknown/wasm-release/usvideo_wasm.wasm"
  else
    echo "build.sh: no nightly toolchain (or USVIDEO_WASM_STABLE set): building on stable, ~6.5 KB gzipped larger" >&2
    cargo build --manifest-path "$root/Cargo.toml" -p usvideo-wasm --target wasm32-unknown-unknown --profile wasm-release "$@"
    wasm_out="$target_dir/wasm32-unknown-unknown/wasm-release/usvideo_wasm.wasm"
  fi
}
# One cargo invocation per module (the same output path, so each is bound before the next build).
module() { # <out-name> [cargo args…]
  local name="$1"; shift
  cargo_wasm "$@"
  wasm-bindgen --target web --experimental-reset-state-function --out-dir ts/gen --out-name "$name" "$wasm_out"
  node_modules/.bin/wasm-opt -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-debug --strip-producers -o "ts/gen/${name}_bg.wasm" "ts/gen/${name}_bg.wasm"
}
module usvideo_wasm
module usvideo_batch --features batch
node_modules/.bin/tsc -p tsconfig.json
mkdir -p pkg/gen
cp ts/gen/usvideo_wasm.js ts/gen/usvideo_wasm.d.ts ts/gen/usvideo_wasm_bg.wasm ts/gen/usvideo_batch.js ts/gen/usvideo_batch.d.ts ts/gen/usvideo_batch_bg.wasm pkg/gen/
cp npm/package.json npm/index.js npm/node.js npm/index.d.ts pkg/
[ -f README.md ] && cp README.md pkg/
cp "$root/LICENSE-MIT" "$root/LICENSE-APACHE" pkg/
# The repository's own examples (`node examples/quickstart.mjs`) import the package by name.
mkdir -p "$root/examples/node_modules" && ln -sfn ../../wasm/pkg "$root/examples/node_modules/usvideo"
for f in usvideo_wasm_bg.wasm usvideo_batch_bg.wasm; do
  echo "built wasm/pkg: $f $(wc -c < "pkg/gen/$f") bytes, $(gzip -9c "pkg/gen/$f" | wc -c) gzipped"
done
