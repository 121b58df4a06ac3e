"""Checked by mypy --strict (python/test.sh), never run: the misspellings below must be type
errors, and each `type: ignore` must be needed (--strict warns of an unused one), so the
package's literal types cannot quietly widen back to `str`."""

from __future__ import annotations

import usvideo


def misuse(client: usvideo.Client, job: usvideo.Job) -> None:
    client.videos.create(prompt="a lake", mode="text2video")  # type: ignore[arg-type]
    client.videos.create(prompt="a lake", mode="text_to_video", resolution="2K")  # type: ignore[arg-type]
    client.videos.create_and_wait(prompt="a lake", mode="reference", resolution="4k")  # type: ignore[arg-type]
    client.videos.create(prompt="a lake", mode="text_to_video", durration=5)  # type: ignore[call-arg]
    client.videos.create(prompt="a lake")  # type: ignore[call-arg]
    client.videos.create_and_wait(mode="text_to_video", timeout=60)  # type: ignore[call-arg]
    mode: usvideo.Mode = "text_to_video"
    resolution: usvideo.Resolution = "1080p"
    client.videos.create(prompt="a lake", mode=mode, resolution=resolution)
    if job.mode == "txt_to_video":  # type: ignore[comparison-overlap]
        pass
    usvideo.estimate_cost(resolution="2K", duration=5)  # type: ignore[arg-type]
    usvideo.estimate_cost(resolution="1080p", duration="5")  # type: ignore[arg-type]
    for listed in client.videos.list():
        listed.no_such_field  # type: ignore[attr-defined]
    client.videos.wait("job_1", poll={"first_pol_ms": 50})  # type: ignore[arg-type]
    client.videos.wait("job_1", poll={"first_poll_ms": 50, "expected_scale": 0.5})
    try:
        client.account.retrieve()
    except usvideo.RateLimitErorr:  # type: ignore[attr-defined]
        pass


def readme_batch(client: usvideo.Client) -> None:
    """python/README.md's batch example as written there: it must type-check (helper-49 found
    `item.job.id` and `run.summary.spent_cents` refused by mypy --strict)."""
    requests = [{"prompt": f"scene {i}", "mode": "text_to_video", "resolution": "720p", "duration": 4} for i in range(50)]
    run = client.videos.batch(requests, max_spend_cents=2_000, on_progress=lambda p: print(p.done, "/", p.total))
    for item in run:
        if item.error is None and item.job is not None:
            print(item.index, item.job.id, item.job.video_url)
        else:
            print(item.index, "failed:", item.error)
    if run.summary is not None:
        print(run.summary.spent_cents)
    table = client.pricing.retrieve()
    table.estimate("4K", 5)  # type: ignore[arg-type]
