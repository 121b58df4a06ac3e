#!/usr/bin/env bash
# Regenerates the Kotlin and Swift sources from the built library (library mode), with the
# in-repo uniffi-bindgen (same uniffi as the library). Never edit the generated files by hand.
# Needs `cargo build -p usvideo-uniffi --bins --lib` first (test.sh does it).
set -euo pipefail
cd "$(dirname "$0")/.."
LIB=target/debug/libusvideo_uniffi.so
BINDGEN=target/debug/uniffi-bindgen
K=bindings/kotlin/src/main/kotlin/com/usvideo
S=bindings/swift/Sources
echo "== generating Kotlin and Swift from $LIB" >&2
rm -rf "$K/core" "$K/ffi" target/uniffi-swift
"$BINDGEN" generate --no-format --library "$LIB" --language kotlin --config bindings/uniffi.toml --out-dir bindings/kotlin/src/main/kotlin >/dev/null
"$BINDGEN" generate --no-format --library "$LIB" --language swift --config bindings/uniffi.toml --out-dir target/uniffi-swift >/dev/null
# Swift package layout: the generated Swift goes into the USVideoFFI target, the C headers and the
# module map into the binary target's include folder.
mkdir -p "$S/USVideoFFI" "$S/USVideoFFIHeaders/include"
cp target/uniffi-swift/*.swift "$S/USVideoFFI/"
cp target/uniffi-swift/*.h "$S/USVideoFFIHeaders/include/"
cat target/uniffi-swift/*.modulemap > "$S/USVideoFFIHeaders/include/module.modulemap"
