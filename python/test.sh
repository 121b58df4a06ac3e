#!/usr/bin/env bash
# The Python package's test command. Idempotent; needs only python3 (3.9+), pip and cargo.
#   1. a virtualenv in target/py-venv with pinned test tools,
#   2. `pip install ./python` (maturin builds the native module with cargo),
#   3. the emulator binary (cargo build -p usvideo-emulator),
#   4. pytest on python/tests (vectors, native module, sync and async clients against the emulator),
#      (the fault matrix writes target/reliability/python.json and python_async.json),
#   5. mypy --strict on the package and the examples, then examples/quickstart.py and examples/batch.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/target/py-venv"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"

step() { printf '\n== %s\n' "$*"; }

if [ ! -x "$PY" ]; then
    step "creating $VENV"
    mkdir -p "$ROOT/target"
    "$PYTHON" -m venv "$VENV"
fi

step "test tools (pinned)"
"$PY" -m pip install --quiet --disable-pip-version-check \
    maturin==1.16.0 httpx==0.28.1 pytest==9.2.0 pytest-asyncio==1.5.0 mypy==2.4.1 typing_extensions==4.16.0

step "pip install ./python"
# --force-reinstall of the package alone (not its dependencies), so the wheel is always rebuilt.
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./python

step "emulator binary"
cargo build --quiet -p usvideo-emulator
export USVIDEO_EMULATOR_BIN="$ROOT/target/debug/usvideo-emulator"
export USVIDEO_REQUIRE_EMULATOR=1

step "pytest"
# Run from outside python/ so the installed package (not the source folder) is what is tested.
(cd "$ROOT/python/tests" && "$PY" -m pytest -q -p no:cacheprovider --rootdir "$ROOT/python" -c "$ROOT/python/pyproject.toml" "$ROOT/python/tests")

step "mypy --strict"
"$PY" -m mypy --strict --no-incremental python/python/usvideo examples/quickstart.py examples/batch.py python/tests/typing_misuse.py

step "examples/quickstart.py (against the emulator)"
env -u USVIDEO_API_KEY -u USVIDEO_BASE_URL "$PY" examples/quickstart.py

step "examples/batch.py (against the emulator)"
env -u USVIDEO_API_KEY -u USVIDEO_BASE_URL "$PY" examples/batch.py

printf '\npython: all checks passed\n'
