#!/usr/bin/env bash
# The mobile packages' test: builds the uniffi library and the in-repo uniffi-bindgen, generates
# the Kotlin and Swift packages, builds the emulator, compiles the Kotlin package, its tests and
# examples/Quickstart.kt with kotlinc and the Java caller's test with javac, and runs them on the
# JVM through JNA against the debug library. Idempotent; needs only Rust, Java 17 and Node/npm (installs libjna-java and the
# kotlin-compiler npm package when missing). The last line is the runner's `N passed, N failed`.
#
#   bindings/test.sh            everything
#   bindings/test.sh FILTER     only tests whose name contains FILTER
#   USVIDEO_LIB_DIR=DIR bindings/test.sh …   against the library in DIR instead of the debug one
#                               (the test command runs them all against the shipped build too)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KOTLIN_VERSION=2.4.20
KDIR="$ROOT/target/kotlinc"
KOTLINC="$KDIR/node_modules/kotlin-compiler/bin/kotlinc"
OUT="$ROOT/target/kotlin-test"

say() { echo "== $*" >&2; }

# --- tools --------------------------------------------------------------------------------------
if [ ! -f /usr/share/java/jna.jar ]; then
  say "installing libjna-java"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libjna-java >/dev/null
fi
if [ ! -x "$KOTLINC" ] || ! grep -q "\"version\": \"$KOTLIN_VERSION\"" "$KDIR/node_modules/kotlin-compiler/package.json" 2>/dev/null; then
  say "installing kotlin-compiler@$KOTLIN_VERSION (npm) into target/kotlinc"
  mkdir -p "$KDIR"
  npm install --silent --no-audit --no-fund --prefix "$KDIR" "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
fi
chmod +x "$KDIR"/node_modules/kotlin-compiler/bin/* 2>/dev/null || true
COROUTINES="$KDIR/node_modules/kotlin-compiler/lib/kotlinx-coroutines-core-jvm.jar"
JNA=/usr/share/java/jna.jar

# --- native library, bindgen, emulator ----------------------------------------------------------
say "building usvideo-uniffi (library + uniffi-bindgen)"
cargo build -p usvideo-uniffi --bins --lib
say "building the emulator"
cargo build -p usvideo-emulator --bin usvideo-emulator

# --- generate the packages ----------------------------------------------------------------------
bash bindings/generate.sh

# --- compile and run the Kotlin tests -----------------------------------------------------------
SOURCES=(bindings/kotlin/src/main/kotlin bindings/kotlin/src/test/kotlin examples/Quickstart.kt)
STAMP="$OUT/stamp"
NEWEST=$(find "${SOURCES[@]}" -name '*.kt' -newer "$STAMP" 2>/dev/null | head -1 || true)
if [ ! -f "$OUT/tests.jar" ] || [ ! -f "$STAMP" ] || [ -n "$NEWEST" ]; then
  say "compiling the Kotlin package, tests and quickstart (kotlinc $KOTLIN_VERSION)"
  mkdir -p "$OUT"
  "$KOTLINC" -nowarn -jvm-target 17 -cp "$JNA:$COROUTINES" -d "$OUT/tests.jar" "${SOURCES[@]}"
  touch "$STAMP"
fi

# The Java caller's test: javac against the compiled package (the harness runs it, `java/…`).
STDLIB="$KDIR/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar"
JAVA_SOURCES=$(find bindings/kotlin/src/test/java -name '*.java')
JSTAMP="$OUT/java.stamp"
if [ ! -f "$JSTAMP" ] || [ "$OUT/tests.jar" -nt "$JSTAMP" ] || [ -n "$(find bindings/kotlin/src/test/java -name '*.java' -newer "$JSTAMP")" ]; then
  say "compiling the Java caller's test (javac)"
  rm -rf "$OUT/java"
  # shellcheck disable=SC2086 # one path a line, no spaces
  javac -encoding UTF-8 --release 17 -Xlint:all -Werror -d "$OUT/java" -cp "$OUT/tests.jar:$STDLIB:$COROUTINES:$JNA" $JAVA_SOURCES
  touch "$JSTAMP"
fi

say "running the Kotlin tests"
java -Djna.library.path="${USVIDEO_LIB_DIR:-$ROOT/target/debug}" \
     -Dusvideo.emulator="$ROOT/target/debug/usvideo-emulator" \
     -Dusvideo.vectors="$ROOT/tests/vectors" \
     -Dusvideo.root="$ROOT" \
     -cp "$OUT/tests.jar:$OUT/java:$JNA:$COROUTINES:$STDLIB" \
     com.usvideo.test.HarnessKt "$@"
