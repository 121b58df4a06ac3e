"""Ctrl-C (and task cancellation) during a wait with ``cancel=True`` deletes the pending job before
re-raising, within a bounded time; the API key and JWT never show in traceback locals or logs."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import threading
import time
import traceback
from typing import Any, List

import httpx
import pytest

import usvideo
from conftest import Emulator, ledger_entry

REQ = {"prompt": "a lighthouse in a storm", "mode": "text_to_video", "resolution": "720p", "duration": 2}
QUICK = {"first_poll_ms": 50, "min_interval_ms": 50, "max_interval_ms": 100}
interrupted_at: List[float] = []


def _interrupt(_p: usvideo.Progress) -> None:
    """Ctrl-C as the wait sees it: a KeyboardInterrupt raised in the middle of it."""
    interrupted_at.append(time.monotonic())
    raise KeyboardInterrupt


def test_keyboard_interrupt_with_cancel_deletes_the_pending_job(emu: Emulator) -> None:
    acct = emu.account(balance_cents=1_000)
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        with pytest.raises(KeyboardInterrupt):
            client.videos.create_and_wait(**REQ, cancel=True, on_progress=_interrupt, poll=QUICK)
        assert client.videos.list().data == ()
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row


def test_keyboard_interrupt_without_cancel_leaves_the_job(emu: Emulator) -> None:
    acct = emu.account(balance_cents=1_000)
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        job = client.videos.create(**REQ)
        with pytest.raises(KeyboardInterrupt):
            client.videos.wait(job.id, on_progress=_interrupt, poll=QUICK)
        assert [j.id for j in client.videos.list().data] == [job.id]


def test_the_clean_up_is_bounded_when_the_server_hangs(emu: Emulator) -> None:
    acct = emu.account(balance_cents=1_000)
    emu.fault({"method": "DELETE", "path": "/v1/videos/*", "delay_ms": 20_000})
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        with pytest.raises(KeyboardInterrupt):
            client.videos.create_and_wait(**REQ, cancel=True, on_progress=_interrupt, poll=QUICK)
        took = time.monotonic() - interrupted_at[-1]
        assert 2.5 < took < 4.0, took


def _refunded_within(emu: Emulator, email: str, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        row = ledger_entry(emu, email)
        if (row is not None and row["balance_cents"] == 1_000) or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def test_a_clean_up_held_past_the_callers_wait_goes_on_in_the_background(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    """The delete meets a 429 whose Retry-After (5 s) outlasts the caller's wait for the clean-up
    (3 s): the caller gets its KeyboardInterrupt, the client is closed, and the delete is still
    sent when the pause is over (helper-38: it was given up, and 40 of 40 such jobs were charged)."""
    acct = emu.account(balance_cents=1_000)
    emu.fault({"method": "DELETE", "path": "/v1/videos/*", "status": 429, "retry_after": 5, "times": 1})
    with caplog.at_level(logging.WARNING, logger="usvideo"):
        with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
            with pytest.raises(KeyboardInterrupt):
                client.videos.create_and_wait(**REQ, cancel=True, on_progress=_interrupt, poll=QUICK)
        assert any("goes on in the background" in r.getMessage() for r in caplog.records), caplog.text
    row = _refunded_within(emu, acct.email, 20)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row


def test_a_delete_held_by_the_rate_limit_past_its_sighting_looks_first_and_leaves_a_job_that_completed(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    """helper-44: deletes held about a minute by a spent budget's wait for a slot went out on a
    stale sighting and removed finished videos (13 of 30, charged). Here another call's 429 pauses
    the key's limiter 4 s as the wait is interrupted, and the job completes meanwhile: the delete
    is not sent past its sighting's freshness (at most 1 s), the job is looked at again, and left alone."""
    acct = emu.account(balance_cents=1_000)
    emu.fault({"method": "GET", "path": "/v1/account", "status": 429, "retry_after": 4, "times": 1})
    poll = {**QUICK, "expected_scale": 0.01}
    seen: List[str] = []
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client, usvideo.Client(api_key=acct.api_key, base_url=emu.api_base, max_retries=0) as other:

        def pause_then_interrupt(p: usvideo.Progress) -> None:
            seen.append(p.job_id)
            with pytest.raises(usvideo.RateLimitError):
                other.account.retrieve()  # the key's limiter now waits 4 s
            emu.advance(600_000)  # the job completes during the pause
            raise KeyboardInterrupt

        with caplog.at_level(logging.INFO, logger="usvideo"):
            with pytest.raises(KeyboardInterrupt):
                client.videos.create_and_wait(**REQ, cancel=True, on_progress=pause_then_interrupt, poll=poll)
            deadline = time.monotonic() + 15
            while "had ended (completed)" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.1)
        assert "had ended (completed)" in caplog.text, caplog.text
        job = other.videos.retrieve(seen[0])
    assert job.status == "completed" and job.video_url, job
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1, row


