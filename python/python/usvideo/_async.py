"""The asynchronous client: the same core machines driven over ``httpx.AsyncClient`` and
``asyncio.sleep``. Cancelling the task (``asyncio.CancelledError``) cancels the machine and
propagates at once.

httpx is imported when a client is made, not when ``usvideo`` is imported.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable, List, Mapping, Optional, Set, Union

from . import _native
from ._base import (
    DEBUG,
    MAX_RESPONSE_BYTES,
    BACKGROUND_CLEANUP_SECONDS,
    CLEANUP_SECONDS,
    HANDED_OFF,
    DEFAULT_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    ERROR_BODY_BYTES,
    BaseClient,
    BatchEvents,
    Cleanup,
    SlotWait,
    OnBatchProgress,
    OnDownload,
    OnProgress,
    PartFile,
    PollPolicy,
    Request,
    Response,
    called,
    create_body,
    job_id,
    job_of,
    log,
    loggable,
    now_ms,
    report_kept,
    on_event,
    progress_handler,
    AnswerBody,
    BodyTooLarge,
    Download,
    Overdue,
    call_deadline,
    request_timeout,
    whole_timeout,
    sent_create_key,
    slot_by,
    tell_interrupted_create,
    transport_kind,
    video_url,
    wait_options,
)
from ._secret import Secret
from .types import Account, BatchItem, BatchProgress, BatchSummary, CreatedApiKey, DeleteResult, Job, JobPage, Mode, PricingTable, Resolution

if TYPE_CHECKING:
    import asyncio
    import os

    import httpx

#: The clean-ups running in the background: a task only the event loop refers to may be
#: garbage-collected before it ends.
_background: Set[Any] = set()

__all__ = ["AsyncClient", "AsyncBatchRun"]


class AsyncClient(BaseClient):
    """The US Video API client for asyncio (the same surface as :class:`usvideo.Client`, awaited).

    ``api_key`` defaults to ``USVIDEO_API_KEY``, ``base_url`` to ``USVIDEO_BASE_URL`` then
    ``https://usvideoapi.com/v1``. Without a key, requests carry no ``Authorization``: point
    ``base_url`` at a server-side proxy that adds it (a call that needs a key is refused before
    sending when ``base_url`` is the service's own). ``max_retries`` bounds the retries of each request; ``timeout``
    (seconds) bounds each HTTP request. A call's own ``timeout=`` (seconds) bounds the whole call:
    its attempts, the pauses between them (a ``429``'s ``Retry-After`` included) and its wait for a
    slot of the rate limit. When it runs out the call raises the error it last met: a pause that
    would pass it is not taken (``RateLimitError`` with ``retry_after``), an attempt cut at it is an
    ``APITimeoutError``, a slot not found by it an ``APIConnectionError`` saying nothing was sent
    (``create``: an ``APITimeoutError`` saying nothing was created or charged). A ``create`` sent
    before the bound but unanswered looks its job up once past it (at most 10 s more).
    Pass ``http_client`` to use your own ``httpx.AsyncClient``
    (proxies, custom TLS); it is then yours to close. Use it as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        max_retries: int = 4,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: Optional[httpx.AsyncClient] = None,
        *,
        requests_per_minute: int = 60,
    ) -> None:
        try:
            super().__init__(api_key, base_url, max_retries, timeout, requests_per_minute)
        finally:
            del api_key  # kept only as a redacting Secret, even when refused (see _base.BaseClient)
        import httpx

        self._httpx = httpx
        self._owns_http = http_client is None
        self._http: httpx.AsyncClient = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        # The connection pool of each event loop this client has run under (`_pool`): the first
        # loop's is `_http`. Weak keys: a loop that is gone takes its pool with it.
        self._pools: weakref.WeakKeyDictionary[Any, httpx.AsyncClient] = weakref.WeakKeyDictionary()
        self._pools_lock = threading.Lock()
        self._http_taken = False
        self.videos = Videos(self)
        self.account = AccountResource(self)
        self.pricing = PricingResource(self)
        self.api_keys = ApiKeysResource(self)

    async def aclose(self) -> None:
        """Closes the connections (of the httpx client this client made). Calls under way in
        other tasks end at their next request with a ``UsageError`` (a wait with ``cancel=True``
        deletes its pending job first), and the last of them, or of the cancelled waits' clean-ups
        still running in the background, closes the connections when it ends. Under one event loop
        after another, it closes the running loop's and drops the others' (their connections
        cannot be closed from here)."""
        if self._cleanups.close() and self._owns_http:
            await self._close_pools()

    async def _close_pools(self) -> None:
        """Closes the running loop's pool and drops the others' (see :meth:`aclose`)."""
        await self._pool().aclose()
        with self._pools_lock:
            self._pools.clear()

    async def __aenter__(self) -> AsyncClient:
        self._check_open()  # a closed client refuses an `async with` at once, not at its first call
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ the driver

    def _pool(self) -> httpx.AsyncClient:
        """The httpx client for the running event loop. Pooled connections belong to the loop
        that opened them: a client used again under another loop (a second ``asyncio.run``, a
        Celery task or sync view that runs one per call) got httpx's bare ``RuntimeError: Event
        loop is closed`` (helper-47; replicate-python#217). So each loop gets a pool of its own,
        under a lock (threads may run loops at once); a caller's own ``http_client`` is theirs to
        keep on one loop."""
        if not self._owns_http:
            return self._http
        import asyncio

        loop = asyncio.get_running_loop()
        with self._pools_lock:
            pool = self._pools.get(loop)
            if pool is None:
                # The first loop takes the client made with this one (once: its connections stay
                # that loop's after the loop is gone).
                pool = self._httpx.AsyncClient(timeout=self._timeout) if self._http_taken else self._http
                self._http_taken = True
                self._pools[loop] = pool
            return pool

    async def _acquire(self, deadline: Optional[int] = None, stop: Optional[asyncio.Event] = None) -> bool:
        """Waits in line for a slot of the key's shared rate limiter (the core's line: first come
        first served, woken about once, at its turn), until ``deadline`` at most (the request's
        own time runs while it waits, so a wait's deadline holds when the rate limit is spent).
        False when none came in time: the request must not be sent. Also False once ``stop`` is
        set during the wait (a batch's cancel; as :meth:`usvideo.Client._acquire`)."""
        import asyncio

        wait = SlotWait(self._limiter, deadline)
        watch = stop if stop is not None and not stop.is_set() else None
        try:
            while True:
                answer = wait.ask()
                if isinstance(answer, bool):
                    return answer
                if watch is not None:
                    try:
                        await asyncio.wait_for(watch.wait(), answer)
                        return False
                    except asyncio.TimeoutError:
                        pass
                else:
                    await asyncio.sleep(answer)
        finally:
            wait.leave()

    async def _drive(self, machine: _native.Machine, on_progress: Optional[OnProgress] = None, cleanup: bool = False) -> None:
        """Runs ``machine`` to done. Task cancellation (or any exception) cancels it and
        propagates; with ``cleanup``, a still-pending job is first deleted (the caller waits
        CLEANUP_SECONDS for it at most, then it goes on in the background). An ``async def`` ``on_progress`` is awaited before the drive goes on."""
        self._check_open()
        awaiting: List[Any] = []
        await self._run(machine, progress_handler(on_progress, awaiting), cleanup=cleanup, awaiting=awaiting)

    async def _run(self, machine: _native.Machine, handle: Callable[[str], bool], cleanup: bool = False, keep: Optional[List[int]] = None, wake: Optional[asyncio.Event] = None, awaiting: Optional[List[Any]] = None, halt: Optional[asyncio.Event] = None) -> bool:
        """``_loop``, as a user of the client's transport (as :meth:`usvideo.Client._run`): an
        ``aclose()`` meanwhile leaves its pool open until the last of the client's calls and
        clean-ups ends (helper-76: a wait went on in a new pool that nothing closed), and this call
        ends at its next request with a ``UsageError``, its clean-up done first."""
        self._cleanups.begin()
        try:
            return await self._loop(machine, handle, cleanup, keep, wake, awaiting, halt)
        finally:
            if self._cleanups.end() and self._owns_http:
                await self._close_pools()

    async def _loop(self, machine: _native.Machine, handle: Callable[[str], bool], cleanup: bool = False, keep: Optional[List[int]] = None, wake: Optional[asyncio.Event] = None, awaiting: Optional[List[Any]] = None, halt: Optional[asyncio.Event] = None) -> bool:
        """As :meth:`usvideo.Client._run`: drives until done (True) or ``handle`` returns True;
        a set ``wake`` ends its sleeps, a set ``halt`` a wait for a slot (not sent); what
        ``handle`` put in ``awaiting`` (an async callback's result) is awaited before it drives on."""
        import asyncio

        rid: Optional[int] = None
        unsent: Optional[int] = None
        # The key of a create sent by this run: an interrupt then leaves a job it may have made.
        create_key: Optional[str] = None
        # The error a timed-out wait ends with if its clean-up is handed off (taken when it begins).
        handed: Optional[BaseException] = None
        try:
            if keep:
                report_kept(machine, keep)
            while True:
                if cleanup:
                    handed = machine.cleaning_up()
                    if handed is not None:
                        break  # a timed-out wait's delete (cancel=True): below, outside this handler
                out = machine.poll(now_ms())
                tag = out[0]
                if tag == "send":
                    deadline = None if out[7] is None else now_ms() + out[7]
                    unsent = out[1]  # until it goes out: an interrupt then says nothing was sent
                    if self._cleanups.closed:
                        raise self._closed_during()
                    if out[8] and not await self._acquire(slot_by(deadline, out[9]), halt if out[3] == "POST" else None):
                        # Nothing reached the service (a create past its deadline made no job).
                        machine.handle_not_sent(out[1], now_ms())
                        unsent = None
                        continue
                    if self._cleanups.closed:
                        raise self._closed_during()  # closed while it waited for its slot: not sent
                    rid, unsent = out[1], None
                    create_key = create_key or sent_create_key(out)
                    # What is left of the request's time after the slot wait.
                    left = None if deadline is None else max(1, deadline - now_ms())
                    await self._send(machine, out, left)
                    rid = None
                elif tag == "event":
                    stop = handle(out[1])
                    while awaiting:
                        await awaiting.pop(0)
                    if stop:
                        return False
                elif tag == "wait_until":
                    delay = out[1] - now_ms()
                    if delay > 0 and wake is not None and not wake.is_set():
                        try:
                            await asyncio.wait_for(wake.wait(), delay / 1000.0)
                        except asyncio.TimeoutError:
                            pass
                    elif delay > 0:
                        await asyncio.sleep(delay / 1000.0)
                    machine.handle_timeout(now_ms())
                elif tag == "pending" and keep is not None:
                    # A batch driven by two tasks (the iteration and a cancel()): the other one has
                    # a request out. Its answer moves the machine on, unless that driver was
                    # interrupted and left it in `keep` meanwhile (helper-73: a cancel() then waited
                    # for it for ever).
                    if keep:
                        report_kept(machine, keep)
                        continue
                    await asyncio.sleep(0.01)
                elif tag == "pending":
                    # Every request is awaited inline, so nothing can be in flight: stop the machine.
                    machine.cancel(now_ms())
                else:
                    return True
        except BaseException as exc:
            if unsent is not None:
                # Interrupted while waiting for a slot: the core is told nothing reached the
                # service, or the create would stay in flight among the client's (its claims).
                machine.handle_transport_error(unsent, "connect", "not sent: interrupted", now_ms())
            if keep is not None:
                if rid is not None:
                    keep.append(rid)
                raise
            if rid is not None:
                machine.handle_transport_error(rid, "aborted", "interrupted", now_ms())
            machine.cancel(now_ms())
            if cleanup:
                await self._cleanup(machine, tell=True)
            elif create_key is not None:
                tell_interrupted_create(machine, exc, create_key)
            raise
        # Awaited as a cancel's clean-up is, then handed to the background with the wait's own
        # error (it was given up after 10 s, under a spent rate limit: the job charged). An
        # interrupt meanwhile leaves it to go on: it is not the caller's to cancel.
        handed_off = await self._cleanup(machine)
        if handed is not None and (handed_off or not machine.is_done()):
            raise handed  # the clean-up goes on without the caller (and tells how it ended)
        return True

    async def _cleanup(self, machine: _native.Machine, tell: bool = False) -> bool:
        """After a cancel or a timeout with ``cancel=True``: sends what the machine still asks for
        (the delete of a pending job), each request in its turn for a slot, in a task of its own
        (see ``Cleanup``). The caller waits CLEANUP_SECONDS for it at most; it may go on
        BACKGROUND_CLEANUP_SECONDS more while the event loop runs (a loop that ends cancels it:
        `asyncio.run` cancels what is left). True: handed to the background. ``tell``: log how it
        ended (a cancel's; a timed-out wait's once handed off). Never raises but a second
        cancellation of the caller."""
        import asyncio

        cleanup = Cleanup(machine, tell=tell)
        task = asyncio.ensure_future(self._clean_up(cleanup))
        self._cleanups.begin()
        _background.add(task)

        def ended(t: Any) -> None:
            _background.discard(t)
            if self._cleanups.end() and self._owns_http:
                closing = asyncio.ensure_future(self._pool().aclose())  # this loop's
                _background.add(closing)
                closing.add_done_callback(_background.discard)

        task.add_done_callback(ended)
        try:
            await asyncio.wait_for(asyncio.shield(task), CLEANUP_SECONDS)
        except asyncio.TimeoutError:
            cleanup.tell = True
            log.warning(HANDED_OFF, BACKGROUND_CLEANUP_SECONDS, " while the event loop runs")
            return True
        return False

    async def _clean_up(self, cleanup: Cleanup) -> None:
        """Drives ``cleanup`` to its end, ignoring every failure."""
        import asyncio

        machine = cleanup.machine
        try:
            while True:
                what, arg = cleanup.step()
                if what == "send":
                    out, deadline = arg
                    if out[8] and not await self._acquire(slot_by(deadline, out[9])):
                        machine.handle_not_sent(out[1], now_ms())
                        continue
                    await self._send(machine, out, max(1, deadline - now_ms()))
                elif what == "sleep":
                    await asyncio.sleep(arg)
                    machine.handle_timeout(now_ms())
                elif what == "stop":
                    return
        except Exception as exc:  # best effort: the original exception is what matters
            log.debug("clean-up after an interrupted wait failed: %s", type(exc).__name__)
        except asyncio.CancelledError:
            log.warning("usvideo: a cancelled wait's clean-up was cancelled (its event loop ended?): its pending job, if it has one, may not be deleted and then goes on (charged if it completes)")
            raise

    async def _send(self, machine: _native.Machine, out: Any, timeout_ms: Optional[int]) -> None:
        """Sends the request of ``out`` (a machine's ``send``) and tells the machine its outcome."""
        rid, method, url, headers, body, counted = out[1], out[3], out[4], out[5], out[6], out[8]
        httpx = self._httpx
        started = time.monotonic()
        try:
            # `send(stream=True)` + `aclose()` is what `stream()` does, without its context manager.
            http = self._pool()
            limit = request_timeout(self._timeout, timeout_ms)
            resp = await http.send(http.build_request(method, url, headers=headers, content=body, timeout=limit), stream=True)
            try:
                answer = AnswerBody(limit, started)
                async for chunk in resp.aiter_bytes():
                    answer.add(chunk)
            finally:
                await resp.aclose()
            data = answer.whole()
            status = resp.status_code
            resp_headers = resp.headers.multi_items()
        except BodyTooLarge:
            log.debug("%s %s -> body over %d bytes", method, loggable(url), MAX_RESPONSE_BYTES)
            machine.handle_transport_error(rid, "body_too_large", "", now_ms())
            return
        except Overdue as over:
            log.debug("%s %s -> %s", method, loggable(url), over)
            machine.handle_transport_error(rid, "timeout", str(over), now_ms())
            return
        except httpx.HTTPError as exc:
            kind = transport_kind(exc, httpx)
            log.debug("%s %s -> %s (%s) in %d ms", method, loggable(url), kind, type(exc).__name__, (time.monotonic() - started) * 1000)
            machine.handle_transport_error(rid, kind, f"{type(exc).__name__}: {exc}", now_ms())
            return
        t = now_ms()
        if log.isEnabledFor(DEBUG):
            log.debug("%s %s -> %d in %d ms", method, loggable(url), status, (time.monotonic() - started) * 1000)
        if counted:  # a key's 429 pauses the key's requests only (Endpoint::counts_against_key)
            self._limiter.observe(status, resp_headers, data, t)
        machine.handle_response(rid, status, resp_headers, data, t)

    async def _call(self, endpoint: str, request: Request, deadline: Optional[int] = None) -> Response:
        machine = self._call_machine(endpoint, request, deadline)
        await self._drive(machine)
        return machine.take_response()

    async def _call_parsed(self, endpoint: str, request: Request, what: str, id: Optional[str] = None, params: str = "{}", deadline: Optional[int] = None) -> Any:
        """A call whose response the core parses (``what``: ``job``, ``job_page``, …), as plain
        Python values (see ``_native.Machine.take_parsed``), ended by ``deadline`` (:func:`call_deadline`)."""
        machine = self._call_machine(endpoint, request, deadline)
        await self._drive(machine)
        return machine.take_parsed(what, id, params)


class Videos:
    """``client.videos``: create, retrieve, list, delete, wait, create-and-wait, download."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def create(
        self,
        prompt: str,
        mode: Mode,
        resolution: Optional[Resolution] = None,
        duration: Optional[int] = None,
        image_url: Optional[str] = None,
        reference_url: Optional[str] = None,
        seed: Optional[int] = None,
        *,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Job:
        """Submits a job and returns it ``pending``. Made at most once: it carries an idempotency
        key (``idempotency_key``, or a fresh random one), and when its outcome is unknown the SDK
        lists recent jobs and adopts the match before it would ever send it again. Raises
        ``ValidationError`` (every violated rule) before sending anything; a misspelt keyword is
        Python's ``TypeError`` (and a type checker's error).
        A create whose outcome stays unknown raises with ``code == "outcome_unknown"`` and its
        ``idempotency_key``: creating again with that key gets the job it made, if it made one,
        instead of a second charge. ``timeout``: seconds for the whole create (see :class:`Client`);
        one that passes after the create was sent still looks the job up once, so a job it made is
        returned or named, never lost."""
        deadline = call_deadline(timeout)
        body = create_body(dict(prompt=prompt, mode=mode, resolution=resolution, duration=duration, image_url=image_url, reference_url=reference_url, seed=seed))
        machine = self._c._create_machine(body, idempotency_key, deadline)
        await self._c._drive(machine)
        return job_of(machine)

    async def retrieve(self, id: str, *, timeout: Optional[float] = None) -> Job:
        """One job. ``timeout``: seconds for the whole call (see :class:`Client`)."""
        request = self._c._config.retrieve_video(self._c._key(), job_id(id))
        deadline = call_deadline(timeout)
        return Job._from_core(await self._c._call_parsed("retrieve_video", request, "job", id, deadline=deadline))

    async def list(self, limit: Optional[int] = None, offset: Optional[int] = None, *, timeout: Optional[float] = None) -> JobPage:
        """One page of jobs, most recent first (``limit`` 1 to 100, default 20). ``timeout``:
        seconds for the whole call (see :class:`Client`)."""
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        asked = json.dumps(params)
        request = self._c._config.list_videos(self._c._key(), asked)
        deadline = call_deadline(timeout)
        return JobPage.from_dict(await self._c._call_parsed("list_videos", request, "job_page", params=asked, deadline=deadline))

    def list_all(self, *, timeout: Optional[float] = None) -> AsyncIterator[Job]:
        """Every job, page after page (100 a page): ``async for job in client.videos.list_all()``.
        Ends at the last page, or at a page that starts with the job the one before started with
        (a server that ignores ``offset``); a job the page before held, pushed down by a newer one,
        is not yielded twice. ``timeout``: seconds for each page's call (see :class:`AsyncClient`),
        checked here, before the first page."""
        whole_timeout(timeout)
        return self._pages(timeout)

    async def _pages(self, timeout: Optional[float]) -> AsyncIterator[Job]:
        walk = _native.PageWalk(100)
        while (asked := walk.next_page()) is not None:
            page = await self.list(limit=asked[0], offset=asked[1], timeout=timeout)
            for i in walk.take([j.id for j in page.data], page.has_more):
                yield page.data[i]

    async def delete(self, id: str, *, timeout: Optional[float] = None) -> DeleteResult:
        """Cancels a pending job (refunding it) or deletes a finished job's record.
        ``ConflictError`` for a processing job. ``timeout``: seconds for the whole call (see
        :class:`Client`)."""
        request = self._c._config.delete_video(self._c._key(), job_id(id))
        deadline = call_deadline(timeout)
        return DeleteResult.from_dict(await self._c._call_parsed("delete_video", request, "delete", id, deadline=deadline))

    async def wait(
        self,
        id: str,
        timeout: Optional[float] = DEFAULT_WAIT_TIMEOUT,
        on_progress: Optional[OnProgress] = None,
        cancel: bool = False,
        *,
        poll: Optional[PollPolicy] = None,
    ) -> Job:
        """Waits until the job completes and returns it. ``JobFailedError`` if it fails;
        ``WaitTimeoutError`` after ``timeout`` seconds (``None``: no limit) while the job goes on,
        unless ``cancel=True``, which deletes a still-pending job (refunded) first: the caller
        waits 3 s for the delete at most, then a delete held longer (a spent rate limit, a 429's
        Retry-After) goes on in the background, up to 130 s more, and the error says so. With
        ``cancel=True``, cancelling the task (or Ctrl-C under ``asyncio.run``) also deletes a
        still-pending job before ``CancelledError`` propagates (the caller waits 3 s for it at most; a
        delete held longer goes on in a background task, up to 130 s more).
        ``on_progress(Progress)`` is called after every poll. ``poll`` tunes the core's schedule
        (``first_poll_ms``, ``min_interval_ms``, ``max_interval_ms``, ``expected_scale``). With
        ``expected_scale`` left at 1, the wait uses what the client's earlier create-and-waits
        learned of the service's speed."""
        machine = self._c._wait_machine(id, wait_options(timeout, cancel, self._c._max_retries, poll))
        await self._c._drive(machine, on_progress, cleanup=cancel)
        return job_of(machine)

    async def create_and_wait(
        self,
        prompt: str,
        mode: Mode,
        resolution: Optional[Resolution] = None,
        duration: Optional[int] = None,
        image_url: Optional[str] = None,
        reference_url: Optional[str] = None,
        seed: Optional[int] = None,
        *,
        timeout: Optional[float] = DEFAULT_WAIT_TIMEOUT,
        on_progress: Optional[OnProgress] = None,
        cancel: bool = False,
        poll: Optional[PollPolicy] = None,
        idempotency_key: Optional[str] = None,
    ) -> Job:
        """Creates a job (at most once, as :meth:`create`, ``idempotency_key`` included) and waits
        for it (as :meth:`wait`)."""
        body = create_body(dict(prompt=prompt, mode=mode, resolution=resolution, duration=duration, image_url=image_url, reference_url=reference_url, seed=seed))
        machine = self._c._create_and_wait_machine(body, wait_options(timeout, cancel, self._c._max_retries, poll), idempotency_key)
        await self._c._drive(machine, on_progress, cleanup=cancel)
        return job_of(machine)

    def batch(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        max_spend_cents: Optional[int] = None,
        concurrent_jobs: Optional[int] = None,
        requests_per_minute: Optional[int] = None,
        longest_first: bool = False,
        check_balance: bool = True,
        on_progress: Optional[OnBatchProgress] = None,
        poll_interval: Optional[float] = None,
        expected_scale: Optional[float] = None,
    ) -> AsyncBatchRun:
        """As :meth:`usvideo.Client.videos.batch`, iterated with ``async for item in run``."""
        options = self._c._batch_options(max_spend_cents, concurrent_jobs, requests_per_minute, longest_first, check_balance, poll_interval, expected_scale)
        return AsyncBatchRun(self._c, self._c._batch_machine(requests, options), on_progress)

    def resume_batch(
        self,
        snapshot: Union[str, bytes, Mapping[str, Any]],
        *,
        max_spend_cents: Optional[int] = None,
        concurrent_jobs: Optional[int] = None,
        requests_per_minute: Optional[int] = None,
        longest_first: bool = False,
        check_balance: bool = True,
        on_progress: Optional[OnBatchProgress] = None,
        poll_interval: Optional[float] = None,
        expected_scale: Optional[float] = None,
    ) -> AsyncBatchRun:
        """As :meth:`usvideo.Client.videos.resume_batch`."""
        options = self._c._batch_options(max_spend_cents, concurrent_jobs, requests_per_minute, longest_first, check_balance, poll_interval, expected_scale)
        return AsyncBatchRun(self._c, self._c._resume_batch_machine(snapshot, options), on_progress)

    async def download(self, job_or_url: Union[Job, str], path: Union[str, os.PathLike[str]], on_progress: Optional[OnDownload] = None, *, timeout: Optional[float] = None) -> int:
        """Downloads a completed job's video to ``path`` and returns its size in bytes, calling
        ``on_progress(bytes_so_far, total_or_None)`` (awaited when it is ``async def``). The video
        URL is a signed URL: no API key is sent with it. The body is written to ``<path>.part`` and
        moved onto ``path`` once whole: a failed download leaves no partial file. ``timeout``
        (seconds) bounds the download as a whole, checked after every chunk of the body
        (``APITimeoutError``; a body whole by then is kept), and each read, the headers' too;
        without it each read is bounded by the client's ``timeout`` and a body that trickles in can
        hold it. ``path`` is refused (``ValidationError``) before anything is sent when it is
        empty, and so is a job's id for ``job_or_url``."""
        c = self._c
        c._check_open()
        httpx = c._httpx
        url = video_url(job_or_url)
        download = Download(timeout)  # a bad timeout refused before anything is sent
        target = PartFile(path)  # so is a bad path
        started = time.monotonic()
        c._cleanups.begin()  # a user of the connections: a close() meanwhile lets it finish
        try:
            async with c._pool().stream("GET", url, headers=[("User-Agent", c._config.user_agent)], timeout=download.read_timeout(c._timeout), follow_redirects=True) as resp:
                log.debug("GET %s -> %d in %d ms", loggable(url), resp.status_code, (time.monotonic() - started) * 1000)
                if not 200 <= resp.status_code < 300:
                    body = bytearray()
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) >= ERROR_BODY_BYTES:
                            break
                    raise _native.error_from_response(resp.status_code, list(resp.headers.multi_items()), bytes(body))
                download.begin(resp.headers)
                with target as f:
                    async for chunk in resp.aiter_bytes():
                        f.write(chunk)
                        download.add(chunk)
                        if on_progress is not None:
                            awaiting: List[Any] = []
                            called(on_progress(download.written, download.total), awaiting)  # an `async def` one is awaited
                            for pending in awaiting:
                                await pending
        except httpx.HTTPError as exc:
            raise _native.transport_error(transport_kind(exc, httpx), f"{type(exc).__name__}: {exc}") from None
        except Overdue as over:
            raise download.overdue(over) from None
        finally:
            if c._cleanups.end() and c._owns_http:
                await c._close_pools()
        return download.written


