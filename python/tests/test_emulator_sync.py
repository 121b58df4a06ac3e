"""The sync client against the emulator binary: every endpoint, every error class, faults, waits,
cancellation, download and redaction."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, List

import httpx
import pytest

import usvideo
from usvideo._base import now_ms
from conftest import FAST_POLL, Emulator, bare_page, ledger_entry


def client(emu: Emulator, key: str, **kw: Any) -> usvideo.Client:
    return usvideo.Client(api_key=key, base_url=emu.api_base, **kw)


LAKE = dict(prompt="A drone shot over a misty mountain lake at sunrise", mode="text_to_video", resolution="1080p", duration=5)


# ------------------------------------------------------------------ endpoints


def test_pricing_needs_no_key(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USVIDEO_API_KEY", raising=False)
    with usvideo.Client(base_url=emu.api_base) as c:
        table = c.pricing.retrieve()
        assert table.estimate("1080p", 5) == 120 == usvideo.estimate_cost(resolution="1080p", duration=5)
        assert str(table.per_second["1080p"]) == "0.24"
        # No key: sent without `Authorization` (the emulator stands for a proxy that should add it).
        with pytest.raises(usvideo.AuthenticationError) as auth:
            c.account.retrieve()
        assert "missing or malformed Authorization" in str(auth.value) and "no API key was sent: this client has none" in str(auth.value)
    # The key added beneath the client (a proxy would; here httpx's own headers): it works.
    acct = emu.account(5000)
    with httpx.Client(headers={"Authorization": f"Bearer {acct.api_key}"}) as http:
        with usvideo.Client(base_url=emu.api_base, http_client=http) as c:
            job = c.videos.create(prompt="through a proxy", mode="text_to_video", resolution="720p", duration=1)
            assert c.videos.retrieve(job.id).id == job.id
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 1
    # To the service itself, a keyless call that needs a key is refused before it is sent.
    with usvideo.Client(base_url="https://usvideoapi.com/v1") as c:
        with pytest.raises(usvideo.ValidationError) as info:
            c.videos.retrieve("job_1")
        assert (info.value.field, info.value.code) == ("api_key", "required")


def test_list_all_walks_bare_array_pages(emu: Emulator) -> None:
    # A bare array as long as the asked limit may have more after it; the short one is the last.
    acct = emu.account(5000)
    emu.fault(bare_page(0, 100), bare_page(100, 7))
    with client(emu, acct.api_key) as c:
        ids = [j.id for j in c.videos.list_all()]
        assert len(ids) == 107 and ids[-1] == "job_106"
        # Jobs created during the walk push the first page's last three onto the next: once each.
        emu.fault(bare_page(0, 100), bare_page(97, 10))
        ids = [j.id for j in c.videos.list_all()]
        assert (len(ids), len(set(ids)), ids[-1]) == (107, 107, "job_106")
        emu.fault(bare_page(0, 3))
        page = c.videos.list(limit=3, offset=30)
        assert (page.limit, page.offset, page.has_more) == (3, 30, True)
        # A server that ignores `offset` answers every page alike: the walk ends at the repeat.
        emu.fault({**bare_page(0, 100), "times": 10})
        assert len(list(c.videos.list_all())) == 100


def test_env_configuration(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    acct = emu.account(1234)
    monkeypatch.setenv("USVIDEO_API_KEY", acct.api_key)
    monkeypatch.setenv("USVIDEO_BASE_URL", emu.api_base)
    with usvideo.Client() as c:
        assert c.base_url == emu.api_base
        a = c.account.retrieve()
    assert (a.email, a.balance_cents, a.total_jobs, a.plan) == (acct.email, 1234, 0, "standard")
    assert a.to_dict()["balance_cents"] == 1234


def test_create_retrieve_list_delete(emu: Emulator) -> None:
    acct = emu.account(5000)
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        assert (job.status, job.resolution, job.duration, job.estimated_cost_cents) == ("pending", "1080p", 5, 120)
        assert c.videos.retrieve(job.id).id == job.id
        others = [c.videos.create(prompt=f"shot {i}", mode="text_to_video") for i in range(2)]
        page = c.videos.list(limit=2)
        assert [j.id for j in page.data] == [others[1].id, others[0].id] and page.has_more
        assert [j.id for j in c.videos.list_all()] == [others[1].id, others[0].id, job.id]
        assert c.account.retrieve().balance_cents == 5000 - 120 - 30 - 30
        deleted = c.videos.delete(job.id)
        assert (deleted.id, deleted.deleted, deleted.refunded_cents) == (job.id, True, 120)
        assert c.account.retrieve().balance_cents == 5000 - 60
        with pytest.raises(usvideo.NotFoundError) as info:
            c.videos.retrieve(job.id)
        assert info.value.status == 404 and info.value.request_id


def test_loose_dict_input_and_unknown_field(emu: Emulator) -> None:
    acct = emu.account()
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**{"prompt": "a lake", "mode": "image_to_video", "image_url": "https://example.com/a.png", "seed": 7})
        assert job.mode == "image_to_video"
        # A misspelt keyword is Python's own TypeError (and mypy's error: tests/typing_misuse.py),
        # raised before anything is sent; values from untyped code go to the core's checks.
        with pytest.raises(TypeError, match="resolutoin"):
            c.videos.create(prompt="a lake", mode="text_to_video", resolutoin="1080p")  # type: ignore[call-arg]
        with pytest.raises(usvideo.ValidationError) as info:
            c.videos.create(**{"prompt": None, "mode": "text_to_vidoe", "resolution": 1080})
        assert {(i.field, i.code) for i in info.value.issues} == {("prompt", "required"), ("mode", "invalid_choice"), ("resolution", "invalid_type")}, info.value.issues
        with pytest.raises(usvideo.ValidationError) as info:
            c.videos.create(prompt=" ", mode="reference", duration=11, seed=-1)
        assert {(i.field, i.code) for i in info.value.issues} == {("prompt", "blank"), ("duration", "out_of_range"), ("seed", "out_of_range"), ("reference_url", "required")}
        assert c.account.retrieve().total_jobs == 1  # nothing was sent for the refused ones


def test_api_keys_with_jwt(emu: Emulator) -> None:
    acct = emu.account(777)
    with usvideo.Client(base_url=emu.api_base) as c:
        created = c.api_keys.create(jwt=acct.jwt, name="ci")
        assert created.key.startswith("sd_") and created.name == "ci"
        assert created.key not in repr(created)
        with pytest.raises(usvideo.ValidationError):
            c.api_keys.create(jwt=acct.api_key)  # an API key is not a JWT
        with pytest.raises(usvideo.AuthenticationError):
            c.api_keys.create(jwt="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.bm9wZQ")
    with client(emu, created.key) as c2:
        assert c2.account.retrieve().balance_cents == 777


# ------------------------------------------------------------------ error classes


def test_authentication_error(emu: Emulator) -> None:
    with client(emu, "sd_not_a_real_key_0000") as c:
        with pytest.raises(usvideo.AuthenticationError) as info:
            c.account.retrieve()
    assert info.value.status == 401


def test_insufficient_balance(emu: Emulator) -> None:
    acct = emu.account(100)
    with client(emu, acct.api_key) as c:
        with pytest.raises(usvideo.InsufficientBalanceError) as info:
            c.videos.create(**LAKE)
        assert info.value.status == 402
        assert c.account.retrieve().total_jobs == 0


def test_conflict_deleting_a_processing_job(emu: Emulator) -> None:
    acct = emu.account()
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        emu.advance(6_000)  # past the queue (1 to 5 s): processing
        assert c.videos.retrieve(job.id).status == "processing"
        with pytest.raises(usvideo.ConflictError) as info:
            c.videos.delete(job.id)
        assert info.value.status == 409


def test_rate_limit_error_with_retry_after(emu: Emulator) -> None:
    acct = emu.account(5000, plan="enterprise", requests_per_minute=2, concurrent_jobs=10)
    with client(emu, acct.api_key, max_retries=0) as c:
        c.account.retrieve()
        c.account.retrieve()
        with pytest.raises(usvideo.RateLimitError) as info:
            c.account.retrieve()
    assert info.value.status == 429 and info.value.retry_after is not None and info.value.retry_after >= 1


def test_concurrency_limit(emu: Emulator) -> None:
    acct = emu.account(5000, plan="enterprise", requests_per_minute=1000, concurrent_jobs=2)
    with client(emu, acct.api_key, max_retries=0) as c:
        c.videos.create(prompt="one", mode="text_to_video")
        c.videos.create(prompt="two", mode="text_to_video")
        with pytest.raises(usvideo.RateLimitError) as info:
            c.videos.create(prompt="three", mode="text_to_video")
        assert info.value.code == "concurrency_limit" and info.value.retry_after
        # About job slots, not the request rate: the client's other calls are not paused for the
        # 429's Retry-After (they were, for a limiter that never saw the body).
        t = now_ms()
        assert c._limiter.next_free(t) <= t
        assert c.account.retrieve().total_jobs == 2


@pytest.mark.parametrize(
    "status,cls",
    [(400, usvideo.BadRequestError), (500, usvideo.InternalServerError), (502, usvideo.UpstreamError), (503, usvideo.APIStatusError), (418, usvideo.APIStatusError)],
)
def test_status_classes_from_faults(emu: Emulator, status: int, cls: type) -> None:
    acct = emu.account()
    emu.fault({"method": "GET", "path": "/v1/account", "status": status, "times": 10, "body": {"error": {"code": f"c{status}", "message": "injected"}}})
    with client(emu, acct.api_key, max_retries=0) as c:
        with pytest.raises(cls) as info:
            c.account.retrieve()
    assert type(info.value) is cls and info.value.status == status and info.value.code == f"c{status}"


def test_html_error_body_keeps_the_status(emu: Emulator) -> None:
    acct = emu.account()
    emu.fault({"method": "GET", "path": "/v1/account", "status": 502, "times": 10, "body": "<html><body>Bad gateway</body></html>", "content_type": "text/html"})
    with client(emu, acct.api_key, max_retries=0) as c:
        with pytest.raises(usvideo.UpstreamError) as info:
            c.account.retrieve()
    assert info.value.status == 502 and "<html>" not in info.value.message


def test_connection_error() -> None:
    with usvideo.Client(api_key="sd_test_key_0001", base_url="http://127.0.0.1:9/v1", max_retries=0) as c:
        with pytest.raises(usvideo.APIConnectionError) as info:
            c.account.retrieve()
    assert type(info.value) is usvideo.APIConnectionError


def test_timeout_error(emu: Emulator) -> None:
    acct = emu.account()
    emu.fault({"method": "GET", "path": "/v1/account", "delay_ms": 3000, "times": 5})
    with client(emu, acct.api_key, max_retries=0, timeout=0.2) as c:
        with pytest.raises(usvideo.APITimeoutError):
            c.account.retrieve()


def test_a_calls_timeout_bounds_it_whole(emu: Emulator) -> None:
    # Each attempt may take the client's 2 s and 4 retries follow: ~10 s without the call's bound.
    acct = emu.account()
    emu.fault({"method": "GET", "path": "/v1/account", "delay_ms": 3000, "times": 5})
    with client(emu, acct.api_key, timeout=2) as c:
        started = time.monotonic()
        with pytest.raises(usvideo.APITimeoutError):
            c.account.retrieve(timeout=0.4)
        assert time.monotonic() - started < 1.9  # not even one of the client's attempts


def test_a_calls_timeout_does_not_take_a_pause_that_would_pass_it(emu: Emulator) -> None:
    acct = emu.account(4321)
    emu.fault({"method": "GET", "path": "/v1/account", "status": 429, "retry_after": 5, "times": 1})
    with client(emu, acct.api_key) as c:
        with pytest.raises(usvideo.RateLimitError) as info:
            c.account.retrieve(timeout=1)
        assert info.value.retry_after == 5
        # Without a bound the same call waits the key's pause out (the limiter saw the 429), then
        # goes through: the fault is spent.
        assert c.account.retrieve().balance_cents == 4321


def test_a_calls_timeout_bounds_its_wait_for_a_rate_limit_slot(emu: Emulator) -> None:
    acct = emu.account(4321, plan="enterprise", requests_per_minute=1000, concurrent_jobs=10)
    with client(emu, acct.api_key, requests_per_minute=1) as c:
        c.account.retrieve()  # the minute's one slot
        with pytest.raises(usvideo.APIConnectionError) as info:
            c.videos.retrieve("job_123", timeout=0.3)
        assert "not sent" in str(info.value)
        # A create says what it means for money: nothing made, nothing charged.
        with pytest.raises(usvideo.APITimeoutError) as made:
            c.videos.create(**LAKE, timeout=0.3)
        assert "nothing was created or charged" in str(made.value), str(made.value)
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 0


@pytest.mark.parametrize("bad,code", [(0, "out_of_range"), (-1, "out_of_range"), (float("nan"), "out_of_range"), ("5", "invalid_type"), (True, "invalid_type")])
def test_a_calls_timeout_is_checked_by_name_before_sending(emu: Emulator, bad: Any, code: str) -> None:
    acct = emu.account(5000)
    emu.fault({"method": "*", "path": "*", "status": 500, "times": 1})  # the first request sent meets it
    with client(emu, acct.api_key, max_retries=0) as c:
        for call in (lambda: c.videos.create(**LAKE, timeout=bad), lambda: c.videos.retrieve("job_1", timeout=bad), lambda: c.videos.list(timeout=bad), lambda: c.videos.list_all(timeout=bad), lambda: c.videos.delete("job_1", timeout=bad), lambda: c.account.retrieve(timeout=bad), lambda: c.pricing.retrieve(timeout=bad), lambda: c.api_keys.create("a.b.c", timeout=bad)):
            with pytest.raises(usvideo.ValidationError) as info:
                call()
            assert (info.value.field, info.value.code) == ("timeout", code)
        with pytest.raises(usvideo.InternalServerError):  # nothing above was sent
            c.account.retrieve()


def test_a_refused_timeout_leaves_no_jwt_in_the_frames_locals(emu: Emulator) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJlLXNlY3JldA"
    with client(emu, "sd_test_key_0001") as c:
        with pytest.raises(usvideo.ValidationError) as info:
            c.api_keys.create(jwt, timeout=0)
    import traceback

    shown = "".join(traceback.TracebackException.from_exception(info.value, capture_locals=True).format())
    assert "c2lnbmF0dXJlLXNlY3JldA" not in shown.replace(repr(jwt), "")  # this test's own local aside


def test_a_calls_timeout_on_every_call_that_takes_one(emu: Emulator) -> None:
    acct = emu.account(5000)
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE, timeout=30)
        assert c.videos.retrieve(job.id, timeout=30).id == job.id
        assert [j.id for j in c.videos.list(timeout=30).data] == [job.id]
        assert c.account.retrieve(timeout=float("inf")).total_jobs == 1
        assert c.pricing.retrieve(timeout=30).estimate("1080p", 5) == 120
        assert c.videos.delete(job.id, timeout=30).refunded_cents == 120


def test_a_creates_timeout_after_sending_never_charges_twice(emu: Emulator) -> None:
    # The job is made and its answer lost, and the list that would find it answers after the
    # bound: the one look-up past the deadline (create rule 6) still finds the job.
    acct = emu.account(5000)
    emu.fault({"method": "POST", "path": "/v1/videos", "drop": "after"}, {"method": "GET", "path": "/v1/videos", "delay_ms": 800, "times": 1})
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE, timeout=0.5)
        assert [j.id for j in c.videos.list_all()] == [job.id]
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 1 and entry["balance_cents"] == 5000 - 120


# ------------------------------------------------------------------ faults and the core's rules


def test_502_then_success_on_a_read(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    acct = emu.account(4321)
    emu.fault({"method": "GET", "path": "/v1/account", "status": 502, "times": 1})
    caplog.set_level(logging.DEBUG, logger="usvideo")
    with client(emu, acct.api_key) as c:
        assert c.account.retrieve().balance_cents == 4321
    assert any("retry 1" in r.getMessage() and "upstream" in r.getMessage() for r in caplog.records)


def test_429_retry_after_is_honoured(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    acct = emu.account(4321)
    emu.fault({"method": "GET", "path": "/v1/account", "status": 429, "retry_after": 1, "times": 1})
    caplog.set_level(logging.DEBUG, logger="usvideo")
    with client(emu, acct.api_key) as c:
        assert c.account.retrieve().balance_cents == 4321
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retry ")]
    assert retries and "in 1000 ms" in retries[0], retries


def test_dropped_create_makes_one_job_and_one_charge(emu: Emulator) -> None:
    acct = emu.account(5000)
    emu.fault({"method": "POST", "path": "/v1/videos", "drop": "after"})
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        assert job.status == "pending"
        account = c.account.retrieve()
        assert [j.id for j in c.videos.list_all()] == [job.id]
    assert (account.total_jobs, account.balance_cents, account.total_spent_cents) == (1, 5000 - 120, 120)
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 1 and entry["balance_cents"] == 5000 - 120


def test_a_create_whose_outcome_stays_unknown_names_its_key_and_creating_again_under_it_charges_once(emu: Emulator) -> None:
    acct = emu.account(5000)
    # Stored, its answer lost; and the list that would tell fails for good.
    emu.fault({"method": "POST", "path": "/v1/videos", "drop": "after"}, {"method": "GET", "path": "/v1/videos", "status": 503, "times": 10})
    with client(emu, acct.api_key, max_retries=1) as c:
        with pytest.raises(usvideo.USVideoError) as info:
            c.videos.create(**LAKE)
        e = info.value
        assert e.code == "outcome_unknown" and not e.retryable and (e.idempotency_key or "").startswith("usv-"), repr(e)
        assert f"idempotency_key={e.idempotency_key!r}" in repr(e)
        emu.clear_faults()
        job = c.videos.create(**LAKE, idempotency_key=e.idempotency_key)
        assert [j.id for j in c.videos.list_all()] == [job.id]
        with pytest.raises(usvideo.ValidationError) as bad:
            c.videos.create(**LAKE, idempotency_key="")
        assert bad.value.field == "idempotency_key"
    entry = ledger_entry(emu, acct.email)
    assert entry is not None and entry["jobs_created"] == 1, "the same job, charged once"
    # A sure refusal (the balance is short) has no key to resend under.
    poor = emu.account(1)
    with client(emu, poor.api_key) as c, pytest.raises(usvideo.InsufficientBalanceError) as refused:
        c.videos.create(**LAKE)
    assert refused.value.idempotency_key is None


def test_dropped_before_create_is_resent(emu: Emulator) -> None:
    acct = emu.account(5000)
    emu.fault({"method": "POST", "path": "/v1/videos", "drop": "before"})
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        assert [j.id for j in c.videos.list_all()] == [job.id]
        assert c.account.retrieve().balance_cents == 5000 - 120


def test_malformed_read_is_api_response_error(emu: Emulator) -> None:
    acct = emu.account()
    emu.fault({"method": "GET", "path": "/v1/account", "malformed": True})
    with client(emu, acct.api_key) as c:
        with pytest.raises(usvideo.APIResponseError) as info:
            c.account.retrieve()
        assert info.value.status == 200
        assert c.account.retrieve().balance_cents == 5000  # only the one answer was broken


def test_malformed_create_is_reconciled(emu: Emulator) -> None:
    acct = emu.account(5000)
    emu.fault({"method": "POST", "path": "/v1/videos", "malformed": True})
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        assert [j.id for j in c.videos.list_all()] == [job.id]
        assert c.account.retrieve().balance_cents == 5000 - 120


def test_truncated_read_is_retried(emu: Emulator) -> None:
    acct = emu.account(2468)
    emu.fault({"method": "GET", "path": "/v1/account", "truncate": True})
    with client(emu, acct.api_key) as c:
        assert c.account.retrieve().balance_cents == 2468


# ------------------------------------------------------------------ waiting


def test_create_and_wait_with_progress_then_download(fast_emu: Emulator, tmp_path: Path) -> None:
    acct = fast_emu.account(5000)
    seen: List[usvideo.Progress] = []
    sent_to_video: List[httpx.Request] = []

    def record(request: httpx.Request) -> None:
        if "/v1/" not in request.url.path:
            sent_to_video.append(request)

    http = httpx.Client(event_hooks={"request": [record]})
    with client(fast_emu, acct.api_key, http_client=http) as c:
        job = c.videos.create_and_wait(**LAKE, on_progress=seen.append, poll=FAST_POLL, timeout=60)
        assert (job.status, job.cost_cents) == ("completed", 120) and job.video_url
        assert seen and seen[-1].percent == 100 and seen[-1].status == "completed"
        assert [p.percent for p in seen] == sorted(p.percent for p in seen)
        sizes: List[int] = []
        size = c.videos.download(job, tmp_path / "v.mp4", on_progress=lambda n, total: sizes.append(n))
        assert size == (tmp_path / "v.mp4").stat().st_size > 0 and sizes[-1] == size
        assert (tmp_path / "v.mp4").read_bytes()[4:8] == b"ftyp"
        account = c.account.retrieve()
    assert not http.is_closed  # an injected client is the caller's to close
    http.close()
    assert sent_to_video and all("authorization" not in r.headers for r in sent_to_video)
    assert (account.balance_cents, account.total_spent_cents) == (5000 - 120, 120)


def test_a_finished_job_teaches_the_clients_later_waits_how_fast_the_service_is(fast_emu: Emulator) -> None:
    acct = fast_emu.account(1000)

    def first_expected(c: usvideo.Client) -> int:
        seen: List[usvideo.Progress] = []
        c.videos.create_and_wait(**LAKE, on_progress=seen.append, poll={**FAST_POLL, "expected_scale": 1}, timeout=60)
        return seen[0].expected_ms

    # 1080p, 5 s: the model's 78 s, done in ~0.4 s at × 200; one lesson moves the scale to ~0.7.
    with client(fast_emu, acct.api_key) as c:
        assert first_expected(c) == 78_000
        second = first_expected(c)
        assert 54_600 <= second < 58_000, second


def test_wait_for_an_existing_job(emu: Emulator) -> None:
    acct = emu.account()
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        emu.advance(300_000)
        done = c.videos.wait(job.id, timeout=30)
        assert done.status == "completed" and done.cost_cents == 120


def test_job_failed(fast_emu: Emulator) -> None:
    acct = fast_emu.account(5000)
    fast_emu.fault({"fail_job": True, "message": "the model refused the prompt"})
    with client(fast_emu, acct.api_key) as c:
        with pytest.raises(usvideo.JobFailedError) as info:
            c.videos.create_and_wait(**LAKE, poll=FAST_POLL, timeout=60)
        assert info.value.job_id and "refused" in info.value.message
        assert c.account.retrieve().balance_cents == 5000  # refunded


def test_wait_timeout_leaves_the_job(emu: Emulator) -> None:
    acct = emu.account()
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        with pytest.raises(usvideo.WaitTimeoutError) as info:
            c.videos.wait(job.id, timeout=0.3)
        assert info.value.job_id == job.id and info.value.job_status == "pending"
        assert c.videos.retrieve(job.id).status == "pending"  # the job goes on


def test_a_waits_deadline_holds_while_the_rate_limit_is_spent(emu: Emulator) -> None:
    acct = emu.account(5000)
    with client(emu, acct.api_key, requests_per_minute=2) as c:
        job = c.videos.create(**LAKE)
        c.account.retrieve()  # the minute's budget is spent
        started = time.monotonic()
        with pytest.raises(usvideo.WaitTimeoutError) as info:
            c.videos.wait(job.id, timeout=0.3)
        assert time.monotonic() - started < 5
        # The poll was never sent, and the error says why (the core's words, `handle_not_sent`).
        assert "not sent: no slot of the client's rate limit" in str(info.value)


def test_wait_timeout_with_cancel_deletes_the_pending_job(emu: Emulator) -> None:
    acct = emu.account(5000)
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        with pytest.raises(usvideo.WaitTimeoutError) as info:
            c.videos.wait(job.id, timeout=0.3, cancel=True)
        assert info.value.job_id == job.id
        with pytest.raises(usvideo.NotFoundError):
            c.videos.retrieve(job.id)
        assert c.account.retrieve().balance_cents == 5000


def test_keyboard_interrupt_stops_a_wait(emu: Emulator) -> None:
    acct = emu.account()
    with client(emu, acct.api_key) as c:
        job = c.videos.create(**LAKE)
        # A real SIGINT (as Ctrl-C sends), which interrupts the driver's sleep.
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                c.videos.wait(job.id, timeout=120)
        finally:
            timer.cancel()
        assert c.videos.retrieve(job.id).status == "pending"


# ------------------------------------------------------------------ redaction


def test_keys_never_logged_or_shown(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    acct = emu.account(100)
    caplog.set_level(logging.DEBUG)  # every logger, httpx's included
    shown: List[str] = []
    emu.fault({"method": "GET", "path": "/v1/account", "status": 502, "times": 1, "body": {"error": {"message": f"echo Bearer {acct.api_key}"}}})
    with client(emu, acct.api_key) as c:
        shown.append(repr(c))
        c.account.retrieve()
        for call in (lambda: c.videos.create(**LAKE), lambda: c.videos.retrieve("job_missing"), lambda: c.api_keys.create(jwt=acct.jwt + "x")):
            try:
                call()
            except usvideo.USVideoError as e:
                shown += [str(e), repr(e), e.message]
        created = c.api_keys.create(jwt=acct.jwt)
        shown += [repr(created), str(created)]
    with client(emu, "sd_wrong_" + acct.api_key[3:]) as bad:
        try:
            bad.account.retrieve()
        except usvideo.AuthenticationError as e:
            shown += [str(e), repr(e)]
    text = "\n".join(shown + [r.getMessage() for r in caplog.records] + [caplog.text])
    for secret in (acct.api_key, acct.jwt, acct.api_key[3:], acct.jwt.split(".")[2], created.key):
        assert secret not in text
    assert any(r.name == "usvideo" and "GET" in r.getMessage() for r in caplog.records)


def test_pricing_is_not_held_by_the_keys_spent_rate_limit(emu: Emulator) -> None:
    """Pricing needs no key: the key's limiter neither holds nor counts it (with the key's one slot
    of the minute spent, it waited out the minute)."""
    acct = emu.account()
    with usvideo.Client(api_key=acct.api_key, base_url=emu.api_base, requests_per_minute=1) as c:
        c.account.retrieve()
        started = time.monotonic()
        c.pricing.retrieve()
        assert time.monotonic() - started < 20
