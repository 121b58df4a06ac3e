"""The local emulator for the Python examples when no ``USVIDEO_API_KEY`` is set: starts the
emulator binary as a child process (``cargo build -p usvideo-emulator``; ``USVIDEO_EMULATOR_BIN``
overrides its path) and opens an account with $50."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from contextlib import ExitStack
from pathlib import Path


def start_emulator(stack: ExitStack, time_scale: float) -> tuple[str, str]:
    """Starts the emulator (stopped when ``stack`` closes); returns (API base URL, API key)."""
    root = Path(__file__).resolve().parent.parent
    binary = os.environ.get("USVIDEO_EMULATOR_BIN") or str(root / "target" / "debug" / "usvideo-emulator")
    if not Path(binary).exists():
        sys.exit(f"No USVIDEO_API_KEY set and no emulator at {binary}: run `cargo build -p usvideo-emulator` first.")
    proc = subprocess.Popen(
        [binary, "--port", "0", "--time-scale", str(time_scale), "--exit-on-stdin-close"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )

    def stop() -> None:
        if proc.stdin is not None:
            proc.stdin.close()  # --exit-on-stdin-close: the emulator stops by itself
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()

    stack.callback(stop)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    prefix = "usvideo-emulator listening on "
    if not line.startswith(prefix):
        sys.exit(f"unexpected first line from the emulator: {line!r}")
    url = line[len(prefix) :].rstrip("/")
    body = json.dumps({"email": "me@example.com", "balance_cents": 5000}).encode()
    request = urllib.request.Request(f"{url}/_emulator/accounts", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        account = json.loads(resp.read())
    print(f"No USVIDEO_API_KEY set: using the local emulator at {url} (account {account['email']}, $50.00, virtual time x {time_scale:g})")
    return f"{url}/v1", str(account["api_key"])
