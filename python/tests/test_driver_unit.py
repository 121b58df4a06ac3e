"""The drivers over httpx.MockTransport: what the emulator cannot easily make (a huge body,
connect timeouts), and what the driver sends."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx
import pytest

import usvideo

KEY = "sd_unit_test_key_000000"
JOB = {"id": "job_1", "status": "completed", "video_url": "https://cdn.example/v/job_1.mp4?sig=SECRETSIG", "cost_cents": 30}


def make(handler: httpx.MockTransport, **kw: object) -> usvideo.Client:
    return usvideo.Client(api_key=KEY, base_url="https://api.example/v1", http_client=httpx.Client(transport=handler), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(timeout=-5), "timeout"),
        (dict(timeout="x"), "timeout"),
        (dict(timeout=float("nan")), "timeout"),
        (dict(poll={"first_poll_ms": -1}), "poll.first_poll_ms"),
        (dict(poll={"max_interval_ms": "5"}), "poll.max_interval_ms"),
        # The core's rules of a poll schedule: one that would burn the rate limit or never poll.
        (dict(poll={"min_interval_ms": 10, "max_interval_ms": 5}), "poll.max_interval_ms"),
        (dict(poll={"expected_scale": 0}), "poll.expected_scale"),
        # A misspelt member is refused (it was dropped unread), naming the one meant.
        (dict(poll={"first_pol_ms": 100}), "poll.first_pol_ms"),
        (dict(poll={"first_poll_ms": 99_999_999_999}), "poll.first_poll_ms"),
    ],
)
def test_bad_wait_options_are_refused_by_name_before_sending(kw: Dict[str, Any], field: str) -> None:
    sent: List[httpx.Request] = []
    with make(httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json=JOB))) as c:
        for call in (lambda: c.videos.wait("job_1", **kw), lambda: c.videos.create_and_wait(prompt="a lake", mode="text_to_video", **kw)):
            with pytest.raises(usvideo.ValidationError) as info:
                call()
            assert info.value.field == field and str(info.value.message).startswith(field), info.value
    assert sent == []


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(max_retries=-1), "max_retries"),
        (dict(max_retries=2**32), "max_retries"),
        (dict(requests_per_minute=-1), "requests_per_minute"),
        (dict(timeout=0), "timeout"),
        (dict(timeout="5"), "timeout"),
    ],
)
def test_bad_client_options_are_refused_by_name(kw: Dict[str, Any], field: str) -> None:
    with pytest.raises(usvideo.ValidationError) as info:
        make(httpx.MockTransport(lambda r: httpx.Response(200, json=JOB)), **kw)
    assert info.value.field == field


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(poll_interval=-5), "poll_interval"),
        (dict(concurrent_jobs=-1), "concurrent_jobs"),
        (dict(concurrent_jobs=0), "concurrent_jobs"),
        (dict(requests_per_minute=1.5), "requests_per_minute"),
        (dict(max_spend_cents=-1), "max_spend_cents"),
        (dict(expected_scale=0), "expected_scale"),
        (dict(expected_scale=-1.0), "expected_scale"),
    ],
)
def test_bad_batch_options_are_refused_by_name(kw: Dict[str, Any], field: str) -> None:
    with make(httpx.MockTransport(lambda r: httpx.Response(200, json=JOB))) as c:
        with pytest.raises(usvideo.ValidationError) as info:
            list(c.videos.batch([{"prompt": "a lake", "mode": "text_to_video"}], **kw))
    assert info.value.field == field


@pytest.mark.parametrize(
    "call, kw, code",
    [
        ("wait", dict(timeout=-5), "out_of_range"),
        ("wait", dict(timeout="x"), "invalid_type"),
        ("wait", dict(poll={"first_poll_ms": -1}), "out_of_range"),
        ("wait", dict(poll={"first_poll_ms": 1.5}), "out_of_range"),
        ("wait", dict(poll={"first_poll_ms": "5"}), "invalid_type"),
        ("batch", dict(max_spend_cents=-1), "out_of_range"),
        ("batch", dict(max_spend_cents=2.5), "out_of_range"),
        ("batch", dict(max_spend_cents="3"), "invalid_type"),
        ("batch", dict(concurrent_jobs=-1), "out_of_range"),
        ("batch", dict(requests_per_minute=1.5), "out_of_range"),
        ("batch", dict(concurrent_jobs="3"), "invalid_type"),
    ],
)
def test_a_bad_number_is_out_of_range_and_a_value_that_is_no_number_of_the_wrong_type(call: str, kw: Dict[str, Any], code: str) -> None:
    # As npm's and the core's refusals say it (helper-40: a negative max_spend_cents was invalid_type
    # where a negative timeout was out_of_range).
    with make(httpx.MockTransport(lambda r: httpx.Response(200, json=JOB))) as c:
        with pytest.raises(usvideo.ValidationError) as info:
            if call == "wait":
                c.videos.wait("job_1", **kw)
            else:
                list(c.videos.batch([{"prompt": "a lake", "mode": "text_to_video"}], **kw))
    assert info.value.code == code, info.value


def test_a_shortest_poll_gap_alone_raises_the_longest() -> None:
    # As npm's: the core's reader sees which members were given (helper-45: Python merged the
    # caller's over the serialized defaults first, so every member looked given and was refused).
    with make(httpx.MockTransport(lambda r: httpx.Response(200, json=JOB))) as c:
        assert c.videos.wait("job_1", poll={"min_interval_ms": 30_000}).status == "completed"
        assert c.videos.wait("job_1", poll={"max_interval_ms": 1_000}).status == "completed"
        with pytest.raises(usvideo.ValidationError, match=r"poll.max_interval_ms \(1000\) must be from poll.min_interval_ms \(5000\)"):
            c.videos.wait("job_1", poll={"min_interval_ms": 5_000, "max_interval_ms": 1_000})


def test_any_real_number_is_a_timeout() -> None:
    from decimal import Decimal
    from fractions import Fraction

    with make(httpx.MockTransport(lambda r: httpx.Response(200, json=JOB))) as c:
        for t in (5, 2.5, Decimal("5"), Fraction(5, 2), None):
            assert c.videos.wait("job_1", timeout=t).status == "completed"


def test_an_endless_wait_timeout_is_no_limit() -> None:
    with make(httpx.MockTransport(lambda r: httpx.Response(200, json=JOB))) as c:
        assert c.videos.wait("job_1", timeout=float("inf")).status == "completed"


def test_body_over_4_mib_is_refused() -> None:
    big = b"{" + b" " * (4 * 1024 * 1024 + 10) + b"}"
    with make(httpx.MockTransport(lambda r: httpx.Response(200, content=big)), max_retries=0) as c:
        with pytest.raises(usvideo.APIResponseError) as info:
            c.account.retrieve()
    assert "too large" in info.value.message


def test_connect_timeout_is_a_connect_failure_and_retried() -> None:
    calls: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectTimeout("connect timed out", request=request)
        return httpx.Response(201, json={"id": "job_1", "status": "pending"})

    with make(httpx.MockTransport(handler)) as c:
        job = c.videos.create(prompt="a lake", mode="text_to_video")
    # Never reached the server: the create is sent again (same idempotency key), no reconciliation list.
    assert job.id == "job_1" and [r.method for r in calls] == ["POST", "POST"]
    assert calls[0].headers["idempotency-key"] == calls[1].headers["idempotency-key"]
    assert json.loads(calls[0].content) == {"prompt": "a lake", "mode": "text_to_video"}


def test_read_timeout_is_api_timeout_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    with make(httpx.MockTransport(handler), max_retries=0) as c:
        with pytest.raises(usvideo.APITimeoutError):
            c.videos.retrieve("job_1")


class _Trickle(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends a byte every 0.1 s, each read well within a read timeout: 10 s in all."""

    def __iter__(self) -> Any:
        import time

        for _ in range(100):
            time.sleep(0.1)
            yield b" "

    async def __aiter__(self) -> Any:
        for _ in range(100):
            await asyncio.sleep(0.1)
            yield b" "