def test_a_timed_out_waits_delete_held_past_the_callers_wait_goes_on_in_the_background(emu: Emulator) -> None:
    """A wait with ``cancel=True`` times out; its delete meets a 429 whose Retry-After (12 s)
    outlasts the 10 s the core gave a timed-out wait's delete (it was given up, the job charged):
    the caller gets its WaitTimeoutError within its 3 s, saying the delete goes on, and the job is
    refunded when the pause is over."""
    acct = emu.account(balance_cents=1_000)
    emu.fault({"method": "DELETE", "path": "/v1/videos/*", "status": 429, "retry_after": 12, "times": 1})
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        started = time.monotonic()
        with pytest.raises(usvideo.WaitTimeoutError) as info:
            client.videos.create_and_wait(**REQ, cancel=True, timeout=0.5, poll=QUICK)
        took = time.monotonic() - started
        assert "goes on in the background" in info.value.message and info.value.job_id, info.value
        assert took < 5, took
    row = _refunded_within(emu, acct.email, 25)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row


async def test_an_async_timed_out_waits_delete_held_past_the_callers_wait_goes_on_in_the_background(emu: Emulator) -> None:
    acct = emu.account(balance_cents=1_000)
    emu.fault({"method": "DELETE", "path": "/v1/videos/*", "status": 429, "retry_after": 12, "times": 1})
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base) as client:
        with pytest.raises(usvideo.WaitTimeoutError) as info:
            await client.videos.create_and_wait(**REQ, cancel=True, timeout=0.5, poll=QUICK)
        assert "goes on in the background" in info.value.message, info.value
    deadline = time.monotonic() + 25
    while (ledger_entry(emu, acct.email) or {}).get("balance_cents") != 1_000 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row


async def _cancel_once_created(emu: Emulator, email: str, call: Any) -> None:
    """Runs ``call`` (a create-and-wait) as a task, cancels it once its job exists, and sees the
    task end cancelled."""
    task = asyncio.ensure_future(call)
    deadline = time.monotonic() + 20
    while (ledger_entry(emu, email) or {}).get("jobs_created", 0) == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_async_clean_up_held_past_the_callers_wait_goes_on_in_the_background(emu: Emulator) -> None:
    acct = emu.account(balance_cents=1_000)
    emu.fault({"method": "DELETE", "path": "/v1/videos/*", "status": 429, "retry_after": 5, "times": 1})
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base) as client:
        await _cancel_once_created(emu, acct.email, client.videos.create_and_wait(**REQ, cancel=True, timeout=60, poll=QUICK))
    # The client is closed; the loop runs on: the delete goes out when the pause is over.
    deadline = time.monotonic() + 20
    while (ledger_entry(emu, acct.email) or {}).get("balance_cents") != 1_000 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row


class _InterruptAfterCreate(httpx.BaseTransport):
    """Ctrl-C as a plain create sees it once the service has made its job: its answer is read
    here, then a KeyboardInterrupt is raised in place of handing it over."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            response.read()
            response.close()
            raise KeyboardInterrupt
        return response


class _HoldAfterCreate(httpx.AsyncBaseTransport):
    """A create's answer held back once the service made its job, for the task to be cancelled."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.made = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            await response.aread()
            self.made.set()
            await asyncio.sleep(30)
        return response


def _told_key(caplog: pytest.LogCaptureFixture, exc: BaseException) -> str:
    """The idempotency key the interrupted create's warning (and the exception's note) gives."""
    told = [r.getMessage() for r in caplog.records if "idempotency_key=" in r.getMessage()]
    assert len(told) == 1, caplog.text
    if sys.version_info >= (3, 11):
        assert getattr(exc, "__notes__", None) == [told[0]], getattr(exc, "__notes__", None)
    return told[0].split("idempotency_key='", 1)[1].split("'", 1)[0]


def test_a_create_interrupted_after_it_was_sent_says_the_key_that_gets_its_job(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    """A plain create interrupted with its request out: its job was made and charged, and only
    its idempotency key gets it back (no clean-up runs for a plain create)."""
    acct = emu.account(balance_cents=1_000)
    with caplog.at_level(logging.WARNING, logger="usvideo"):
        with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base, http_client=httpx.Client(transport=_InterruptAfterCreate())) as client:
            with pytest.raises(KeyboardInterrupt) as info:
                client.videos.create(**REQ)
    key = _told_key(caplog, info.value)
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        again = client.videos.create(**REQ, idempotency_key=key)
        assert [j.id for j in client.videos.list().data] == [again.id]
        # A create_and_wait interrupted once its job is named leaves it, as documented: no warning.
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="usvideo"), pytest.raises(KeyboardInterrupt):
            client.videos.create_and_wait(**REQ, on_progress=_interrupt, poll=QUICK)
        assert "idempotency_key=" not in caplog.text, caplog.text
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 2, row


