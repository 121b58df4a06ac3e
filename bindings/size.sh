#!/usr/bin/env bash
# Prints the size of the stripped release library for x86_64 Linux (goal: ≤ 1 MB = 1048576 bytes).
# Release profile = the workspace's (opt-level 3, unwinding kept so uniffi can catch panics).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p usvideo-uniffi --release --lib >&2
mkdir -p target/size
cp target/release/libusvideo_uniffi.so target/size/libusvideo_uniffi.so
strip --strip-all target/size/libusvideo_uniffi.so
BYTES=$(stat -c %s target/size/libusvideo_uniffi.so)
echo "libusvideo_uniffi.so (x86_64-unknown-linux-gnu, release, stripped): $BYTES bytes ($(( (BYTES + 1023) / 1024 )) KiB)"
if [ "$BYTES" -le 1048576 ]; then echo "within the 1 MB goal"; else echo "OVER the 1 MB goal"; fi