def test_a_body_that_trickles_is_bounded_by_the_requests_timeout_as_a_whole() -> None:
    """helper-47 (openai-node#1825 in Python): httpx's timeout bounds each read, so a body that
    trickles in held a call, and a wait past its deadline, for as long as the server liked."""
    import time

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "100"}, stream=_Trickle())

    with make(httpx.MockTransport(handler), max_retries=0, timeout=0.5) as c:
        started = time.monotonic()
        with pytest.raises(usvideo.APITimeoutError, match="still arriving"):
            c.videos.retrieve("job_1")
        # 10 s without the bound; ~0.6 s with it (the margin is for a loaded machine).
        assert time.monotonic() - started < 5

    async def on_async() -> float:
        client = usvideo.AsyncClient(api_key=KEY, base_url="https://api.example/v1", http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), max_retries=0, timeout=0.5)
        async with client as ac:
            started = time.monotonic()
            with pytest.raises(usvideo.APITimeoutError, match="still arriving"):
                await ac.videos.retrieve("job_1")
            return time.monotonic() - started

    assert asyncio.run(on_async()) < 5


def test_a_downloads_timeout_bounds_it_as_a_whole(tmp_path: Path) -> None:
    """helper-47: a video body that trickled in held a download for as long as the server liked."""
    import time

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "100"}, stream=_Trickle())

    with make(httpx.MockTransport(handler)) as c:
        started = time.monotonic()
        with pytest.raises(usvideo.APITimeoutError, match="download was still arriving"):
            c.videos.download("https://cdn.example/v.mp4", tmp_path / "v.mp4", timeout=0.5)
        assert time.monotonic() - started < 5  # 10 s without the bound
        assert not list(tmp_path.iterdir()), "no partial file"
        for bad, code in ((0, "out_of_range"), (float("nan"), "out_of_range"), ("5", "invalid_type")):
            with pytest.raises(usvideo.ValidationError) as info:
                c.videos.download("https://cdn.example/v.mp4", tmp_path / "v.mp4", timeout=bad)  # type: ignore[arg-type]
            assert (info.value.field, info.value.code) == ("timeout", code)


