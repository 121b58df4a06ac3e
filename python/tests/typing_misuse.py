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