class AsyncBatchRun:
    """A running batch (from :meth:`Videos.batch`): ``async for item in run`` yields a
    :class:`~usvideo.BatchItem` per request, in completion order (see
    :class:`usvideo.BatchRun`). ``await run.cancel()`` stops it."""

    def __init__(self, client: AsyncClient, machine: _native.Machine, on_progress: Optional[OnBatchProgress]) -> None:
        self._c = client
        self._machine = machine
        # An async def on_progress's results, awaited before the batch is driven on.
        self._awaiting: List[Any] = []
        self._events = BatchEvents(on_progress, self._awaiting)
        self._interrupted: List[int] = []
        self._summary: Optional[BatchSummary] = None
        self._failed = False
        self._cancelled: Optional[asyncio.Event] = None
        # Set as `cancel` begins (made on first use, as `_wake`'s): an iteration's request still
        # waiting for a slot of the rate limit is not sent.
        self._stop: Optional[asyncio.Event] = None

    def __repr__(self) -> str:
        p = self.progress
        return f"<AsyncBatchRun {p.done}/{p.total} done, {p.in_flight} in flight>"

    def __aiter__(self) -> AsyncBatchRun:
        return self

    async def __anext__(self) -> BatchItem:
        if not self._events.ready and not self._machine.is_done():
            await self._c._run(self._machine, self._events, keep=self._interrupted, wake=self._wake(), awaiting=self._awaiting, halt=self._stopping())
        if self._events.ready:
            return self._events.ready.pop(0)
        self._finish()
        raise StopAsyncIteration

    def _finish(self) -> None:
        if self._summary is None and not self._failed:
            try:
                self._summary = BatchSummary._from_json(self._machine.take_result())
            except BaseException:
                self._failed = True
                raise

    @property
    def progress(self) -> BatchProgress:
        """The counts now."""
        return BatchProgress.from_dict(json.loads(self._machine.batch_progress()))

    @property
    def estimated_cents(self) -> int:
        """The estimated cost, in cents, of the items not done when the batch was made."""
        return self._machine.estimated_cents()

    @property
    def summary(self) -> Optional[BatchSummary]:
        """Every item in input order, once the iteration has ended (else ``None``)."""
        return self._summary

    def snapshot(self) -> str:
        """Where the batch stands, as JSON, for :meth:`Videos.resume_batch`."""
        return self._machine.snapshot()

    def _wake(self) -> asyncio.Event:
        """Set once `cancel` has driven the batch to its end: an iteration asleep in another task
        (until a job's expected finish, minutes off) wakes to yield what it cancelled. Made on
        first use, inside the running loop (Python 3.9 binds an Event to a loop when made)."""
        import asyncio

        if self._cancelled is None:
            self._cancelled = asyncio.Event()
        return self._cancelled

    def _stopping(self) -> asyncio.Event:
        """Set as `cancel` begins (see ``_stop``); made on first use, as :meth:`_wake`'s."""
        import asyncio

        if self._stop is None:
            self._stop = asyncio.Event()
        return self._stop

    async def cancel(self) -> None:
        """Stops the batch: queued items end cancelled, pending jobs are deleted (refunded),
        processing jobs go on. The cancelled items are then yielded by the iteration, at once
        even where it was waiting in another task."""
        self._machine.cancel(now_ms())
        self._stopping().set()
        # A callback that raises (or whose coroutine does) does not stop the clean-up (helper-65:
        # a pending job was left to be charged): its first error is raised once the batch is done.
        failed: List[BaseException] = []

        async def guarded(c: Any) -> None:
            try:
                await c
            except Exception as e:  # noqa: BLE001 - the caller's own, raised below
                failed.append(e)

        def tell(text: str) -> bool:
            try:
                self._events(text)
            except Exception as e:  # noqa: BLE001
                failed.append(e)
            self._awaiting[:] = [guarded(c) for c in self._awaiting]
            return False

        while not self._machine.is_done():
            await self._c._run(self._machine, tell, keep=self._interrupted, awaiting=self._awaiting)
        # Only once done: a cancel() that failed must not leave the iteration's sleeps ended.
        self._wake().set()
        if failed:
            raise failed[0]