def test_a_download_whole_at_its_bound_is_kept_and_bad_targets_are_refused_before_sending(tmp_path: Path) -> None:
    """helper-49: a slow answer whose body came whole after the bound was thrown away; a job's id
    for the URL read as a retryable connection error; an empty path left `./.part` behind."""
    import time

    sent: List[httpx.Request] = []

    def slow(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        time.sleep(0.3)  # the headers come late: the body, whole, with them
        return httpx.Response(200, content=b"video" * 10)

    with make(httpx.MockTransport(slow)) as c:
        assert c.videos.download("https://cdn.example/v.mp4", tmp_path / "v.mp4", timeout=0.1) == 50
        assert (tmp_path / "v.mp4").read_bytes() == b"video" * 10
        for target, path, field in (("job_123", tmp_path / "x.mp4", "job_or_url"), (None, tmp_path / "x.mp4", "job_or_url"), ("https://cdn.example/v.mp4", "", "path")):
            with pytest.raises(usvideo.ValidationError) as info:
                c.videos.download(target, path)  # type: ignore[arg-type]
            assert info.value.field == field and not info.value.retryable, info.value
    assert len(sent) == 1, "nothing sent for the refused ones"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_a_retrieve_answered_with_another_job_is_refused_naming_the_one_asked_for() -> None:
    """helper-46: a misrouting proxy or a cache handed the caller someone else's video as theirs."""
    with make(httpx.MockTransport(lambda r: httpx.Response(200, json={**JOB, "id": "job_2"})), max_retries=0) as c:
        with pytest.raises(usvideo.APIResponseError, match=r"another job \(job_2\)") as info:
            c.videos.retrieve("job_1")
        assert info.value.job_id == "job_1"


def test_request_shape_and_user_agent() -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [JOB], "limit": 5, "offset": 10, "total": 11, "has_more": False})

    with make(httpx.MockTransport(handler)) as c:
        page = c.videos.list(limit=5, offset=10)
    assert page.data[0].id == "job_1" and page.total == 11
    r = seen[0]
    assert str(r.url) == "https://api.example/v1/videos?limit=5&offset=10"
    assert r.headers["authorization"] == f"Bearer {KEY}"
    assert r.headers["user-agent"].startswith("usvideo-python/")


