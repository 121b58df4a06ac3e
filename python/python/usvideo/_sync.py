"""The synchronous client: the core's machines driven over ``httpx.Client`` and ``time.sleep``.

httpx is imported when a client is made, not when ``usvideo`` is imported.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, List, Mapping, Optional, Union

from . import _native
from ._base import (
    DEBUG,
    MAX_RESPONSE_BYTES,
    BACKGROUND_CLEANUP_SECONDS,
    CLEANUP_SECONDS,
    DEFAULT_TIMEOUT,
    HANDED_OFF,
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
    create_body,
    job_id,
    job_of,
    log,
    loggable,
    now_ms,
    report_kept,
    on_event,
    progress_handler,
    refuse_async,
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
    import os

    import httpx

__all__ = ["Client", "BatchRun"]


class Client(BaseClient):
    """The US Video API client.

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
    Pass ``http_client`` to use your own ``httpx.Client``
    (proxies, custom TLS); it is then yours to close. Use it as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        max_retries: int = 4,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: Optional[httpx.Client] = None,
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
        self._http: httpx.Client = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self.videos = Videos(self)
        self.account = AccountResource(self)
        self.pricing = PricingResource(self)
        self.api_keys = ApiKeysResource(self)

    def close(self) -> None:
        """Closes the connections (of the httpx client this client made). Calls under way in
        other threads end at their next request with a ``UsageError`` (a wait with ``cancel=True``
        deletes its pending job first), and the last of them, or of the cancelled waits' clean-ups
        still running in the background, closes the connections when it ends."""
        if self._cleanups.close() and self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        self._check_open()  # a closed client refuses a `with` at once, not at its first call
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the driver

    def _acquire(self, deadline: Optional[int] = None, stop: Optional[threading.Event] = None) -> bool:
        """Waits in line for a slot of the key's shared rate limiter (the core's line: first come
        first served, woken about once, at its turn), until ``deadline`` at most (the request's
        own time runs while it waits, so a wait's deadline holds when the rate limit is spent).
        False when none came in time: the request must not be sent. Also False once ``stop`` is
        set during the wait (a batch's cancel: helper-65 saw a create that waited for a slot sent
        a minute after the cancel); a request that began waiting after it was set (the cancel's
        own deletes) waits on."""
        wait = SlotWait(self._limiter, deadline)
        watch = stop if stop is not None and not stop.is_set() else None
        try:
            while True:
                answer = wait.ask()
                if isinstance(answer, bool):
                    return answer
                if watch is not None:
                    if watch.wait(min(answer, 1.0)):  # in slices, as the sleeps below (Ctrl-C)
                        return False
                else:
                    time.sleep(answer)
        finally:
            wait.leave()

    def _drive(self, machine: _native.Machine, on_progress: Optional[OnProgress] = None, cleanup: bool = False) -> None:
        """Runs ``machine`` to done. Ctrl-C (or any exception) cancels it and propagates; with
        ``cleanup``, a still-pending job is first deleted (the caller waits CLEANUP_SECONDS for it at most, then it goes on in the background)."""
        self._check_open()
        refuse_async(on_progress)  # before anything is sent, not at the first report
        self._run(machine, progress_handler(on_progress), cleanup=cleanup)

    def _run(self, machine: _native.Machine, handle: Callable[[str], bool], cleanup: bool = False, keep: Optional[List[int]] = None, wake: Optional[threading.Event] = None, halt: Optional[threading.Event] = None) -> bool:
        """``_loop``, as a user of the client's transport: a ``close()`` meanwhile (another
        thread's) leaves it open until the last of the client's calls and clean-ups ends, and this
        call ends at its next request with a ``UsageError``, its clean-up done first (helper-76:
        httpx's bare ``RuntimeError`` escaped, and a ``cancel=True`` wait's delete met the closed
        transport, its job charged)."""
        self._cleanups.begin()
        try:
            return self._loop(machine, handle, cleanup, keep, wake, halt)
        finally:
            if self._cleanups.end() and self._owns_http:
                self._http.close()

    def _loop(self, machine: _native.Machine, handle: Callable[[str], bool], cleanup: bool = False, keep: Optional[List[int]] = None, wake: Optional[threading.Event] = None, halt: Optional[threading.Event] = None) -> bool:
        """Drives ``machine`` until it is done (True) or ``handle(event_json)`` returns True
        (False; it can be driven on later). On an exception the request in flight is reported as
        aborted and the machine cancelled, except with ``keep``: then the machine is left as it
        is (a batch stays resumable) and the request's id is put in ``keep``, to be reported as
        an unknown outcome when driving resumes. A set ``wake`` ends its sleeps (another thread
        has driven the machine on: a batch's ``cancel``); ``halt``, set, ends a create's wait for a
        slot of the rate limit, the create then not sent (a batch's cancel: ``_acquire``; a read cut
        short would count as a failed one)."""
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
                    if out[8] and not self._acquire(slot_by(deadline, out[9]), halt if out[3] == "POST" else None):
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
                    self._send(machine, out, left)
                    rid = None
                elif tag == "event":
                    if handle(out[1]):
                        return False
                elif tag == "wait_until":
                    delay = out[1] - now_ms()
                    if delay > 0 and wake is not None and not wake.is_set():
                        # In slices: a wait on a lock with a timeout may not be broken by Ctrl-C
                        # at once on every platform, where time.sleep is.
                        wake.wait(min(delay / 1000.0, 1.0))
                    elif delay > 0:
                        time.sleep(delay / 1000.0)
                    machine.handle_timeout(now_ms())
                elif tag == "pending" and keep is not None:
                    # A batch driven by two threads (the iteration and a cancel()): the other one
                    # has a request out. Its answer moves the machine on, unless that driver was
                    # interrupted and left it in `keep` meanwhile (helper-73: a cancel() then waited
                    # for it for ever).
                    if keep:
                        report_kept(machine, keep)
                        continue
                    time.sleep(0.01)
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
                self._cleanup(machine, tell=True)
            elif create_key is not None:
                tell_interrupted_create(machine, exc, create_key)
            raise
        # Awaited as a cancel's clean-up is, then handed to the background with the wait's own
        # error (it was given up after 10 s, under a spent rate limit: the job charged). An
        # interrupt meanwhile leaves it to go on: it is not the caller's to cancel.
        handed_off = self._cleanup(machine)
        if handed is not None and (handed_off or not machine.is_done()):
            raise handed  # the clean-up goes on without the caller (and tells how it ended)
        return True

    def _cleanup(self, machine: _native.Machine, tell: bool = False) -> bool:
        """After a cancel or a timeout with ``cancel=True``: sends what the machine still asks for
        (the delete of a pending job), each request in its turn for a slot, in a thread of its own
        (see ``Cleanup``). The caller waits CLEANUP_SECONDS for it at most; it may go on
        BACKGROUND_CLEANUP_SECONDS more, and the process waits for it before it exits (a non-daemon
        thread: a second Ctrl-C gives it up). True: handed to the background. ``tell``: log how it
        ended (a cancel's; a timed-out wait's once handed off: nobody else reads it). Never raises."""
        done = threading.Event()

        def run(cleanup: Cleanup) -> None:
            try:
                self._clean_up(cleanup)
            finally:
                done.set()
                if self._cleanups.end() and self._owns_http:
                    self._http.close()

        self._cleanups.begin()
        try:
            cleanup = Cleanup(machine, tell=tell)
            threading.Thread(target=run, args=(cleanup,), name="usvideo-cleanup").start()
        except RuntimeError:  # no new threads (the interpreter is shutting down): this one, bounded
            run(Cleanup(machine, CLEANUP_SECONDS, tell))
            return False
        handed_off = True  # also when a second Ctrl-C ends the caller's wait: the clean-up goes on
        try:
            handed_off = not done.wait(CLEANUP_SECONDS)
        finally:
            if handed_off:
                cleanup.tell = True
                log.warning(HANDED_OFF, BACKGROUND_CLEANUP_SECONDS, "; the process waits for it before it exits (Ctrl-C again to give it up)")
        return handed_off

    def _clean_up(self, cleanup: Cleanup) -> None:
        """Drives ``cleanup`` to its end, ignoring every failure."""
        machine = cleanup.machine
        try:
            while True:
                what, arg = cleanup.step()
                if what == "send":
                    out, deadline = arg
                    if out[8] and not self._acquire(slot_by(deadline, out[9])):
                        machine.handle_not_sent(out[1], now_ms())
                        continue
                    self._send(machine, out, max(1, deadline - now_ms()))
                elif what == "sleep":
                    time.sleep(arg)
                    machine.handle_timeout(now_ms())
                elif what == "stop":
                    return
        except Exception as exc:  # best effort: the original exception is what matters
            log.debug("clean-up after an interrupted wait failed: %s", type(exc).__name__)

    def _send(self, machine: _native.Machine, out: Any, timeout_ms: Optional[int]) -> None:
        """Sends the request of ``out`` (a machine's ``send``) and tells the machine its outcome."""
        rid, method, url, headers, body, counted = out[1], out[3], out[4], out[5], out[6], out[8]
        httpx = self._httpx
        started = time.monotonic()
        try:
            # `send(stream=True)` + `close()` is what `stream()` does, without its context manager.
            http = self._http
            limit = request_timeout(self._timeout, timeout_ms)
            resp = http.send(http.build_request(method, url, headers=headers, content=body, timeout=limit), stream=True)
            try:
                answer = AnswerBody(limit, started)
                for chunk in resp.iter_bytes():
                    answer.add(chunk)
            finally:
                resp.close()
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

    def _call(self, endpoint: str, request: Request, deadline: Optional[int] = None) -> Response:
        machine = self._call_machine(endpoint, request, deadline)
        self._drive(machine)
        return machine.take_response()

    def _call_parsed(self, endpoint: str, request: Request, what: str, id: Optional[str] = None, params: str = "{}", deadline: Optional[int] = None) -> Any:
        """A call whose response the core parses (``what``: ``job``, ``job_page``, …), as plain
        Python values (see ``_native.Machine.take_parsed``), ended by ``deadline`` (:func:`call_deadline`)."""
        machine = self._call_machine(endpoint, request, deadline)
        self._drive(machine)
        return machine.take_parsed(what, id, params)


