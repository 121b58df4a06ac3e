#!/usr/bin/env bash
# Prints the size of the stripped release library for x86_64 Linux (goal: ≤ 1 MB = 1048576 bytes).
#
# Three builds of the library alone (`--no-default-features`: no bindgen):
#   release  the workspace's release profile (opt-level 3, no LTO, unwinding);
#   mobile   release + LTO, one codegen unit, opt-level "s", still `panic = "unwind"` (uniffi
#            must catch panics; see DESIGN.md), on stable. The profile is given on the command
#            line (`--config`) so the workspace's Cargo.toml stays as it is;
#   shipped  what the mobile packages ship: `mobile` with std rebuilt without its backtrace
#            symbolisation (bindings/build-release.sh, nightly -Z build-std).
# The last line is the shipped size.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/size
report() {
  cp "$1" "target/size/$2.so"
  strip --strip-all "target/size/$2.so"
  BYTES=$(stat -c %s "target/size/$2.so")
  if [ "$BYTES" -le 1048576 ]; then VERDICT="within the 1 MB goal"; else VERDICT="OVER the 1 MB goal"; fi
  echo "libusvideo_uniffi.so x86_64-unknown-linux-gnu $2 stripped: $BYTES bytes ($(( (BYTES + 1023) / 1024 )) KiB), $VERDICT"
}
if [ "${1:-}" != "--mobile-only" ]; then
  cargo build -q -p usvideo-uniffi --lib --release --no-default-features >&2
  report target/release/libusvideo_uniffi.so release
fi
cargo build -q -p usvideo-uniffi --lib --no-default-features --profile mobile \
  --config 'profile.mobile.inherits="release"' --config 'profile.mobile.lto=true' \
  --config 'profile.mobile.codegen-units=1' --config 'profile.mobile.opt-level="s"' \
  --config 'profile.mobile.panic="unwind"' >&2
report target/mobile/libusvideo_uniffi.so mobile
report "$(bash bindings/build-release.sh)/libusvideo_uniffi.so" shipped
