"""The quickstart: the reference's own example, end to end, in Python.

With no ``USVIDEO_API_KEY`` it starts the local emulator binary as a child process (time sped up
15x so the job takes a few seconds) and opens an account with $50; with a key it talks to
``USVIDEO_BASE_URL`` or the real service. Then: the offline estimate, a 1080p 5 s text-to-video job
with a progress line, the download, and the balance before and after.

Run it with ``python examples/quickstart.py`` (after ``pip install ./python`` and, for the
emulator, ``cargo build -p usvideo-emulator``; ``USVIDEO_EMULATOR_BIN`` overrides its path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Dict, Optional, Union

import usvideo

TIME_SCALE = 15.0


def start_emulator(stack: ExitStack) -> tuple[str, str]:
    """Starts the emulator binary, opens an account with $50; returns (api base URL, API key)."""
    root = Path(__file__).resolve().parent.parent
    binary = os.environ.get("USVIDEO_EMULATOR_BIN") or str(root / "target" / "debug" / "usvideo-emulator")
    if not Path(binary).exists():
        sys.exit(f"No USVIDEO_API_KEY set and no emulator at {binary}: run `cargo build -p usvideo-emulator` first.")
    proc = subprocess.Popen(
        [binary, "--port", "0", "--time-scale", str(TIME_SCALE), "--exit-on-stdin-close"],
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
    body = json.dumps({"email": "[email protected]", "balance_cents": 5000}).encode()
    request = urllib.request.Request(f"{url}/_emulator/accounts", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        account = json.loads(resp.read())
    print(f"No USVIDEO_API_KEY set: using the local emulator at {url} (account {account['email']}, $50.00)")
    return f"{url}/v1", str(account["api_key"])


def main() -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        poll: Optional[Dict[str, Union[int, float]]] = None
        if os.environ.get("USVIDEO_API_KEY"):
            client = stack.enter_context(usvideo.Client())
            print(f"Using the service at {client.base_url}")
        else:
            base_url, api_key = start_emulator(stack)
            client = stack.enter_context(usvideo.Client(api_key=api_key, base_url=base_url))
            # The emulator's clock runs 15x: tell the core's poll schedule, so it polls as often.
            poll = {"expected_scale": 1 / TIME_SCALE, "first_poll_ms": 500, "min_interval_ms": 500}

        estimate = usvideo.estimate_cost(resolution="1080p", duration=5)
        print(f"Offline estimate for 1080p x 5 s: {estimate} cents (${estimate / 100:.2f})")

        before = client.account.retrieve()
        print(f"Balance before: {before.balance_cents} cents")

        def show(p: usvideo.Progress) -> None:
            bar = "=" * (p.percent * 30 // 100)
            print(f"\r[{bar:<30}] {p.percent:3d}% {p.status:<12}", end="", flush=True)

        job = client.videos.create_and_wait(
            prompt="A drone shot over a misty mountain lake at sunrise",
            mode="text_to_video",
            resolution="1080p",
            duration=5,
            on_progress=show,
            poll=poll,
            cancel=True,  # Ctrl-C deletes the job if it is still pending (refunded), then stops
        )
        print()

        folder = Path(tempfile.gettempdir()) / "usvideo-quickstart"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{job.id}.mp4"
        size = client.videos.download(job, path)

        after = client.account.retrieve()
        print(f"Job:          {job.id}")
        print(f"Video:        {path} ({size} bytes)")
        print(f"Cost:         {job.cost_cents} cents")
        print(f"Balance:      {before.balance_cents} -> {after.balance_cents} cents")
        print(f"Done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
