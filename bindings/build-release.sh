#!/usr/bin/env bash
# Builds the library the mobile packages ship, for one target (default: this machine's), and
# prints its path. Use it in a release pipeline with an Android or Apple triple
# (aarch64-linux-android, aarch64-apple-ios, …; that target's linker set up as usual).
#
# The shipped build: release + LTO, one codegen unit, opt-level "s", panics still unwind (uniffi
# catches them at the FFI boundary and raises UsVideoException.Internal / UsVideoError.internal),
# and the standard library rebuilt without its `backtrace` feature (nightly `-Z build-std`).
# Why: a stable build links std's backtrace symbolisation (gimli, addr2line, object: ~230 KB)
# because the default panic hook can print a backtrace; nothing of ours ever shows one, and a
# mobile app has no terminal to print it to. Stable: 1126 KiB stripped on x86_64 Linux; this
# build: 894 KiB (goal ≤ 1 MB; both 2026-12-03). A panic still unwinds, is caught and becomes the library's
# error; only RUST_BACKTRACE output loses its symbol names.
#
#   bindings/build-release.sh [TARGET]   → target/shipped/TARGET/shipped/libusvideo_uniffi.{so,a,…}
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${1:-$(rustc -vV | sed -n 's/^host: //p')}"
rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src' \
  || rustup component add rust-src --toolchain nightly >&2
cargo +nightly build -q -p usvideo-uniffi --lib --no-default-features --target "$TARGET" \
  --profile shipped --target-dir target/shipped \
  --config 'profile.shipped.inherits="release"' --config 'profile.shipped.lto=true' \
  --config 'profile.shipped.codegen-units=1' --config 'profile.shipped.opt-level="s"' \
  --config 'profile.shipped.panic="unwind"' \
  -Z build-std=std,panic_unwind -Z build-std-features=panic-unwind >&2
echo "target/shipped/$TARGET/shipped"
