#!/usr/bin/env bash
# Size of an app that creates and waits for a job (ours and four peers, esbuild + gzip) and the
# per-call overhead of `retrieve` against a raw fetch; writes wasm/BENCHMARKS.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
[ -f pkg/package.json ] || ./build.sh
[ -d node_modules/esbuild ] || npm ci --no-audit --no-fund
ln -sfn ../pkg node_modules/usvideo
cargo build --manifest-path ../Cargo.toml -p usvideo-emulator
node bench/size.mjs
node bench/steps.mjs