async def test_an_async_create_cancelled_after_it_was_sent_says_the_key_that_gets_its_job(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    acct = emu.account(balance_cents=1_000)
    hold = _HoldAfterCreate()
    with caplog.at_level(logging.WARNING, logger="usvideo"):
        async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base, http_client=httpx.AsyncClient(transport=hold)) as client:
            task = asyncio.ensure_future(client.videos.create(**REQ))
            await asyncio.wait_for(hold.made.wait(), 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as info:
                await task
    key = _told_key(caplog, info.value)
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base) as client:
        again = await client.videos.create(**REQ, idempotency_key=key)
        assert [j.id for j in (await client.videos.list()).data] == [again.id]
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1, row


def _jobs_made(emu: Emulator, email: str, n: int = 1) -> None:
    deadline = time.monotonic() + 20
    while (ledger_entry(emu, email) or {}).get("jobs_created", 0) < n:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_closing_the_client_during_another_threads_wait_deletes_its_job_and_says_usage_error(emu: Emulator) -> None:
    """helper-76: close() from another thread during a cancel=True wait: httpx's bare RuntimeError
    escaped, and the wait's delete met the closed transport (its job charged)."""
    acct = emu.account(balance_cents=1_000)
    client = usvideo.Client(api_key=acct.api_key, base_url=emu.api_base)
    got: List[BaseException] = []

    def wait() -> None:
        try:
            client.videos.create_and_wait(**REQ, cancel=True, poll=QUICK)
        except BaseException as e:  # noqa: BLE001 (the test reads what it was)
            got.append(e)

    worker = threading.Thread(target=wait)
    worker.start()
    _jobs_made(emu, acct.email)
    time.sleep(0.2)
    client.close()
    worker.join(10)
    assert not worker.is_alive()
    assert len(got) == 1 and isinstance(got[0], usvideo.UsageError) and "closed during the call" in str(got[0]), got
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row
    assert client._http.is_closed, "the last call closed the connections"


async def test_closing_an_async_client_during_a_wait_deletes_its_job_and_opens_no_new_pool(emu: Emulator) -> None:
    """helper-76: after aclose(), a wait under way went on in a new pool that nothing closed."""
    acct = emu.account(balance_cents=1_000)
    client = usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base)
    task = asyncio.ensure_future(client.videos.create_and_wait(**REQ, cancel=True, poll=QUICK))
    deadline = time.monotonic() + 20
    while (ledger_entry(emu, acct.email) or {}).get("jobs_created", 0) == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    await client.aclose()
    with pytest.raises(usvideo.UsageError, match="closed during the call"):
        await asyncio.wait_for(task, 10)
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row
    assert client._pools == {}, "no pool made after the close, and the last call closed its own"


CHILD = r"""
import sys, usvideo
client = usvideo.Client(api_key=sys.argv[2], base_url=sys.argv[1])
try:
    client.videos.create_and_wait(prompt="a fox", mode="text_to_video", cancel=True, timeout=60)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def test_sigint_in_a_real_process_deletes_the_pending_job(emu: Emulator) -> None:
    """A real Ctrl-C (SIGINT) while the wait sleeps between polls."""
    acct = emu.account(balance_cents=1_000)
    child = subprocess.Popen([sys.executable, "-c", CHILD, emu.api_base, acct.api_key], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while (ledger_entry(emu, acct.email) or {}).get("jobs_created", 0) == 0:
            assert time.monotonic() < deadline and child.poll() is None, child.communicate()
            time.sleep(0.05)
        time.sleep(0.3)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
        assert time.monotonic() - sent < 5.0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130 and "interrupted" in out, (child.returncode, out, err)
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["jobs_created"] == 1 and row["balance_cents"] == 1_000, row


async def test_task_cancellation_with_cancel_deletes_the_pending_job(emu: Emulator) -> None:
    acct = emu.account(balance_cents=1_000)
    async with usvideo.AsyncClient(api_key=acct.api_key, base_url=emu.api_base) as client:
        await _cancel_once_created(emu, acct.email, client.videos.create_and_wait(**REQ, cancel=True, timeout=60))
        assert (await client.videos.list()).data == ()
    row = ledger_entry(emu, acct.email)
    assert row is not None and row["balance_cents"] == 1_000, row


# ------------------------------------------------------------------ secrets


def _locals_text(exc: BaseException) -> str:
    """Every frame's locals (as ``capture_locals=True`` renders them), except this test file's."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, capture_locals=True)
    out: List[str] = []
    while te is not None:
        for frame in te.stack:
            if frame.filename != __file__:
                out.append(f"{frame.filename}:{frame.name} {frame.locals}")
        te = te.__context__ or te.__cause__  # type: ignore[assignment]
    return "\n".join(out)