class Videos:
    """``client.videos``: create, retrieve, list, delete, wait, create-and-wait, download."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def create(
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
        self._c._drive(machine)
        return job_of(machine)

    def retrieve(self, id: str, *, timeout: Optional[float] = None) -> Job:
        """One job. ``timeout``: seconds for the whole call (see :class:`Client`)."""
        request = self._c._config.retrieve_video(self._c._key(), job_id(id))
        deadline = call_deadline(timeout)
        return Job._from_core(self._c._call_parsed("retrieve_video", request, "job", id, deadline=deadline))

    def list(self, limit: Optional[int] = None, offset: Optional[int] = None, *, timeout: Optional[float] = None) -> JobPage:
        """One page of jobs, most recent first (``limit`` 1 to 100, default 20). ``timeout``:
        seconds for the whole call (see :class:`Client`)."""
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        asked = json.dumps(params)
        request = self._c._config.list_videos(self._c._key(), asked)
        deadline = call_deadline(timeout)
        return JobPage.from_dict(self._c._call_parsed("list_videos", request, "job_page", params=asked, deadline=deadline))

    def list_all(self, *, timeout: Optional[float] = None) -> Iterator[Job]:
        """Every job, page after page (100 a page). Ends at the last page, or at a page that starts
        with the job the one before started with (a server that ignores ``offset``); a job the page
        before held, pushed down by a newer one, is not yielded twice. ``timeout``: seconds for
        each page's call (see :class:`Client`), checked here, before the first page."""
        whole_timeout(timeout)
        return self._pages(timeout)

    def _pages(self, timeout: Optional[float]) -> Iterator[Job]:
        walk = _native.PageWalk(100)
        while (asked := walk.next_page()) is not None:
            page = self.list(limit=asked[0], offset=asked[1], timeout=timeout)
            for i in walk.take([j.id for j in page.data], page.has_more):
                yield page.data[i]

    def delete(self, id: str, *, timeout: Optional[float] = None) -> DeleteResult:
        """Cancels a pending job (refunding it) or deletes a finished job's record.
        ``ConflictError`` for a processing job. ``timeout``: seconds for the whole call (see
        :class:`Client`)."""
        request = self._c._config.delete_video(self._c._key(), job_id(id))
        deadline = call_deadline(timeout)
        return DeleteResult.from_dict(self._c._call_parsed("delete_video", request, "delete", id, deadline=deadline))

    def wait(
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
        ``cancel=True``, Ctrl-C (``KeyboardInterrupt``) or any exception during the wait also
        deletes a still-pending job before it propagates (the caller waits 3 s for it at most; a delete
        held longer goes on in the background, up to 130 s more).
        ``on_progress(Progress)`` is called after every poll. ``poll`` tunes the core's schedule
        (``first_poll_ms``, ``min_interval_ms``, ``max_interval_ms``, ``expected_scale``). With
        ``expected_scale`` left at 1, the wait uses what the client's earlier create-and-waits
        learned of the service's speed."""
        machine = self._c._wait_machine(id, wait_options(timeout, cancel, self._c._max_retries, poll))
        self._c._drive(machine, on_progress, cleanup=cancel)
        return job_of(machine)

    def create_and_wait(
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
        self._c._drive(machine, on_progress, cleanup=cancel)
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
    ) -> BatchRun:
        """Runs many creates within the account's limits and yields a :class:`~usvideo.BatchItem`
        per request as its job finishes (completion order)::

            run = client.videos.batch([{"prompt": "a fox", "mode": "text_to_video"}, ...], max_spend_cents=2000)
            for item in run:
                print(item.index, item.job.id if item.ok else item.error)

        Each request is a mapping of :meth:`create`'s keywords. Before anything is sent, every
        request is validated and the total estimated: ``ValidationError`` (bad items named
        ``requests[3].duration``, or a total above ``max_spend_cents``) here; then, on the first
        iteration, the account is read and ``InsufficientBalanceError`` raised if the balance does
        not cover the total (nothing created). At most ``concurrent_jobs`` (default 10) jobs are
        in flight, every request shares one budget of ``requests_per_minute`` (default the
        client's) so the batch never causes a 429, running jobs are observed with one list request,
        and no request is ever submitted twice. ``on_progress(BatchProgress)`` follows the counts.
        ``poll_interval`` (seconds, default 3) spaces the list polls; ``expected_scale`` scales the
        model of generation times until finished jobs teach the batch its own.

        ``run.snapshot()`` saves where it stands (JSON) for :meth:`resume_batch` in another
        process; ``run.cancel()`` stops it (queued items cancelled, pending jobs deleted)."""
        options = self._c._batch_options(max_spend_cents, concurrent_jobs, requests_per_minute, longest_first, check_balance, poll_interval, expected_scale)
        return BatchRun(self._c, self._c._batch_machine(requests, options), on_progress)

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
    ) -> BatchRun:
        """Continues a batch from :meth:`BatchRun.snapshot` (possibly in another process, after a
        crash): items whose create may have been sent are first reconciled by listing recent jobs,
        so none is submitted twice; finished items are not yielded again (they are in
        ``run.summary``). Resume within a day, from the latest snapshot: the service honours an
        idempotency key for 24 h (*assumption*), so from a snapshot more than 23 h older than the
        service's ``Date`` nothing is sent again: its queued items end ``snapshot_too_old`` (the
        batch may have sent them after the snapshot), and its submitting ones adopt their listed
        job or end the same way."""
        options = self._c._batch_options(max_spend_cents, concurrent_jobs, requests_per_minute, longest_first, check_balance, poll_interval, expected_scale)
        return BatchRun(self._c, self._c._resume_batch_machine(snapshot, options), on_progress)

    def download(self, job_or_url: Union[Job, str], path: Union[str, os.PathLike[str]], on_progress: Optional[OnDownload] = None, *, timeout: Optional[float] = None) -> int:
        """Downloads a completed job's video to ``path`` and returns its size in bytes, calling
        ``on_progress(bytes_so_far, total_or_None)`` (a plain function: an ``async def`` one is
        refused, as it would never run). The video URL is a signed URL: no API key is sent with it.
        The body is written to ``<path>.part`` and moved onto ``path`` once whole: a failed
        download leaves no partial file. ``timeout`` (seconds) bounds the download as a
        whole, checked after every chunk of the body (``APITimeoutError``; a body whole by then is
        kept), and each read, the headers' too; without it each read is bounded by the client's
        ``timeout`` and a body that trickles in can hold it. ``path`` is refused (``ValidationError``)
        before anything is sent when it is empty, and so is a job's id for ``job_or_url``."""
        refuse_async(on_progress)
        c = self._c
        c._check_open()
        httpx = c._httpx
        url = video_url(job_or_url)
        download = Download(timeout)  # a bad timeout refused before anything is sent
        target = PartFile(path)  # so is a bad path
        started = time.monotonic()
        c._cleanups.begin()  # a user of the connections: a close() meanwhile lets it finish
        try:
            with c._http.stream("GET", url, headers=[("User-Agent", c._config.user_agent)], timeout=download.read_timeout(c._timeout), follow_redirects=True) as resp:
                log.debug("GET %s -> %d in %d ms", loggable(url), resp.status_code, (time.monotonic() - started) * 1000)
                if not 200 <= resp.status_code < 300:
                    body = bytearray()
                    for chunk in resp.iter_bytes():
                        body += chunk
                        if len(body) >= ERROR_BODY_BYTES:
                            break
                    raise _native.error_from_response(resp.status_code, list(resp.headers.multi_items()), bytes(body))
                download.begin(resp.headers)
                with target as f:
                    for chunk in resp.iter_bytes():
                        f.write(chunk)
                        download.add(chunk)
                        if on_progress is not None:
                            on_progress(download.written, download.total)
        except httpx.HTTPError as exc:
            raise _native.transport_error(transport_kind(exc, httpx), f"{type(exc).__name__}: {exc}") from None
        except Overdue as over:
            raise download.overdue(over) from None
        finally:
            if c._cleanups.end() and c._owns_http:
                c._http.close()
        return download.written


