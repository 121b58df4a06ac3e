"""``client.videos.batch``: within the limits, refusals before anything is sent, cancel, and resume
after the process running it was killed (SIGKILL)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest

import usvideo
from conftest import Emulator, _emulator, ledger_entry

FAST = {"poll_interval": 0.1, "expected_scale": 1 / 200}


def requests(n: int, resolution: str = "720p") -> List[Dict[str, Any]]:
    return [{"prompt": f"scene {i}: waves on a rocky shore", "mode": "text_to_video", "resolution": resolution, "duration": 1 + i % 4} for i in range(n)]


def counting_client(emu: Emulator, key: str, statuses: List[int]) -> usvideo.Client:
    """A client whose every HTTP answer's status is recorded."""
    http = httpx.Client(timeout=30.0, event_hooks={"response": [lambda r: statuses.append(r.status_code)]})
    return usvideo.Client(api_key=key, base_url=emu.api_base, http_client=http)


def test_a_batch_runs_within_the_limits(fast_emu: Emulator) -> None:
    acct = fast_emu.account(balance_cents=10_000)
    statuses: List[int] = []
    progress: List[usvideo.BatchProgress] = []
    reqs = requests(12)
    with counting_client(fast_emu, acct.api_key, statuses) as client:
        run = client.videos.batch(reqs, max_spend_cents=2_000, on_progress=progress.append, **FAST)
        assert run.estimated_cents == sum(usvideo.estimate_cost(r["resolution"], r["duration"]) for r in reqs)
        items = list(run)
    assert sorted(i.index for i in items) == list(range(12))
    assert all(i.ok and i.job is not None and i.job.status == "completed" for i in items), [i.error for i in items if not i.ok]
    assert 429 not in statuses, statuses
    assert max(p.in_flight for p in progress) <= 10
    summary = run.summary
    assert summary is not None and [r.index for r in summary.results] == list(range(12))
    assert summary.progress.completed == 12 and summary.spent_cents == run.estimated_cents
    row = ledger_entry(fast_emu, acct.email)
    assert row is not None and row["jobs_created"] == 12, row
    assert row["deposits_cents"] - row["balance_cents"] == run.estimated_cents
    # Polling by list: far fewer requests than one get per job per poll.
    assert len(statuses) < 12 * 4, len(statuses)


def test_a_bad_item_is_named_before_anything_is_sent(fast_emu: Emulator) -> None:
    acct = fast_emu.account()
    reqs = requests(3)
    reqs[1]["duration"] = 11
    reqs[2]["resolutoin"] = "1080p"
    with usvideo.Client(api_key=acct.api_key, base_url=fast_emu.api_base) as client:
        with pytest.raises(usvideo.ValidationError) as info:
            client.videos.batch(reqs)
    assert {i.field for i in info.value.issues} == {"requests[1].duration", "requests[2].resolutoin"}


def test_refused_beyond_max_spend_before_anything_is_sent(fast_emu: Emulator) -> None:
    acct = fast_emu.account(balance_cents=10_000)
    statuses: List[int] = []
    with counting_client(fast_emu, acct.api_key, statuses) as client:
        with pytest.raises(usvideo.ValidationError) as info:
            client.videos.batch(requests(10, "1080p"), max_spend_cents=500)
    assert info.value.field == "max_spend_cents"
    assert "above max_spend_cents (500)" in info.value.message
    assert statuses == []


def test_refused_beyond_the_balance_before_any_create(fast_emu: Emulator) -> None:
    acct = fast_emu.account(balance_cents=100)
    statuses: List[int] = []
    with counting_client(fast_emu, acct.api_key, statuses) as client:
        run = client.videos.batch(requests(10, "1080p"))
        with pytest.raises(usvideo.InsufficientBalanceError) as info:
            next(run)
        assert list(run) == []
    assert "balance is 100 cents" in info.value.message and "nothing was created" in info.value.message
    assert statuses == [200]  # the account read, nothing else
    row = ledger_entry(fast_emu, acct.email)
    assert row is not None and row["jobs_created"] == 0


class _Stop(Exception):
    pass


