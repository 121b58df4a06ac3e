"""A batch: twelve videos of mixed resolution and duration, run within the account's limits, with a
plain-text progress bar and each result as it finishes.

With no ``USVIDEO_API_KEY`` it starts the local emulator binary as a child process (time sped up
30x) and opens an account with $50; with a key it talks to ``USVIDEO_BASE_URL`` or the real service.

Run it with ``python examples/batch.py`` (after ``pip install ./python`` and, for the emulator,
``cargo build -p usvideo-emulator``; ``USVIDEO_EMULATOR_BIN`` overrides its path). With a key,
Ctrl-C saves a snapshot to resume from with ``python examples/batch.py --resume <file>`` (nothing
is submitted twice).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Dict, List

import usvideo
from local_emulator import start_emulator

TIME_SCALE = 30.0
BUDGET_CENTS = 2_000


def requests() -> List[Dict[str, Any]]:
    resolutions = ["720p", "1080p", "2k"]
    return [
        {"prompt": f"Scene {i}: waves on a rocky shore, golden hour", "mode": "text_to_video", "resolution": resolutions[i % 3], "duration": 1 + (i * 3) % 10}
        for i in range(12)
    ]


def bar(p: usvideo.BatchProgress) -> str:
    filled = p.done * 30 // max(p.total, 1)
    return f"[{'=' * filled:<30}] {p.done}/{p.total} done, {p.in_flight} in flight, {p.queued} queued, {p.requests} requests"


def main() -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        tuning: Dict[str, Any] = {}
        if os.environ.get("USVIDEO_API_KEY"):
            client = stack.enter_context(usvideo.Client())
            print(f"Using the service at {client.base_url}")
        else:
            base_url, api_key = start_emulator(stack, TIME_SCALE)
            client = stack.enter_context(usvideo.Client(api_key=api_key, base_url=base_url))
            # The emulator's clock runs faster: scale the model of generation times to match.
            tuning = {"expected_scale": 1 / TIME_SCALE, "poll_interval": 1.0}

        last: List[usvideo.BatchProgress] = []

        def show(p: usvideo.BatchProgress) -> None:
            last[:] = [p]
            print(f"\r{bar(p)}", end="", flush=True)

        if len(sys.argv) == 3 and sys.argv[1] == "--resume":
            run = client.videos.resume_batch(Path(sys.argv[2]).read_text(), on_progress=show, longest_first=True, **tuning)
        else:
            run = client.videos.batch(requests(), max_spend_cents=BUDGET_CENTS, on_progress=show, longest_first=True, **tuning)
        print(f"Estimated total: {run.estimated_cents} cents (budget {BUDGET_CENTS})")

        try:
            for item in run:
                if item.ok and item.job is not None:
                    line = f"#{item.index:<2} {item.job.id} completed: {item.job.cost_cents} cents"
                else:
                    line = f"#{item.index:<2} did not complete: {item.error}"
                print(f"\r{line:<100}")
                show(last[0] if last else run.progress)
        except KeyboardInterrupt:
            saved = Path(tempfile.gettempdir()) / "usvideo-batch-snapshot.json"
            # Written beside it, then moved onto it: a second Ctrl-C mid-write leaves the old one.
            part = saved.with_suffix(".part")
            part.write_text(run.snapshot())
            os.replace(part, saved)
            print(f"\nInterrupted: resume with `python examples/batch.py --resume {saved}`")
            return
        print()

        summary = run.summary
        if summary is not None:
            p = summary.progress
            print(f"Completed {p.completed}/{p.total}, spent {summary.spent_cents} cents, {p.requests} requests ({p.requests / max(p.total, 1):.1f} per job)")
        print(f"Done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