class BatchRun:
    """A running batch (from :meth:`Videos.batch`): iterate it for a :class:`~usvideo.BatchItem`
    per request, in completion order. The iteration drives the batch; between two items nothing
    happens. If the whole batch fails (the balance is short, the key is refused) the iteration
    raises that error.

    ``snapshot()`` returns JSON to resume from, ``cancel()`` stops the batch, ``progress`` and
    ``estimated_cents`` describe it, and ``summary`` holds every item in input order once done."""

    def __init__(self, client: Client, machine: _native.Machine, on_progress: Optional[OnBatchProgress]) -> None:
        refuse_async(on_progress)
        self._c = client
        self._machine = machine
        self._events = BatchEvents(on_progress)
        self._interrupted: List[int] = []
        self._summary: Optional[BatchSummary] = None
        self._failed = False
        # Set once `cancel` has driven the batch to its end: an iteration asleep in another
        # thread (until a job's expected finish, minutes off) wakes to yield what it cancelled.
        self._cancelled = threading.Event()
        # Set as `cancel` begins: a request of the iteration's still waiting for a slot of the
        # rate limit is not sent (a create then ends cancelled, with no job).
        self._stop = threading.Event()

    def __repr__(self) -> str:
        p = self.progress
        return f"<BatchRun {p.done}/{p.total} done, {p.in_flight} in flight>"

    def __iter__(self) -> Iterator[BatchItem]:
        return self

    def __next__(self) -> BatchItem:
        if not self._events.ready and not self._machine.is_done():
            self._c._run(self._machine, self._events, keep=self._interrupted, wake=self._cancelled, halt=self._stop)
        if self._events.ready:
            return self._events.ready.pop(0)
        self._finish()
        raise StopIteration

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
        """Where the batch stands, as JSON: save it (a file, a database) and pass it to
        :meth:`Videos.resume_batch` to continue, in this process or another. Holds each item's
        request and idempotency key, never the API key."""
        return self._machine.snapshot()

    def cancel(self) -> None:
        """Stops the batch: queued items end cancelled, jobs still pending are deleted (refunded),
        processing jobs go on (reported cancelled with their id). Drives the clean-up to the end
        before it returns; the cancelled items are then yielded by the iteration, at once even
        where it was waiting in another thread."""
        self._machine.cancel(now_ms())
        self._stop.set()
        # A callback that raises does not stop the clean-up (helper-65: a pending job was left to
        # be charged): its first error is raised once the batch is done.
        failed: List[BaseException] = []

        def tell(text: str) -> bool:
            try:
                self._events(text)
            except Exception as e:  # noqa: BLE001 - the caller's own, raised below
                failed.append(e)
            return False

        while not self._machine.is_done():
            self._c._run(self._machine, tell, keep=self._interrupted)
        # Only once done: a cancel() that failed must not leave the iteration's sleeps ended.
        self._cancelled.set()
        if failed:
            raise failed[0]