def test_cancel_deletes_pending_jobs(emu: Emulator) -> None:
    """On a frozen clock jobs stay pending: cancel deletes (refunds) them and cancels the queue."""
    acct = emu.account(balance_cents=10_000)

    stopped: List[bool] = []

    def stop_at_three(p: usvideo.BatchProgress) -> None:
        if p.in_flight >= 3 and not stopped:
            stopped.append(True)
            raise _Stop()

    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        run = client.videos.batch(requests(15), on_progress=stop_at_three)
        with pytest.raises(_Stop):
            next(run)
        snapshot = json.loads(run.snapshot())
        assert sum(1 for i in snapshot["items"] if i["state"] == "running") == 3
        run.cancel()
        items = list(run)
    assert len(items) == 15
    assert all(isinstance(i.error, usvideo.CancelledError) for i in items)
    assert sum(1 for i in items if i.job is not None) == 3
    p = run.progress
    assert (p.cancelled, p.failed, p.done) == (15, 0, 15), p
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 3
    assert row["balance_cents"] == row["deposits_cents"], "every pending job refunded"
    assert client is not None
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as c2:
        assert len(c2.videos.list().data) == 0


def test_an_empty_batch_and_a_batch_cancelled_before_it_started_end_with_a_summary(emu: Emulator) -> None:
    """An empty batch ends at once, empty; a batch cancelled before its first step ends with every
    item cancelled (it failed as a whole, and a resumed one left its pending jobs to be charged)."""
    acct = emu.account(balance_cents=10_000)
    statuses: List[int] = []
    with counting_client(emu, acct.api_key, statuses) as client:
        empty = client.videos.batch([])
        assert empty.estimated_cents == 0 and list(empty) == []
        assert empty.summary is not None and empty.summary.results == () and empty.summary.spent_cents == 0
        run = client.videos.batch(requests(3))
        run.cancel()
        items = list(run)
        assert sorted(i.index for i in items) == [0, 1, 2]
        assert all(isinstance(i.error, usvideo.CancelledError) and i.job is None for i in items)
        assert run.summary is not None and run.summary.spent_cents == 0
    assert statuses == [], "nothing sent"


async def test_async_batch(fast_emu: Emulator) -> None:
    acct = fast_emu.account(balance_cents=10_000)
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=fast_emu.api_base) as client:
        run = client.videos.batch(requests(5), **FAST)
        items = [item async for item in run]
    assert sorted(i.index for i in items) == list(range(5)) and all(i.ok for i in items)
    assert run.summary is not None and run.summary.progress.completed == 5
    row = ledger_entry(fast_emu, acct.email)
    assert row is not None and row["jobs_created"] == 5


CHILD = r"""
import os, sys, usvideo
base, key, path = sys.argv[1], sys.argv[2], sys.argv[3]
client = usvideo.Client(api_key=key, base_url=base)
reqs = [{"prompt": f"scene {i}", "mode": "text_to_video", "resolution": "720p", "duration": 1 + i % 3} for i in range(8)]
run = None
def save(_p):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(run.snapshot())
    os.replace(tmp, path)
run = client.videos.batch(reqs, concurrent_jobs=3, on_progress=save, poll_interval=0.3, expected_scale=1 / 20)
for item in run:
    save(None)
print("finished", flush=True)
"""