def test_download_sends_no_key_and_logs_no_query(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith(".mp4"):
            return httpx.Response(200, content=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
        return httpx.Response(200, json=JOB)

    caplog.set_level(logging.DEBUG, logger="usvideo")
    with make(httpx.MockTransport(handler)) as c:
        job = c.videos.retrieve("job_1")
        size = c.videos.download(job, tmp_path / "a.mp4")
        with pytest.raises(usvideo.UsageError):
            c.videos.download(usvideo.Job(id="job_2", status="pending"), tmp_path / "b.mp4")
    assert size == 112
    download = seen[-1]
    assert "authorization" not in download.headers
    assert "SECRETSIG" not in caplog.text and KEY not in caplog.text


def test_download_error_status(tmp_path: Path) -> None:
    with make(httpx.MockTransport(lambda r: httpx.Response(404, text="gone"))) as c:
        with pytest.raises(usvideo.NotFoundError) as info:
            c.videos.download("https://cdn.example/v/x.mp4", tmp_path / "x.mp4")
    assert info.value.status == 404


class _Cut(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body cut off after its first chunk (a connection reset mid-download)."""

    def __iter__(self) -> Any:
        yield b"\x00" * 64
        raise httpx.ReadError("connection reset")

    async def __aiter__(self) -> Any:
        yield b"\x00" * 64
        raise httpx.ReadError("connection reset")


def test_a_failed_download_leaves_no_partial_file_and_an_async_callback_is_awaited_or_refused(tmp_path: Path) -> None:
    # helper-43: a cut-off download left half a video at the path, and AsyncClient.download never
    # awaited an `async def` on_progress (the sync one ran it unawaited).
    cut = lambda r: httpx.Response(200, headers={"content-length": "128"}, stream=_Cut())  # noqa: E731
    kept = tmp_path / "kept.mp4"
    kept.write_bytes(b"an earlier video")
    with make(httpx.MockTransport(cut)) as c:
        for target in (tmp_path / "new.mp4", kept):
            with pytest.raises(usvideo.APIConnectionError):
                c.videos.download("https://cdn.example/v/x.mp4", target)
    assert not (tmp_path / "new.mp4").exists() and kept.read_bytes() == b"an earlier video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.mp4"], "no .part left behind"
    # Through a symlink (helper-76: written through the link, the old file was cut short): the
    # old file stays whole on a failure, and a whole download replaces it, the link kept.
    link = tmp_path / "latest.mp4"
    link.symlink_to(kept)
    with make(httpx.MockTransport(cut)) as c:
        with pytest.raises(usvideo.APIConnectionError):
            c.videos.download("https://cdn.example/v/x.mp4", link)
    assert kept.read_bytes() == b"an earlier video" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.mp4", "latest.mp4"]
    with make(httpx.MockTransport(lambda r: httpx.Response(200, content=b"a newer video"))) as c:
        c.videos.download("https://cdn.example/v/x.mp4", link)
    assert link.is_symlink() and kept.read_bytes() == b"a newer video"

    async def on_progress(n: int, total: Optional[int]) -> None:
        await asyncio.sleep(0)
        seen.append(n)

    seen: List[int] = []
    whole = lambda r: httpx.Response(200, content=b"\x00" * 100)  # noqa: E731
    with make(httpx.MockTransport(whole)) as c:
        with pytest.raises(TypeError, match="coroutine function"):
            c.videos.download("https://cdn.example/v/x.mp4", tmp_path / "s.mp4", on_progress=on_progress)

    async def main() -> int:
        async with usvideo.AsyncClient(api_key=KEY, base_url="https://api.example/v1", http_client=httpx.AsyncClient(transport=httpx.MockTransport(whole))) as ac:
            return await ac.videos.download("https://cdn.example/v/x.mp4", tmp_path / "a.mp4", on_progress=on_progress)

    assert asyncio.run(main()) == 100 and seen == [100] and (tmp_path / "a.mp4").stat().st_size == 100


def test_a_closed_client_and_an_id_that_is_no_text_are_refused_as_sdk_errors(tmp_path: Path) -> None:
    # helper-43: httpx's bare RuntimeError (a closed client) and the native module's TypeError
    # (`retrieve(5)`) escaped `except usvideo.USVideoError`.
    c = make(httpx.MockTransport(lambda r: httpx.Response(200, json=JOB)))
    job = c.videos.retrieve("job_1")
    for call in (lambda: c.videos.retrieve(5), lambda: c.videos.delete(None), lambda: c.videos.wait(job)):  # type: ignore[arg-type]
        with pytest.raises(usvideo.ValidationError) as info:
            call()
        assert info.value.field == "id" and info.value.code == "invalid_type", info.value
    assert "pass its .id" in str(info.value)
    c.close()
    for closed in (lambda: c.videos.retrieve("job_1"), lambda: c.account.retrieve(), lambda: c.videos.download("https://cdn.example/v/x.mp4", tmp_path / "x.mp4"), lambda: c.__enter__()):
        with pytest.raises(usvideo.UsageError, match="was closed"):
            closed()


def test_unknown_status_and_fields_are_kept_or_ignored() -> None:
    body = {"id": "job_1", "status": "upscaling", "mode": "weird", "brand_new_field": 1}
    with make(httpx.MockTransport(lambda r: httpx.Response(200, json=body))) as c:
        job = c.videos.retrieve("job_1")
    assert job.status == "upscaling" and not job.is_terminal and job.mode is None


def test_clients_on_one_key_share_its_rate_limiter() -> None:
    # The service counts a key's requests, not a client's: a second client on the key (sync or
    # async) must see the first one's, or the two together overrun the service's limit.
    base = "http://127.0.0.1:9/v1"
    a = usvideo.Client(api_key="sd_shared_key_0001", base_url=base, requests_per_minute=1)
    b = usvideo.AsyncClient(api_key="sd_shared_key_0001", base_url=base, requests_per_minute=1)
    other_key = usvideo.Client(api_key="sd_shared_key_0002", base_url=base, requests_per_minute=1)
    other_budget = usvideo.Client(api_key="sd_shared_key_0001", base_url=base, requests_per_minute=2)
    assert a._limiter.try_acquire(1_000) is None
    assert b._limiter.try_acquire(1_000) is not None, "the key's one slot a minute is taken"
    assert other_key._limiter.try_acquire(1_000) is None and other_budget._limiter.try_acquire(1_000) is None
    a.close()
    other_key.close()
    other_budget.close()
    asyncio.run(b.aclose())


def test_the_shared_rate_limiters_are_bounded() -> None:
    # A server with its customers' keys: only the newest keys' limiters are kept (the core's
    # table, 64 keys). The first key's limiter, full, is the one a second client gets while it is
    # kept; after 200 other keys a client on it gets a new, empty one.
    base = "http://127.0.0.1:9/v1"
    first = usvideo.Client(api_key="sd_bounded_key_first", base_url=base, requests_per_minute=1)
    assert first._limiter.try_acquire(1_000) is None
    again = usvideo.Client(api_key="sd_bounded_key_first", base_url=base, requests_per_minute=1)
    assert again._limiter.same_as(first._limiter) and again._limiter.try_acquire(1_000) is not None
    for i in range(200):
        usvideo.Client(api_key=f"sd_bounded_key_{i:04}", base_url=base, requests_per_minute=1).close()
    later = usvideo.Client(api_key="sd_bounded_key_first", base_url=base, requests_per_minute=1)
    assert not later._limiter.same_as(first._limiter), "the oldest key's limiter was let go"
    assert later._limiter.try_acquire(1_000) is None
    a = usvideo.Client(api_key="sd_bounded_key_x", base_url=base, requests_per_minute=0)
    b = usvideo.Client(api_key="sd_bounded_key_x", base_url=base, requests_per_minute=0)
    assert not a._limiter.same_as(b._limiter), "no budget: nothing to share"
    for c in (first, again, later, a, b):
        c.close()


def test_a_call_that_gives_up_its_slot_wait_leaves_the_limiters_line() -> None:
    # The core's line through the native module: in turn, and a call that gave up is not waited for.
    from usvideo import _native

    line = _native.RateLimiter(1)
    assert line.try_acquire(0) is None
    a, b = line.acquire_in_line(None, 1), line.acquire_in_line(None, 2)
    assert (a[1], b[1]) == (61_000, 122_000) and a[0] != b[0]
    assert a[0] is not None
    line.leave(a[0])
    assert line.acquire_in_line(b[0], 61_000) == (None, None)
    # The sync client's slot wait, given up at a wait's deadline, leaves the line too.
    c = make(httpx.MockTransport(lambda r: httpx.Response(200, json={**JOB, "status": "pending"})), requests_per_minute=1)
    c.videos.retrieve("job_1")  # the one slot
    with pytest.raises(usvideo.WaitTimeoutError):
        c.videos.wait("job_1", timeout=0.05)
    t = usvideo._base.now_ms()
    ticket, turn = c._limiter.acquire_in_line(None, t)
    assert ticket is not None and turn is not None and turn <= t + 61_000, (turn, t)


def _looped() -> List[Any]:
    """A list within itself: json.dumps says "Circular reference"."""
    loop: List[Any] = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda c: c.videos.create(prompt="a lake", mode="text_to_video", duration=float("nan")), "duration"),
        (lambda c: c.videos.create(prompt=b"a lake", mode="text_to_video"), "prompt"),
        (lambda c: c.videos.create_and_wait(prompt="a lake", mode="text_to_video", poll={"expected_scale": float("inf")}), "poll.expected_scale"),
        (lambda c: c.videos.batch([{"prompt": "a", "mode": "text_to_video"}, {"prompt": "b", "mode": "text_to_video", "duration": float("nan")}]), "requests[1].duration"),
        (lambda c: c.videos.batch([{"prompt": "a", "mode": "text_to_video"}], expected_scale=float("nan")), "expected_scale"),
        (lambda c: c.videos.create(prompt="a lake", mode="text_to_video", image_url=_looped()), "image_url[0]"),
    ],
)
def test_what_json_cannot_carry_is_refused_by_name_before_sending(call: Any, field: str) -> None:
    # json.dumps wrote NaN (which the core could not read: "invalid JSON from the Python side")
    # or raised a bare TypeError for bytes.
    sent: List[httpx.Request] = []
    with make(httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json=JOB))) as c:
        with pytest.raises(usvideo.ValidationError) as info:
            result = call(c)
            list(result) if hasattr(result, "__next__") else None
        assert (info.value.field, info.value.code) == (field, "invalid_type"), info.value
    assert sent == []


def test_a_python_side_refusal_is_coded_by_its_rule_as_the_cores_are() -> None:
    with pytest.raises(usvideo.ValidationError) as info:
        usvideo.Client(api_key=KEY, base_url="https://api.example/v1", max_retries=-1)
    assert (info.value.field, info.value.code) == ("max_retries", "out_of_range")
    with pytest.raises(usvideo.ValidationError) as bytes_key:
        usvideo.Client(api_key=b"sd_unit_test_key_000000", base_url="https://api.example/v1")  # type: ignore[arg-type]
    assert (bytes_key.value.field, bytes_key.value.code) == ("api_key", "invalid_type") and "bytes" in str(bytes_key.value)


def test_an_error_says_whether_the_call_may_be_made_again() -> None:
    # The core's is_retryable: a 503 may be retried, a 400 not (nor an outcome_unknown create).
    for status, retryable in ((503, True), (400, False)):
        with make(httpx.MockTransport(lambda r, s=status: httpx.Response(s, json={"error": {"code": "x", "message": "m"}})), max_retries=0) as c:
            with pytest.raises(usvideo.USVideoError) as info:
                c.videos.retrieve("job_1")
        assert info.value.retryable is retryable, (status, info.value)


def test_a_cancelled_calls_create_of_unknown_outcome_is_logged_with_its_key(caplog: pytest.LogCaptureFixture) -> None:
    """helper-61: a create_and_wait cancelled while its create was out, against a service whose
    jobs show no prompt, left its job charged and said nothing: the clean-up now logs the create's
    unknown outcome with the key that gets its job back."""
    from usvideo._base import _tell

    class Ended:
        def take_result(self) -> None:
            raise usvideo.APIConnectionError("the create was stopped after it was sent: the job list shows a job of this request's mode, resolution and duration (job_9)", code="outcome_unknown", idempotency_key="usv-abc-0")

    caplog.set_level(logging.INFO, logger="usvideo")
    _tell(Ended())  # type: ignore[arg-type]
    [record] = [r for r in caplog.records if r.name == "usvideo"]
    assert record.levelno == logging.WARNING and "job_9" in record.getMessage() and "idempotency_key='usv-abc-0'" in record.getMessage()
