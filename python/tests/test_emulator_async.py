"""The async client against the emulator binary: the same machines, driven by asyncio."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Callable, List

import pytest

import usvideo
from conftest import FAST_POLL, Emulator, bare_page, ledger_entry

LAKE = dict(prompt="A drone shot over a misty mountain lake at sunrise", mode="text_to_video", resolution="1080p", duration=5)


def aclient(emu: Emulator, key: str, **kw: Any) -> usvideo.AsyncClient:
    return usvideo.AsyncClient(api_key=key, base_url=emu.api_base, **kw)


async def test_list_all_walks_bare_array_pages(emu: Emulator) -> None:
    acct = emu.account(5000)
    emu.fault(bare_page(0, 100), bare_page(100, 7))
    async with aclient(emu, acct.api_key) as c:
        ids = [j.id async for j in c.videos.list_all()]
        assert len(ids) == 107 and ids[-1] == "job_106"
        emu.fault({**bare_page(0, 100), "times": 10})
        assert len([j async for j in c.videos.list_all()]) == 100


def test_one_client_used_under_one_event_loop_after_another(emu: Emulator) -> None:
    """helper-47 (replicate-python#217): a client kept across `asyncio.run` calls (a Celery task
    or a sync view that runs one per call) raised httpx's `RuntimeError: Event loop is closed`
    on its second call: its pooled connection belonged to the first loop."""
    acct = emu.account(5000)
    c = aclient(emu, acct.api_key)
    balances = [asyncio.run(c.account.retrieve()).balance_cents for _ in range(3)]
    assert balances == [5000] * 3
    job = asyncio.run(c.videos.create(**LAKE))
    assert asyncio.run(c.videos.retrieve(job.id)).id == job.id

    # Loops running at once in threads (a threaded server's sync views) each get their own pool.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: asyncio.run(c.videos.retrieve(job.id)).id, range(8)))
    assert got == [job.id] * 8
    asyncio.run(c.aclose())


async def test_endpoints(emu: Emulator) -> None:
    acct = emu.account(5000)
    async with aclient(emu, acct.api_key) as c:
        assert (await c.pricing.retrieve()).estimate("2k", 10) == 360
        job = await c.videos.create(**LAKE)
        assert job.status == "pending" and job.estimated_cost_cents == 120
        assert (await c.videos.retrieve(job.id)).id == job.id
        second = await c.videos.create(prompt="another", mode="text_to_video")
        page = await c.videos.list(limit=1, offset=1)
        assert [j.id for j in page] == [job.id] and page.total == 2
        assert [j.id async for j in c.videos.list_all()] == [second.id, job.id]
        deleted = await c.videos.delete(second.id)
        assert deleted.refunded_cents == 30
        account = await c.account.retrieve()
        assert (account.balance_cents, account.total_jobs) == (5000 - 120, 2)
        key = await c.api_keys.create(jwt=acct.jwt)
        assert key.key.startswith("sd_")
    assert c._http.is_closed


async def test_error_classes(emu: Emulator) -> None:
    poor = emu.account(10)
    async with aclient(emu, "sd_not_a_real_key_0000") as bad:
        with pytest.raises(usvideo.AuthenticationError):
            await bad.account.retrieve()
    async with aclient(emu, poor.api_key, max_retries=0) as c:
        with pytest.raises(usvideo.InsufficientBalanceError):
            await c.videos.create(**LAKE)
        with pytest.raises(usvideo.NotFoundError):
            await c.videos.retrieve("job_nope")
        with pytest.raises(TypeError, match="durration"):
            await c.videos.create(prompt="x", mode="text_to_video", durration=5)  # type: ignore[call-arg]
        emu.fault({"method": "GET", "path": "/v1/account", "status": 500, "times": 1})
        with pytest.raises(usvideo.InternalServerError):
            await c.account.retrieve()
    rich = emu.account(5000)
    async with aclient(emu, rich.api_key, max_retries=0) as c:
        job = await c.videos.create(**LAKE)
        emu.advance(6_000)
        with pytest.raises(usvideo.ConflictError):
            await c.videos.delete(job.id)
    limited = emu.account(5000, plan="enterprise", requests_per_minute=1, concurrent_jobs=10)
    async with aclient(emu, limited.api_key, max_retries=0) as c:
        await c.account.retrieve()
        with pytest.raises(usvideo.RateLimitError) as rl:
            await c.account.retrieve()
        assert rl.value.retry_after is not None
    async with usvideo.AsyncClient(api_key="sd_test_key_0001", base_url="http://127.0.0.1:9/v1", max_retries=0) as c:
        with pytest.raises(usvideo.APIConnectionError):
            await c.account.retrieve()


@pytest.mark.parametrize("client_each", [False, True], ids=["one_client", "a_client_each"])
async def test_identical_creates_whose_answers_were_lost_each_get_their_own_job(emu: Emulator, client_each: bool) -> None:
    # `a_client_each`: a server that makes a client per request; the key's clients share its
    # claims, so a lost answer's create does not adopt the job another client's create made.
    acct = emu.account(5000)
    same = dict(LAKE, duration=1)
    async with aclient(emu, acct.api_key, requests_per_minute=0) as c:
        earlier = await c.videos.create(**same)
        emu.fault({"method": "POST", "path": "/v1/videos", "drop": "after", "times": 3})

        async def one() -> usvideo.Job:
            if not client_each:
                return await c.videos.create(**same)
            async with aclient(emu, acct.api_key, requests_per_minute=0) as own:
                return await own.videos.create(**same)

        jobs = await asyncio.gather(*(one() for _ in range(6)))
    ids = {earlier.id, *(j.id for j in jobs)}
    assert len(ids) == 7, ids
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 7


async def test_identical_create_and_waits_one_502_two_answers_lost_get_a_job_each(fast_emu: Emulator) -> None:
    # The 502 made no job: its call may adopt another's from the list, and gives it up when that
    # call's own create (sent again under its key) names it (core: JobRun rule 7).
    acct = fast_emu.account(5000)
    same = dict(LAKE, duration=1)
    fast_emu.fault({"method": "POST", "path": "/v1/videos", "status": 502}, {"method": "POST", "path": "/v1/videos", "drop": "after", "times": 2})
    async with aclient(fast_emu, acct.api_key, requests_per_minute=0) as c:
        jobs = await asyncio.gather(*(c.videos.create_and_wait(**same, poll=FAST_POLL, timeout=60) for _ in range(3)))
    assert len({j.id for j in jobs}) == 3, [j.id for j in jobs]
    entry = ledger_entry(fast_emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 3


#: Polls a frozen emulator's job often: a test sees it soon after its clock moves.
QUICK: usvideo.PollPolicy = {"first_poll_ms": 50, "min_interval_ms": 50, "max_interval_ms": 100}


async def soon(condition: Callable[[], bool]) -> None:
    """Until ``condition()`` holds, 5 s at most (the test's own checks say what went wrong)."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)


async def test_two_live_calls_given_one_idempotency_key_share_its_job_and_a_cancel_leaves_it_to_the_other(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    # A double submit (helper-40, in npm): both calls get the job the first create made (the
    # service's replay); cancelling one used to delete it under the other (core: JobRun rule 9).
    acct = emu.account(5000)
    caplog.set_level(logging.DEBUG, logger="usvideo")
    async with aclient(emu, acct.api_key) as c:
        polled: List[str] = []
        tasks = [
            asyncio.ensure_future(c.videos.create_and_wait(**LAKE, idempotency_key="double-submit-1", poll=QUICK, timeout=120, cancel=True, on_progress=lambda p: polled.append(p.job_id)))
            for _ in range(2)
        ]
        await soon(lambda: len(polled) >= 2 or any(t.done() for t in tasks))
        for i, task in enumerate(tasks):
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            entry = ledger_entry(emu, acct.email)
            assert entry is not None and entry["jobs_created"] == 1, entry
            # The first cancelled leaves the job to the other; the last one deletes it.
            assert entry["active_jobs"] == (1 if i == 0 else 0), (i, entry)
    assert len(set(polled)) == 1, polled
    assert "another call of this client waits for it" in caplog.text
    # The second call's job is the service's replay of the first's create, not an adoption from
    # the job list (helper-43: every replay warned so).
    assert "took it from the job list" not in caplog.text


async def test_a_cancel_that_leaves_a_processing_job_says_so_in_a_warning(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    # A processing job cannot be deleted: it goes on and is charged if it completes. The caller
    # gets its CancelledError; the log said so only at DEBUG (helper-43). Now a warning names it.
    acct = emu.account(5000)
    caplog.set_level(logging.INFO, logger="usvideo")
    async with aclient(emu, acct.api_key) as c:
        seen: List[str] = []
        task = asyncio.ensure_future(c.videos.create_and_wait(**LAKE, poll=QUICK, timeout=120, cancel=True, on_progress=lambda p: seen.append(p.status)))
        await soon(lambda: bool(seen))
        emu.advance(6_000)  # past the queue (1 to 5 s): processing
        await soon(lambda: "processing" in seen)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        job = [j async for j in c.videos.list_all()][0]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "already processing and goes on" in r.getMessage()]
    assert len(warned) == 1 and job.id in warned[0], caplog.text


async def test_a_cancel_seconds_after_the_create_looks_first_and_keeps_a_finished_video(emu: Emulator) -> None:
    # helper-52: against a service faster than the model of generation times, a cancel 3 s after
    # the create deleted the completed, charged video unseen (its pending sighting counted as
    # fresh for a fifth of the expected time). A sighting is fresh for a second now (job rule 8).
    acct = emu.account(5000)
    async with aclient(emu, acct.api_key) as c:
        seen: List[str] = []
        task = asyncio.ensure_future(c.videos.create_and_wait(**LAKE, timeout=120, on_progress=lambda p: seen.append(p.status)))
        await soon(lambda: bool(seen))
        emu.advance(600_000)  # the job completes long before the model's first poll
        await asyncio.sleep(1.3)  # past a second's freshness, within the old fifth (at least 2 s)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        jobs = [j async for j in c.videos.list_all()]
        assert seen == ["pending"] and [j.status for j in jobs] == ["completed"] and jobs[0].video_url
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["refunded_cents"] == 0 and entry["balance_cents"] == 5000 - 120


async def test_faults(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    acct = emu.account(5000)
    caplog.set_level(logging.DEBUG, logger="usvideo")
    emu.fault(
        {"method": "GET", "path": "/v1/account", "status": 502, "times": 1},
        {"method": "POST", "path": "/v1/videos", "drop": "after"},
    )
    async with aclient(emu, acct.api_key) as c:
        assert (await c.account.retrieve()).balance_cents == 5000
        job = await c.videos.create(**LAKE)
        assert [j.id async for j in c.videos.list_all()] == [job.id]
        account = await c.account.retrieve()
    assert (account.total_jobs, account.balance_cents) == (1, 5000 - 120)
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("retry 1") for m in messages) and any("reconcil" in m for m in messages)
    assert acct.api_key not in caplog.text


async def test_a_calls_timeout_bounds_it_whole(emu: Emulator) -> None:
    # The sync client's tests cover the rest; these are the async driver's three ways to end.
    acct = emu.account(4321, plan="enterprise", requests_per_minute=1000, concurrent_jobs=10)
    emu.fault({"method": "GET", "path": "/v1/account", "delay_ms": 3000, "times": 5})
    async with aclient(emu, acct.api_key, timeout=2) as c:
        started = asyncio.get_running_loop().time()
        with pytest.raises(usvideo.APITimeoutError):
            await c.account.retrieve(timeout=0.4)
        assert asyncio.get_running_loop().time() - started < 1.9  # not even one of the client's attempts
    emu.clear_faults()
    emu.fault({"method": "GET", "path": "/v1/account", "status": 429, "retry_after": 5, "times": 1})
    async with aclient(emu, acct.api_key) as c:
        with pytest.raises(usvideo.RateLimitError) as info:
            await c.account.retrieve(timeout=1)
        assert info.value.retry_after == 5
    # Another key: the 429 above pauses every call on its own for 5 s.
    other = emu.account(4321, plan="enterprise", requests_per_minute=1000, concurrent_jobs=10)
    async with aclient(emu, other.api_key, requests_per_minute=1) as c:
        await c.videos.list(timeout=5)  # the minute's one slot
        with pytest.raises(usvideo.APIConnectionError) as sent:
            await c.videos.retrieve("job_123", timeout=0.3)
        assert "not sent" in str(sent.value)
        with pytest.raises(usvideo.ValidationError) as bad:
            await c.videos.create(**LAKE, timeout=0)
        assert (bad.value.field, bad.value.code) == ("timeout", "out_of_range")


async def test_create_and_wait_and_download(fast_emu: Emulator, tmp_path: Path) -> None:
    acct = fast_emu.account(5000)
    seen: List[usvideo.Progress] = []
    async with aclient(fast_emu, acct.api_key) as c:
        job = await c.videos.create_and_wait(**LAKE, on_progress=seen.append, poll=FAST_POLL, timeout=60)
        assert job.status == "completed" and job.cost_cents == 120 and seen[-1].percent == 100
        size = await c.videos.download(job, tmp_path / "v.mp4")
        assert size == (tmp_path / "v.mp4").stat().st_size > 0
        again = await c.videos.wait(job.id, poll=FAST_POLL)
        assert again.status == "completed"


async def test_a_waits_deadline_holds_while_the_rate_limit_is_spent(emu: Emulator) -> None:
    acct = emu.account(5000)
    async with aclient(emu, acct.api_key, requests_per_minute=2) as c:
        job = await c.videos.create(**LAKE)
        await c.account.retrieve()  # the minute's budget is spent
        started = asyncio.get_running_loop().time()
        with pytest.raises(usvideo.WaitTimeoutError) as info:
            await c.videos.wait(job.id, timeout=0.3)
        assert asyncio.get_running_loop().time() - started < 5
        # The poll was never sent, and the error says why (the core's words, `handle_not_sent`).
        assert "not sent: no slot of the client's rate limit" in str(info.value)


async def test_wait_timeout_and_cancel(emu: Emulator) -> None:
    acct = emu.account(5000)
    async with aclient(emu, acct.api_key) as c:
        kept = await c.videos.create(**LAKE)
        with pytest.raises(usvideo.WaitTimeoutError) as info:
            await c.videos.wait(kept.id, timeout=0.3)
        assert info.value.job_id == kept.id
        assert (await c.videos.retrieve(kept.id)).status == "pending"
        dropped = await c.videos.create(**LAKE)
        with pytest.raises(usvideo.WaitTimeoutError):
            await c.videos.wait(dropped.id, timeout=0.3, cancel=True)
        with pytest.raises(usvideo.NotFoundError):
            await c.videos.retrieve(dropped.id)
        assert (await c.account.retrieve()).balance_cents == 5000 - 120


async def test_task_cancellation_stops_a_wait(emu: Emulator) -> None:
    acct = emu.account()
    async with aclient(emu, acct.api_key) as c:
        job = await c.videos.create(**LAKE)
        task = asyncio.ensure_future(c.videos.wait(job.id, timeout=120))
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await c.videos.retrieve(job.id)).status == "pending"


async def test_job_failed(fast_emu: Emulator) -> None:
    acct = fast_emu.account(5000)
    fast_emu.fault({"fail_job": True, "message": "no"})
    async with aclient(fast_emu, acct.api_key) as c:
        with pytest.raises(usvideo.JobFailedError):
            await c.videos.create_and_wait(**LAKE, poll=FAST_POLL)


async def test_an_async_progress_callback_is_awaited_and_the_sync_client_refuses_one(fast_emu: Emulator) -> None:
    acct = fast_emu.account(5000)
    seen: List[int] = []

    async def on_progress(p: usvideo.Progress) -> None:
        await asyncio.sleep(0)
        seen.append(p.percent)

    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=fast_emu.api_base) as c:
        job = await c.videos.create_and_wait(**LAKE, on_progress=on_progress, poll=FAST_POLL, timeout=60)
        assert job.status == "completed" and seen and seen[-1] == 100, seen
        batch_seen: List[int] = []

        async def on_batch(p: usvideo.BatchProgress) -> None:
            batch_seen.append(p.done)

        items = [i async for i in c.videos.batch([LAKE], on_progress=on_batch, poll_interval=0.05, expected_scale=1 / 200)]
        assert items[0].ok and batch_seen, batch_seen
    # The sync client cannot await it: it says so before anything is sent (no job is made), rather
    # than drop it unrun. A callback that returns a Task (fire and forget) is not awaited.
    with usvideo.Client(api_key=acct.api_key, base_url=fast_emu.api_base) as s:
        made = len(s.videos.list().data)
        with pytest.raises(TypeError, match="coroutine function"):
            s.videos.create_and_wait(**LAKE, on_progress=on_progress, poll=FAST_POLL, timeout=60)
        with pytest.raises(TypeError, match="coroutine function"):
            s.videos.batch([LAKE], on_progress=on_batch)
        assert len(s.videos.list().data) == made, "nothing was created"
    started: List[asyncio.Task[None]] = []
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()

    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=fast_emu.api_base) as c:
        job = await c.videos.create_and_wait(**LAKE, on_progress=lambda p: started.append(asyncio.ensure_future(slow())), poll=FAST_POLL, timeout=60)
        assert job.status == "completed" and started and not any(t.done() for t in started)
    gate.set()
    await asyncio.gather(*started)