def test_resume_after_the_process_was_killed(tmp_path: Path) -> None:
    emu = _emulator(20.0)
    emu.reset()
    acct = emu.account(balance_cents=10_000)
    snap = tmp_path / "batch.json"
    child = subprocess.Popen([sys.executable, "-c", CHILD, emu.api_base, acct.api_key, str(snap)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if snap.exists():
                states = [i["state"] for i in json.loads(snap.read_text())["items"]]
                if states.count("done") >= 2:
                    break
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the child never got two items done")
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    text = snap.read_text()
    states = [i["state"] for i in json.loads(text)["items"]]
    assert "done" in states and ("queued" in states or "running" in states or "submitting" in states), states
    assert acct.api_key not in text

    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        run = client.videos.resume_batch(text, concurrent_jobs=3, poll_interval=0.3, expected_scale=1 / 20)
        resumed = list(run)
    # An item done but not yet handed out when the snapshot was taken (`unreported`) is yielded
    # by the resume too: every item reaches the caller once across both processes.
    assert len(resumed) == sum(1 for i in json.loads(text)["items"] if i["state"] != "done" or i.get("unreported"))
    summary = run.summary
    assert summary is not None and summary.progress.completed == 8, summary
    costs = {usvideo.estimate_cost("720p", 1 + i % 3) for i in range(8)}
    assert all(r.job is not None and r.job.cost_cents in costs for r in summary.results)
    ids = [r.job.id for r in summary.results if r.job is not None]
    assert len(set(ids)) == 8
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 8, row
    assert row["deposits_cents"] - row["balance_cents"] == sum(usvideo.estimate_cost("720p", 1 + i % 3) for i in range(8))


def test_a_snapshot_older_than_the_services_keys_sends_nothing_again(fast_emu: Emulator) -> None:
    """helper-54: resumed 25 h after a snapshot that the batch ran on past, its items were sent
    again under keys the service had forgotten (kept 24 h): 6 jobs for 3 items. Now the resumed
    batch reads the service's Date first and sends none of them (code ``snapshot_too_old``)."""
    acct = fast_emu.account(balance_cents=10_000)
    with usvideo.Client(api_key=acct.api_key, base_url=fast_emu.api_base) as client:
        run = client.videos.batch(requests(3), concurrent_jobs=1, **FAST)
        snapshot = None
        for item in run:
            snapshot = snapshot or run.snapshot()  # at the first item: the others still to send
        assert snapshot is not None and run.summary is not None and run.summary.progress.completed == 3
        saved = json.loads(snapshot)
        assert isinstance(saved.get("service_date_ms"), int), saved.keys()
        unsent = [i for i, it in enumerate(saved["items"]) if it["state"] in ("queued", "submitting")]
        assert unsent, saved["items"]
        fast_emu.advance(25 * 3600 * 1000)
        resumed = client.videos.resume_batch(snapshot, concurrent_jobs=1, **FAST)
        items = {item.index: item for item in resumed}
    row = ledger_entry(fast_emu, acct.email)
    assert row is not None and row["jobs_created"] == 3, row
    for i in unsent:
        it = saved["items"][i]
        if it["state"] == "submitting":  # adopted from the list, or ended unknown: never sent again
            continue
        err = items[i].error
        assert isinstance(err, usvideo.UsageError) and err.code == "snapshot_too_old", err
        # No key to send it again under: under a forgotten key that is no safe retry.
        assert err.idempotency_key is None and re.search(r"snapshot is 2\d h \d+ min old", str(err)), str(err)


def test_a_snapshot_from_another_version_is_refused(fast_emu: Emulator) -> None:
    acct = fast_emu.account()
    with usvideo.Client(api_key=acct.api_key, base_url=fast_emu.api_base) as client:
        with pytest.raises(usvideo.ValidationError) as info:
            client.videos.resume_batch({"version": 2, "items": [], "scale": 1.0})
    assert info.value.field == "snapshot.version"


def test_batch_types_are_exported() -> None:
    for name in ("BatchRun", "AsyncBatchRun", "BatchItem", "BatchProgress", "BatchSummary"):
        assert name in usvideo.__all__ and getattr(usvideo, name) is not None
    assert asyncio is not None


def test_cancel_from_another_thread_ends_the_iteration_at_once(emu: Emulator) -> None:
    """The iteration sleeps until the jobs' expected finish (minutes, 2k x 10 s); a cancel from
    another thread wakes it to yield the cancelled items, not minutes later."""
    import threading

    acct = emu.account(balance_cents=10_000)
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        run = client.videos.batch([{**r, "resolution": "2k", "duration": 10} for r in requests(2)])
        items: List[usvideo.BatchItem] = []
        loop = threading.Thread(target=lambda: items.extend(run))
        loop.start()
        time.sleep(0.5)  # both created, the iteration asleep
        started = time.monotonic()
        run.cancel()
        loop.join(timeout=5)
        ended = time.monotonic() - started
    assert not loop.is_alive() and ended < 5, f"the iteration ended {ended:.1f} s after cancel()"
    assert len(items) == 2 and all(isinstance(i.error, usvideo.CancelledError) for i in items)
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["balance_cents"] == row["deposits_cents"], "both pending jobs refunded"


async def test_async_cancel_from_another_task_ends_the_iteration_at_once(emu: Emulator) -> None:
    acct = emu.account(balance_cents=10_000)
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base) as client:
        run = client.videos.batch([{**r, "resolution": "2k", "duration": 10} for r in requests(2)])

        async def collect() -> List[usvideo.BatchItem]:
            return [item async for item in run]

        loop = asyncio.ensure_future(collect())
        await asyncio.sleep(0.5)
        await run.cancel()
        items = await asyncio.wait_for(loop, 5)
    assert len(items) == 2 and all(isinstance(i.error, usvideo.CancelledError) for i in items)


async def _cancel_with_its_create_out(emu: Emulator, cancel_iteration: bool) -> Tuple[Any, Any, Optional[List[usvideo.BatchItem]]]:
    """A one-item batch cancelled (``run.cancel()``) while its iteration's create is out (its
    answer 0.8 s away), the iteration's task cancelled just before if ``cancel_iteration``: the
    account, the run, and what the iteration returned (``None``: it was cancelled)."""
    acct = emu.account(balance_cents=10_000)
    emu.fault({"method": "POST", "path": "/v1/videos", "delay_ms": 800, "times": 1})
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base) as client:
        run = client.videos.batch(requests(1))

        async def collect() -> List[usvideo.BatchItem]:
            return [item async for item in run]

        loop = asyncio.ensure_future(collect())
        await asyncio.sleep(0.3)  # the create is out, its answer 0.5 s away
        if cancel_iteration:
            loop.cancel()
        await asyncio.wait_for(run.cancel(), 10)
        try:
            items: Optional[List[usvideo.BatchItem]] = await asyncio.wait_for(loop, 10)
        except asyncio.CancelledError:
            items = None
    return acct, run, items


