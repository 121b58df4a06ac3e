"""The quickstart: the reference's own example, end to end, in Python.

With no ``USVIDEO_API_KEY`` it starts the local emulator binary as a child process (time sped up
15x so the job takes a few seconds) and opens an account with $50; with a key it talks to
``USVIDEO_BASE_URL`` or the real service. Then: the offline estimate, a 1080p 5 s text-to-video job
with a progress line, the download, and the balance before and after.

Run it with ``python examples/quickstart.py`` (after ``pip install ./python`` and, for the
emulator, ``cargo build -p usvideo-emulator``; ``USVIDEO_EMULATOR_BIN`` overrides its path).
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Optional

import usvideo
from local_emulator import start_emulator

TIME_SCALE = 15.0


def main() -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        poll: Optional[usvideo.PollPolicy] = None
        if os.environ.get("USVIDEO_API_KEY"):
            client = stack.enter_context(usvideo.Client())
            print(f"Using the service at {client.base_url}")
        else:
            base_url, api_key = start_emulator(stack, TIME_SCALE)
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
