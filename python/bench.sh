#!/usr/bin/env bash
# Benchmarks of the Python package against its peers (not part of the tests). Prints a markdown
# section on stdout (progress goes to stderr); scripts/bench calls it.
#   1. import time, best of 10: `python -X importtime -c "import X"`, the cumulative time of the
#      top-level package, for usvideo and the peers' SDKs (replicate, fal-client, runwayml, lumaai),
#      and the wall time of `python -c "import X"` minus that of `python -c pass`;
#   2. the time per `client.videos.retrieve(id)` through usvideo.Client divided by a raw
#      `httpx.Client.get` of the same URL, on loopback against the emulator binary (interleaved);
#   3. the wheel's size (`maturin build --release`).
# Needs python3 (3.9+), cargo and network access to PyPI. Everything goes in a throwaway
# virtualenv under target/ (BENCH_ITERATIONS, default 2000, sets the retrieve loop's length).
#
# `bash python/bench.sh overhead` runs part 2 only (no peers, no import times, no wheel size): the
# release wheel with httpx alone, BENCH_RUNS (default 5) interleaved runs of the retrieve loop,
# each run's median ratio and the median of those.
set -euo pipefail
MODE="${1:-all}"
case "$MODE" in all|overhead) ;; *) echo "usage: bash python/bench.sh [overhead]" >&2; exit 2 ;; esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/usvideo-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
VENV="$WORK/venv"
PY="$VENV/bin/python"
say() { printf '%s\n' "$*" >&2; }

say "== throwaway virtualenv in $VENV"
"$PYTHON" -m venv "$VENV"
"$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$PY" -m pip install --quiet --disable-pip-version-check maturin==1.16.0 httpx==0.28.1 >&2

say "== wheel (maturin build --release)"
"$PY" -m maturin build --quiet --release -m python/Cargo.toml -o "$WORK/wheel" >&2
WHEEL="$(ls "$WORK"/wheel/*.whl)"
"$PY" -m pip install --quiet --disable-pip-version-check "$WHEEL" >&2

if [ "$MODE" = all ]; then
    say "== peers from PyPI"
    "$PY" -m pip install --quiet --disable-pip-version-check replicate fal-client runwayml lumaai >&2
fi

say "== emulator binary"
cargo build --quiet --release -p usvideo-emulator >&2
EMULATOR="$ROOT/target/release/usvideo-emulator"

if [ "$MODE" = overhead ]; then
    "$PY" - "$EMULATOR" "${BENCH_ITERATIONS:-2000}" "${BENCH_RUNS:-5}" <<'EOF'
import statistics
import subprocess
import sys
import time