async def test_async_cancel_while_the_iteration_has_a_request_out_waits_for_its_answer(emu: Emulator) -> None:
    """cancel()'s drive finds the machine waiting for the iteration's request (Pending): it must
    yield to the loop until that answer comes (it spun, starving the loop, so the answer never
    came)."""
    acct, _, items = await _cancel_with_its_create_out(emu, cancel_iteration=False)
    assert items is not None and len(items) == 1 and isinstance(items[0].error, usvideo.CancelledError)
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["balance_cents"] == row["deposits_cents"], "the job made is deleted and refunded"


async def test_async_cancel_after_the_iteration_was_cancelled_with_a_request_out_ends(emu: Emulator) -> None:
    """helper-73: the iteration, cancelled with its create out, leaves the request's id to be
    reported by the next driver; a cancel() already driving saw only `pending` from then on and
    waited for ever (queued items never cancelled, pending jobs never deleted)."""
    acct, run, items = await _cancel_with_its_create_out(emu, cancel_iteration=True)
    assert items is None, "the iteration ends cancelled"
    progress = run.progress
    assert (progress.total, progress.cancelled + progress.failed + progress.completed) == (1, 1), progress
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["balance_cents"] == row["deposits_cents"], "nothing charged"


def _budget_spent(client: Any, n: int = 3) -> None:
    for _ in range(n):
        client.account.retrieve()


def test_cancel_stops_a_create_waiting_for_a_rate_limit_slot(emu: Emulator) -> None:
    """helper-65: the iteration's create waited for a slot of the key's spent budget; cancel()
    drove the clean-up but the create went out a minute later, and a job was made. Now the wait
    ends at the cancel and the create is not sent."""
    import threading

    acct = emu.account(balance_cents=10_000)
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base, requests_per_minute=3) as client:
        _budget_spent(client)
        run = client.videos.batch(requests(2), check_balance=False)
        items: List[usvideo.BatchItem] = []
        loop = threading.Thread(target=lambda: items.extend(run))
        loop.start()
        time.sleep(0.3)  # its first create waits for a slot
        started = time.monotonic()
        run.cancel()
        loop.join(timeout=10)
        ended = time.monotonic() - started
    assert not loop.is_alive() and ended < 5, f"cancel() and the iteration ended {ended:.1f} s after it"
    assert len(items) == 2 and all(isinstance(i.error, usvideo.CancelledError) and i.job is None for i in items), items
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 0, row


async def test_async_cancel_stops_a_create_waiting_for_a_rate_limit_slot(emu: Emulator) -> None:
    acct = emu.account(balance_cents=10_000)
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base, requests_per_minute=3) as client:
        for _ in range(3):
            await client.account.retrieve()
        run = client.videos.batch(requests(2), check_balance=False)

        async def collect() -> List[usvideo.BatchItem]:
            return [item async for item in run]

        loop = asyncio.ensure_future(collect())
        await asyncio.sleep(0.3)
        await asyncio.wait_for(run.cancel(), 5)
        items = await asyncio.wait_for(loop, 5)
    assert len(items) == 2 and all(isinstance(i.error, usvideo.CancelledError) and i.job is None for i in items), items
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 0, row


def test_a_callback_that_raises_during_cancel_does_not_stop_its_clean_up(emu: Emulator) -> None:
    """helper-65: on_progress raising while cancel() drove the clean-up stopped it, a pending job
    left to be charged. The clean-up now ends; cancel() then raises the callback's error."""
    acct = emu.account(balance_cents=10_000)
    state = {"cancelling": False}

    def on_progress(p: usvideo.BatchProgress) -> None:
        if state["cancelling"]:
            raise RuntimeError("callback boom")
        if p.in_flight >= 2:
            raise _Stop()

    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        run = client.videos.batch(requests(4), on_progress=on_progress)
        with pytest.raises(_Stop):
            next(run)
        state["cancelling"] = True
        with pytest.raises(RuntimeError, match="callback boom"):
            run.cancel()
        items = list(run)
    assert len(items) == 4 and all(isinstance(i.error, usvideo.CancelledError) for i in items)
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] >= 2 and row["active_jobs"] == 0 and row["balance_cents"] == row["deposits_cents"], row