class AccountResource:
    """``client.account``."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def retrieve(self, *, timeout: Optional[float] = None) -> Account:
        """Balance (cents), usage and plan. ``timeout``: seconds for the whole call (see :class:`Client`)."""
        deadline = call_deadline(timeout)
        request = self._c._config.retrieve_account(self._c._key())
        return Account.from_dict(self._c._call_parsed("account", request, "account", deadline=deadline))


class PricingResource:
    """``client.pricing``."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def retrieve(self, *, timeout: Optional[float] = None) -> PricingTable:
        """The service's pricing table, read exactly (no key needed). ``timeout``: seconds for the
        whole call (see :class:`Client`)."""
        deadline = call_deadline(timeout)
        request = self._c._config.retrieve_pricing()
        return PricingTable._from_json(_native.parse_pricing(*self._c._call("pricing", request, deadline)))


class ApiKeysResource:
    """``client.api_keys``."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def create(self, jwt: str, name: Optional[str] = None, *, timeout: Optional[float] = None) -> CreatedApiKey:
        """Creates an API key, authenticated with a JWT (not an API key). The key is shown once.
        ``timeout``: seconds for the whole call (see :class:`Client`)."""
        try:
            secret = Secret(jwt)
        finally:
            del jwt  # from here on only a redacting Secret holds it (traceback locals, debuggers), even when refused
        request = self._c._config.create_api_key(secret, name)
        deadline = call_deadline(timeout)  # after the JWT's `del`: a refused timeout left it in the frame
        return CreatedApiKey.from_dict(self._c._call_parsed("create_api_key", request, "created_api_key", deadline=deadline))
