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
rm -rf target/uniffi-kotlin target/uniffi-swift
"$BINDGEN" generate --no-format --library "$LIB" --language kotlin --config bindings/uniffi.toml --out-dir target/uniffi-kotlin >/dev/null
# Kotlin: files are replaced only when their text changed (test.sh recompiles when a source is
# newer than its last build, and kotlinc takes a minute or more).
for pkg in core ffi; do
  src="target/uniffi-kotlin/com/usvideo/$pkg"
  mkdir -p "$K/$pkg"
  for f in "$K/$pkg"/*.kt; do [ -e "$f" ] && [ ! -e "$src/$(basename "$f")" ] && rm -f "$f"; done
  for f in "$src"/*.kt; do cmp -s "$f" "$K/$pkg/$(basename "$f")" || cp "$f" "$K/$pkg/"; done
done
"$BINDGEN" generate --no-format --library "$LIB" --language swift --config bindings/uniffi.toml --out-dir target/uniffi-swift >/dev/null
# Swift package layout: both generated Swift files form one module (USVideoFFI: the bindings'
# file uses the core's types unqualified), and both C headers one system-library module map,
# which also links the static library (see bindings/README.md for the macOS build).
rm -rf "$S/USVideoFFI" "$S/USVideoFFIHeaders" "$S/usvideo_uniffiFFI"
mkdir -p "$S/USVideoFFI" "$S/usvideo_uniffiFFI"
cp target/uniffi-swift/*.swift "$S/USVideoFFI/"
cp target/uniffi-swift/*.h "$S/usvideo_uniffiFFI/"
{
  cat target/uniffi-swift/usvideo_coreFFI.modulemap
  echo
  sed 's/^}/    link "usvideo_uniffi"\n}/' target/uniffi-swift/usvideo_uniffiFFI.modulemap
} > "$S/usvideo_uniffiFFI/module.modulemap"