emulator, iterations, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
proc = subprocess.Popen([emulator, "--port", "0", "--time-scale", "0", "--exit-on-stdin-close"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
url = proc.stdout.readline().strip().split(" listening on ", 1)[1].rstrip("/")
import httpx
import usvideo

ctl = httpx.Client(base_url=url)
acct = ctl.post("/_emulator/accounts", json={"email": "me@example.com", "balance_cents": 10_000, "plan": "enterprise", "requests_per_minute": 100_000_000, "concurrent_jobs": 100}).json()
client = usvideo.Client(api_key=acct["api_key"], base_url=url + "/v1", requests_per_minute=0)
job = client.videos.create(prompt="a benchmark", mode="text_to_video")
raw = httpx.Client(timeout=60.0)
headers = {"Authorization": f"Bearer {acct['api_key']}"}
target = f"{url}/v1/videos/{job.id}"
for _ in range(200):  # warm-up: connections, caches
    client.videos.retrieve(job.id)
    raw.get(target, headers=headers).json()
print(f"`retrieve` through usvideo.Client vs raw httpx GET + .json(), loopback, emulator binary (release), {runs} runs of {iterations} interleaved iterations:\n")
print("| run | usvideo median | raw httpx median | ratio (medians) |")
print("|---|---|---|---|")
ratios = []
for run in range(runs):
    sdk, bare = [], []
    for _ in range(iterations):
        t = time.perf_counter()
        client.videos.retrieve(job.id)
        sdk.append(time.perf_counter() - t)
        t = time.perf_counter()
        r = raw.get(target, headers=headers)
        r.raise_for_status()
        r.json()
        bare.append(time.perf_counter() - t)
    s, b = statistics.median(sdk) * 1e6, statistics.median(bare) * 1e6
    ratios.append(s / b)
    print(f"| {run + 1} | {s:.0f} µs | {b:.0f} µs | {s / b:.3f}× |", flush=True)
print(f"\n**median of the {runs} ratios: {statistics.median(ratios):.3f}×**")
client.close()
raw.close()
proc.stdin.close()
proc.wait(timeout=10)
EOF
    exit 0
fi

"$PY" - "$EMULATOR" "$WHEEL" "${BENCH_ITERATIONS:-2000}" <<'EOF'
import json
import os
import statistics
import subprocess
import sys
import time
from importlib import metadata

emulator, wheel, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
py = sys.executable
env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")


def importtime_ms(module: str) -> float:
    """Best of 10: the cumulative -X importtime of the top-level package (after one warm-up run
    that writes the bytecode caches)."""
    best = float("inf")
    for i in range(11):
        r = subprocess.run([py, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, env=env, check=True)
        for line in r.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == module:
                us = int(parts[1])
        if i:
            best = min(best, us / 1000)
    return best


def wall_ms(code: str) -> float:
    best = float("inf")
    for i in range(11):
        t = time.perf_counter()
        subprocess.run([py, "-c", code], check=True, env=env)
        if i:
            best = min(best, (time.perf_counter() - t) * 1000)
    return best


peers = [("usvideo", "usvideo", "usvideo"), ("replicate", "replicate", "replicate"), ("fal-client", "fal_client", "fal_client"), ("runwayml", "runwayml", "runwayml"), ("lumaai", "lumaai", "lumaai")]
base_wall = wall_ms("pass")
rows = []
for dist, module, _ in peers:
    it = importtime_ms(module)
    wall = wall_ms(f"import {module}") - base_wall
    rows.append((dist, metadata.version(dist), it, wall))
    print(f"import {module}: {it:.1f} ms", file=sys.stderr)
first_client = importtime_ms("usvideo._sync")
client_wall = wall_ms("import usvideo; usvideo.Client") - base_wall
httpx_it = importtime_ms("httpx")

# ---- retrieve overhead
proc = subprocess.Popen([emulator, "--port", "0", "--time-scale", "0", "--exit-on-stdin-close"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
line = proc.stdout.readline().strip()
url = line.split(" listening on ", 1)[1].rstrip("/")
import httpx
import usvideo

ctl = httpx.Client(base_url=url)
acct = ctl.post("/_emulator/accounts", json={"email": "me@example.com", "balance_cents": 10_000, "plan": "enterprise", "requests_per_minute": 100_000_000, "concurrent_jobs": 100}).json()
client = usvideo.Client(api_key=acct["api_key"], base_url=url + "/v1", requests_per_minute=0)
job = client.videos.create(prompt="a benchmark", mode="text_to_video")
raw = httpx.Client(timeout=60.0)
headers = {"Authorization": f"Bearer {acct['api_key']}"}
target = f"{url}/v1/videos/{job.id}"
for _ in range(100):  # warm-up: connections, caches
    client.videos.retrieve(job.id)
    raw.get(target, headers=headers).json()
sdk, bare = [], []
for _ in range(iterations):
    t = time.perf_counter()
    client.videos.retrieve(job.id)
    sdk.append(time.perf_counter() - t)
    t = time.perf_counter()
    r = raw.get(target, headers=headers)
    r.raise_for_status()
    r.json()
    bare.append(time.perf_counter() - t)
client.close()
raw.close()
proc.stdin.close()
proc.wait(timeout=10)
sdk_us, raw_us = statistics.median(sdk) * 1e6, statistics.median(bare) * 1e6
sdk_mean, raw_mean = statistics.fmean(sdk) * 1e6, statistics.fmean(bare) * 1e6

size = os.path.getsize(wheel)
ours = rows[0]
print("## Python package (`python/bench.sh`)\n")
print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; best of 10 runs each.\n")
print("### Import time\n")
print("| package | version | `-X importtime` (cumulative) | wall time of `python -c \"import …\"` − `python -c pass` | vs usvideo (importtime) |")
print("|---|---|---|---|---|")
def fmt_wall(ms: float) -> str:
    return f"{ms:.1f} ms" if ms >= 1 else "< 1 ms (noise)"


for dist, version, it, wall in rows:
    ratio = "1.00×" if dist == "usvideo" else f"{it / ours[2]:.0f}×"
    print(f"| {dist} | {version} | {it:.1f} ms | {fmt_wall(wall)} | {ratio} |")
print(f"| usvideo, up to `usvideo.Client` (`usvideo._sync`, no httpx) | {ours[1]} | {first_client:.1f} ms | {fmt_wall(client_wall)} | {first_client / ours[2]:.0f}× |")
print(f"\n`import usvideo` loads every name on first use (PEP 562), the native module included; the last row is "
      f"what the first `usvideo.Client` access loads, and making a client then imports httpx ({httpx_it:.1f} ms here), "
      "which the peers built on httpx pay at import. Figures are noisy on a loaded machine: compare within one run.\n")
print("### `retrieve` overhead\n")
print(f"`client.videos.retrieve(id)` through `usvideo.Client` vs a raw `httpx.Client.get` + `.json()` of the same URL, "
      f"keep-alive, loopback, emulator binary (release), {iterations} interleaved iterations:\n")
print("| | median | mean |")
print("|---|---|---|")
print(f"| usvideo.Client.videos.retrieve | {sdk_us:.0f} µs | {sdk_mean:.0f} µs |")
print(f"| raw httpx GET | {raw_us:.0f} µs | {raw_mean:.0f} µs |")
print(f"| **ratio** | **{sdk_us / raw_us:.2f}×** | {sdk_mean / raw_mean:.2f}× |")
print("\n### Wheel\n")
print(f"`{os.path.basename(wheel)}`: {size / 1024:.0f} KiB ({size} bytes), `maturin build --release`.")
EOF