class _Boom(Exception):
    pass


def _exploding_transport(_request: httpx.Request) -> httpx.Response:
    raise _Boom("the transport broke")


def test_the_key_is_not_in_traceback_locals_of_an_api_error(emu: Emulator) -> None:
    acct = emu.account(balance_cents=100)
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base) as client:
        with pytest.raises(usvideo.NotFoundError) as info:
            client.videos.retrieve("job_missing")
        with pytest.raises(usvideo.InsufficientBalanceError) as info2:
            client.videos.create_and_wait(prompt="x", mode="text_to_video", resolution="2k", duration=10)
    for exc in (info.value, info2.value):
        text = _locals_text(exc)
        assert "machine" in text, text[:500]
        assert acct.api_key not in text and acct.jwt not in text


def test_the_key_and_jwt_are_not_in_traceback_locals_of_a_transport_failure() -> None:
    key = "sd_live_0123456789abcdefSECRET"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlU0VDUkVU"
    http = httpx.Client(transport=httpx.MockTransport(_exploding_transport))
    with usvideo.Client(api_key=key, base_url="http://127.0.0.1:9/v1", http_client=http) as client:
        for call in (lambda: client.account.retrieve(), lambda: client.api_keys.create(jwt=jwt, name="ci"), lambda: client.videos.create(**REQ)):
            with pytest.raises(_Boom) as info:
                call()
            text = _locals_text(info.value)
            assert "headers" in text, text[:500]
            assert key not in text and jwt not in text, text
            assert "[redacted]" in text
    assert key not in repr(vars(client)) and key not in repr(client)


def test_a_secret_is_the_text_but_never_prints() -> None:
    from usvideo._secret import Secret

    s = Secret("Bearer sd_live_0123456789abcdef")
    assert s == "Bearer sd_live_0123456789abcdef" and s.encode() == b"Bearer sd_live_0123456789abcdef"
    for shown in (repr(s), str(s), f"{s}", "%s" % s, repr([("Authorization", s)]), f"{s:>40}", "{:s}".format(s)):
        assert "sd_live" not in shown, shown


async def test_a_refused_key_or_jwt_is_not_in_traceback_locals() -> None:
    # A key or JWT read from a file with its newline kept is refused; the SDK's frames held the raw
    # text in their locals while the refusal went up (helper-43), and a refused client's repr failed.
    key = "sd_live_0123456789SECRET\n"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJTECRET.SECRETsig\n"
    refusals = []
    for make in (lambda: usvideo.Client(api_key=key, base_url="http://127.0.0.1:9/v1"), lambda: usvideo.AsyncClient(api_key=key, base_url="http://127.0.0.1:9/v1"), lambda: usvideo.Client(api_key=key.encode(), base_url="http://127.0.0.1:9/v1")):  # type: ignore[arg-type]
        with pytest.raises(usvideo.ValidationError) as info:
            make()
        refusals.append(info.value)
    with usvideo.Client(base_url="http://127.0.0.1:9/v1") as client:
        with pytest.raises(usvideo.ValidationError) as info:
            client.api_keys.create(jwt=jwt)
        refusals.append(info.value)
    async with usvideo.AsyncClient(base_url="http://127.0.0.1:9/v1") as aclient:
        with pytest.raises(usvideo.ValidationError) as ainfo:
            await aclient.api_keys.create(jwt=jwt)
        refusals.append(ainfo.value)
    for exc in refusals:
        text = _locals_text(exc)
        assert "SECRET" not in text, text
        # Every frame's locals print, a half-made client's too (pytest --showlocals, Sentry).
        assert "Error" in "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def test_nothing_logged_at_debug_holds_the_key_or_jwt(fast_emu: Emulator, caplog: Any) -> None:
    from conftest import FAST_POLL

    acct = fast_emu.account()
    fast_emu.fault({"method": "GET", "path": "/v1/account", "status": 500}, {"method": "POST", "path": "/v1/videos", "drop": "after"})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        with usvideo.Client(api_key=acct.api_key, base_url=fast_emu.api_base) as client:
            client.account.retrieve()
            job = client.videos.create_and_wait(**REQ, poll=FAST_POLL)
            client.api_keys.create(jwt=acct.jwt, name="ci")
            client.videos.download(job, "/dev/null")
            with pytest.raises(usvideo.NotFoundError):
                client.videos.retrieve("job_missing")
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "usvideo" in text and "httpx" in text, text[:300]
    assert acct.api_key not in text and acct.jwt not in text