class AccountResource:
    """``client.account``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def retrieve(self, *, timeout: Optional[float] = None) -> Account:
        """Balance (cents), usage and plan. ``timeout``: seconds for the whole call (see :class:`Client`)."""
        deadline = call_deadline(timeout)
        request = self._c._config.retrieve_account(self._c._key())
        return Account.from_dict(await self._c._call_parsed("account", request, "account", deadline=deadline))


class PricingResource:
    """``client.pricing``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def retrieve(self, *, timeout: Optional[float] = None) -> PricingTable:
        """The service's pricing table, read exactly (no key needed). ``timeout``: seconds for the
        whole call (see :class:`Client`)."""
        deadline = call_deadline(timeout)
        request = self._c._config.retrieve_pricing()
        return PricingTable._from_json(_native.parse_pricing(*await self._c._call("pricing", request, deadline)))


class ApiKeysResource:
    """``client.api_keys``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def create(self, jwt: str, name: Optional[str] = None, *, timeout: Optional[float] = None) -> CreatedApiKey:
        """Creates an API key, authenticated with a JWT (not an API key). The key is shown once.
        ``timeout``: seconds for the whole call (see :class:`Client`)."""
        try:
            secret = Secret(jwt)
        finally:
            del jwt  # from here on only a redacting Secret holds it (traceback locals, debuggers), even when refused
        request = self._c._config.create_api_key(secret, name)
        deadline = call_deadline(timeout)  # after the JWT's `del`: a refused timeout left it in the frame
        return CreatedApiKey.from_dict(await self._c._call_parsed("create_api_key", request, "created_api_key", deadline=deadline))
