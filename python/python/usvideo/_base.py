"""What the sync and async clients share: settings, the clock, entropy, request bodies as JSON,
events. No I/O here, and no decision that belongs to the core (validation, retries, backoff,
``Retry-After``, the poll schedule, deadlines, reconciliation are all in ``_native``)."""

from __future__ import annotations

import collections.abc
import json
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypedDict, Union

from . import _native
from ._secret import Secret
from .types import BatchItem, BatchProgress, Job, Progress

log = logging.getLogger("usvideo")
DEBUG = logging.DEBUG
#: Largest body read from an API answer (a larger one is the core's ``body_too_large``).
MAX_RESPONSE_BYTES: int = _native.MAX_RESPONSE_BYTES

USER_AGENT = f"usvideo-python/{_native.__version__}"
DEFAULT_TIMEOUT = 60.0
DEFAULT_WAIT_TIMEOUT = 600.0
#: Largest body read from a download's error answer (the API's own answers use MAX_RESPONSE_BYTES).
ERROR_BODY_BYTES = 64 * 1024
#: How long the caller of an interrupted ``cancel=True`` wait waits for its clean-up (the delete of
#: its pending job), seconds; a clean-up not done by then goes on in the background.
CLEANUP_SECONDS = 3.0
#: How much longer a clean-up may go on in the background (a thread, or a task of the event
#: loop), seconds: long enough for a slot of a spent rate limit (a minute's window) or a 429's
#: ``Retry-After``, as Kotlin's (helper-38: a delete given up after 3 s left its job charged).
BACKGROUND_CLEANUP_SECONDS = 130.0

Headers = list[Tuple[str, str]]
Request = Tuple[str, str, Headers, Optional[bytes]]
Response = Tuple[int, Headers, bytes]
OnProgress = Callable[[Progress], Any]
OnDownload = Callable[[int, Optional[int]], Any]
OnBatchProgress = Callable[[BatchProgress], Any]
class PollPolicy(TypedDict, total=False):
    """A wait's ``poll``: the core's poll schedule, each member optional (a misspelt one is a type
    error here, and a ``ValidationError`` naming it at run time)."""

    first_poll_ms: int
    min_interval_ms: int
    max_interval_ms: int
    expected_scale: float


def slot_by(deadline: Optional[int], send_by: Optional[int]) -> Optional[int]:
    """The latest a request waits for a slot of the rate limiter: its deadline, or sooner its
    ``send_by`` (a clean-up's delete whose job's sighting goes stale then: the core looks at the
    job again first when told ``handle_not_sent``; helper-44: held deletes removed finished videos)."""
    return send_by if deadline is None else deadline if send_by is None else min(deadline, send_by)


def now_ms() -> int:
    """The core's clock: monotonic milliseconds."""
    return int(time.monotonic() * 1000)


def report_kept(machine: _native.Machine, keep: List[int]) -> None:
    """Tells a batch's machine that the requests another driver of it left in ``keep`` (it was
    interrupted with them out) will get no answer: each an unknown outcome (a create's is
    reconciled, never sent again blindly)."""
    while keep:
        machine.handle_transport_error(keep.pop(), "other", "interrupted before the answer was read", now_ms())


def sent_create_key(out: Any) -> Optional[str]:
    """The idempotency key of a machine's ``send`` when it is a create's, else None."""
    if out[2] != "create_video":
        return None
    return next((v for n, v in out[5] if n.lower() == "idempotency-key"), None)


def tell_interrupted_create(machine: _native.Machine, exc: BaseException, key: str) -> None:
    """A plain ``create`` interrupted (Ctrl-C, a task's cancel) after its request went out, the
    machine cancelled: the service may have made its job, and no clean-up looks for it (a
    ``create_and_wait``'s does, and ``_tell`` says how it ended). Unless the core knows nothing
    was made, says how to get that job back rather than charge a second: a warning, and a note
    on the exception where Python has them (3.11+). The ``KeyboardInterrupt`` or
    ``CancelledError`` itself is kept: it is the caller's."""
    from .errors import USVideoError

    if machine.job_id() is not None:
        return  # a create_and_wait's job was named (its progress said so): it goes on, as documented
    if machine.is_done():
        try:
            machine.take_result()
            return  # not reached: an interrupted create ends with an error
        except USVideoError as e:
            if e.idempotency_key is None:
                return  # the core knows no job was made
        except Exception:  # a bug's error is not this interrupt's to raise
            return
    text = f"usvideo: a create interrupted after it was sent may have made a job (charged if it completes); create the same request again with idempotency_key={key!r} to get that job rather than a second"
    log.warning("%s", text)
    add_note = getattr(exc, "add_note", None)
    if add_note is not None:
        add_note(text)


def new_seed() -> int:
    """64 random bits for the core's jitter."""
    return int.from_bytes(os.urandom(8), "little")


def new_idempotency_key() -> str:
    """One key per logical create, reused by the core on every attempt of it."""
    return _native.idempotency_key(os.urandom(16))


def create_body(named: Mapping[str, Any]) -> str:
    """The create request as loose JSON for the core's checks: arguments left at ``None`` are
    absent. The arguments are typed for type checkers, but values from untyped code (JSON, a
    form) go through as they are, so the core names every wrong one at once."""
    body: Dict[str, Any] = {k: v for k, v in named.items() if v is not None}
    return json_of(body)


def job_id(id: Any) -> str:
    """A job id argument, refused by name when it is not text (helper-43: `retrieve(5)` was a bare
    TypeError from the native module), saying when a whole job was passed for its id."""
    if isinstance(id, str):
        return id
    got = "a Job (pass its .id)" if hasattr(id, "id") and hasattr(id, "status") else type(id).__name__
    raise invalid("id", "invalid_type", f"id must be a job's id (a str); got {got}")


def invalid(field: str, code: str, message: str) -> Exception:
    """The ``ValidationError`` of one issue, as the core would raise it (its ``code`` the rule's)."""
    issue = {"field": field, "code": code, "message": message}
    return _native.error_from_json(json.dumps({"kind": "validation", "code": code, "message": message, "field": field, "issues": [issue]}))


def json_of(value: Any, at: str = "") -> str:
    """``value`` as JSON for the core. A member JSON cannot carry (NaN or infinity, which
    ``json.dumps`` writes as text the core cannot read; bytes, a set, an object) is a
    ``ValidationError`` naming it (``duration``, ``requests[3].prompt``, ``poll.expected_scale``)."""
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        found = _unsendable(value, at)
        if found is None:
            raise
        field, bad = found
        raise invalid(field, "invalid_type", f"{field} must be text, a finite number, true or false, a list or a mapping (got {bad!r:.40})") from None


def _unsendable(value: Any, at: str, within: Tuple[int, ...] = ()) -> Optional[Tuple[str, Any]]:
    """The first member of ``value`` that JSON cannot carry, and where it is (a container within
    itself is one)."""
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in within:
            return (at or "value", value)
        within = within + (id(value),)
    if isinstance(value, Mapping):
        for k, v in value.items():
            found = _unsendable(v, f"{at}.{k}" if at else str(k), within)
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _unsendable(v, f"{at}[{i}]", within)
            if found is not None:
                return found
        return None
    try:
        json.dumps(value, allow_nan=False)
        return None
    except (TypeError, ValueError):
        return (at or "value", value)


def _at_least(value: Any, least: float) -> bool:
    """Whether ``value`` is a number (any: int, float, Decimal, Fraction, numpy's) not below
    ``least``; NaN, ``bool``, text and complex numbers are not. Duck-typed: the ``numbers`` ABCs
    would cost the package's import time, and Decimal is not a ``numbers.Real``."""
    if isinstance(value, (bool, str, bytes)):
        return False
    try:
        return bool(value >= least)
    except TypeError:
        return False


def _code(value: Any) -> str:
    """The code of a refused number argument, as the core and npm say it: ``invalid_type`` for a
    value that is no number at all (text, ``bool``, ``None``), ``out_of_range`` for a number that
    breaks the rule (negative, a fraction where a count is asked, NaN)."""
    number = not isinstance(value, (bool, str, bytes)) and (hasattr(type(value), "__index__") or hasattr(type(value), "__float__"))
    return "out_of_range" if number else "invalid_type"


def check_seconds(name: str, value: Optional[float]) -> None:
    """Refuses a duration in seconds (this package's own argument, so checked by its name here)
    that is not a real number from 0 (``None`` passes: no limit)."""
    if value is not None and not _at_least(value, 0):
        raise invalid(name, _code(value), f"{name} must be a number of seconds from 0, or None for no limit (got {value!r:.40})")


def check_count(name: str, value: int, least: int = 0) -> None:
    """Refuses a count (this package's own argument) that is not a whole number from ``least`` to
    2**32 - 1: the core's counts are unsigned 32-bit, so -1 is not "none"."""
    if isinstance(value, bool) or not hasattr(value, "__index__") or not least <= value <= 0xFFFF_FFFF:
        raise invalid(name, _code(value), f"{name} must be a whole number from {least} to 4294967295 (got {value!r:.40})")


def wait_options(timeout: Optional[float], cancel: bool, max_retries: int, poll: Optional[PollPolicy]) -> str:
    """A partial core ``WaitOptions`` (JSON); the core fills in the rest (and checks ``poll``).
    ``timeout`` is this package's name (seconds), so it is checked here, by that name."""
    check_seconds("timeout", timeout)
    opts: Dict[str, Any] = {
        # Beyond what the core's milliseconds hold (u64), there is no limit.
        "timeout_ms": None if timeout is None or timeout * 1000 >= 2**64 else int(timeout * 1000),
        "cancel_on_timeout": bool(cancel),
        "retry": {"max_retries": max_retries},
    }
    if poll is not None:
        opts["poll"] = dict(poll)
    return json_of(opts)


def batch_requests(requests: Iterable[Mapping[str, Any]]) -> str:
    """A batch's requests as loose JSON (each item like :meth:`Videos.create`'s keywords; ``None``
    values absent). The core validates every item and names the bad ones (``requests[3].duration``)."""
    items: List[Dict[str, Any]] = []
    for r in requests:
        if not isinstance(r, Mapping):
            field = f"requests[{len(items)}]"
            raise invalid(field, "invalid_type", f"{field} must be a mapping (dict) of create fields")
        items.append({k: v for k, v in r.items() if v is not None})
    return json_of(items, "requests")


def batch_options(
    max_spend_cents: Optional[int],
    concurrent_jobs: Optional[int],
    requests_per_minute: int,
    longest_first: bool,
    check_balance: bool,
    poll_interval: Optional[float],
    expected_scale: Optional[float],
    max_retries: int,
) -> str:
    """A partial core ``BatchOptions`` (JSON); the core fills in the rest. The counts are checked
    here, by this package's names (the core would name ``limits.concurrent_jobs``)."""
    if concurrent_jobs is not None:
        check_count("concurrent_jobs", concurrent_jobs, least=1)  # the core's rule, by this package's name
    check_count("requests_per_minute", requests_per_minute)
    opts: Dict[str, Any] = {
        "max_spend_cents": max_spend_cents,
        "limits": {"requests_per_minute": int(requests_per_minute), "concurrent_jobs": 10 if concurrent_jobs is None else int(concurrent_jobs)},
        "longest_first": bool(longest_first),
        "check_balance": bool(check_balance),
        "retry": {"max_retries": max_retries},
    }
    if poll_interval is not None:
        check_seconds("poll_interval", poll_interval)
        opts["poll_interval_ms"] = max(1, int(poll_interval * 1000))
    if expected_scale is not None:
        opts["expected_scale"] = float(expected_scale)
    return json_of(opts)


class BatchEvents:
    """Reads a batch machine's events: finished items into ``ready``, counts to ``on_progress``,
    the rest to the log (as for single jobs)."""

    def __init__(self, on_progress: Optional[OnBatchProgress], awaiting: Optional[List[Any]] = None) -> None:
        self.on_progress = on_progress
        self.awaiting = awaiting
        self.ready: List[BatchItem] = []

    def __call__(self, text: str) -> bool:
        """Handles one event; True (stop driving) once an item finished."""
        ev: Dict[str, Any] = json.loads(text)
        kind = ev.get("type")
        if kind == "item_done":
            self.ready.append(BatchItem.from_dict(ev))
            return True
        if kind == "batch_progress":
            if self.on_progress is not None:
                called(self.on_progress(BatchProgress.from_dict(ev)), self.awaiting)
            return False
        log_event(ev, None)
        return False


def snapshot_text(snapshot: Union[str, bytes, Mapping[str, Any]]) -> str:
    if isinstance(snapshot, Mapping):
        return json.dumps(snapshot)
    if isinstance(snapshot, bytes):
        return snapshot.decode("utf-8")
    return snapshot


def loggable(url: str) -> str:
    """A URL without its query (a signed video URL carries its secret there)."""
    return url.split("?", 1)[0]


def on_event(text: str, on_progress: Optional[OnProgress], awaiting: Optional[List[Any]] = None) -> None:
    """Passes one core event to the application: progress to ``on_progress``, the rest to the log."""
    log_event(json.loads(text), on_progress, awaiting)


def progress_handler(on_progress: Optional[OnProgress], awaiting: Optional[List[Any]] = None) -> Callable[[str], bool]:
    """An event handler for a single job's machine: never stops the drive."""

    def handle(text: str) -> bool:
        on_event(text, on_progress, awaiting)
        return False

    return handle


_ASYNC_CALLBACK = "on_progress is a coroutine function (async def): the sync Client calls it without awaiting; pass a plain function, or use AsyncClient, which awaits it"


def refuse_async(on_progress: Optional[Callable[..., Any]]) -> None:
    """The sync client's check, before anything is sent: an ``async def`` callback would never run
    (``inspect.iscoroutinefunction``'s test, without importing ``inspect``)."""
    target = getattr(on_progress, "__func__", on_progress)
    if target is not None and not hasattr(target, "__code__"):
        target = getattr(getattr(target, "__call__", None), "__func__", None)  # a callable object
    code = getattr(target, "__code__", None)
    if code is not None and code.co_flags & 0x80:  # CO_COROUTINE
        raise TypeError(_ASYNC_CALLBACK)


def called(result: Any, awaiting: Optional[List[Any]]) -> None:
    """What a progress callback returned: a coroutine (an ``async def`` callback) goes to
    ``awaiting``, for the async client to await before it drives on. A Task or Future (a callback
    that starts work and does not wait for it) is left alone. The sync client, which checked its
    callback up front (``refuse_async``), cannot await one either, and says so rather than drop
    it unrun."""
    if not isinstance(result, collections.abc.Coroutine):
        return
    if awaiting is not None:
        awaiting.append(result)
        return
    result.close()  # no "never awaited" warning on top of this error
    raise TypeError(_ASYNC_CALLBACK)


class PartFile:
    """Where a download is written: ``<path>.part`` beside ``path``, moved onto ``path`` only once
    the whole body arrived; a download that fails leaves neither a partial file at ``path`` (it
    left half a video there: helper-43) nor the ``.part``. A context manager around the writes."""

    def __init__(self, path: Union[str, "os.PathLike[str]"]) -> None:
        self.path = os.fspath(path)
        if not self.path:
            # `""` wrote `./.part`, then failed to move it onto nothing and left it (helper-49).
            raise invalid("path", "blank", "path must name a file to write the video to")
        # A symlink's file is written by the same rule beside its target and moved onto that, so
        # the link stays and a failed download leaves the old file whole (helper-76: written
        # through the link, it was cut short). A path that is there but no regular file
        # (`/dev/null`, a pipe) is written as it is: a `.part` moved onto it would replace it.
        self.final = os.path.realpath(self.path) if os.path.islink(self.path) else self.path
        direct = os.path.exists(self.final) and not os.path.isfile(self.final)
        self.part = self.final if direct else self.final + ".part"
        self.file: Any = None

    def __enter__(self) -> Any:
        self.file = open(self.part, "wb")
        return self.file

    def __exit__(self, kind: Any, _value: Any, _tb: Any) -> None:
        whole = False
        try:
            self.file.close()  # a failed close (a full disk) is not whole either
            whole = kind is None
        finally:
            if self.part != self.final:
                try:
                    if whole:
                        os.replace(self.part, self.final)
                        return
                except OSError:
                    self._drop()
                    raise
                self._drop()

    def _drop(self) -> None:
        try:
            os.remove(self.part)
        except OSError:
            pass


def log_event(ev: Dict[str, Any], on_progress: Optional[OnProgress], awaiting: Optional[List[Any]] = None) -> None:
    kind = ev.get("type")
    if kind == "progress":
        if on_progress is not None:
            called(on_progress(Progress.from_dict(ev)), awaiting)
    elif kind == "retrying":
        err = ev.get("error") or {}
        log.debug("retry %s in %s ms after %s: %s", ev.get("attempt"), ev.get("after_ms"), err.get("code"), err.get("message"))
    elif kind == "reconciling":
        log.debug("create outcome unknown (%s); listing recent jobs to reconcile", (ev.get("error") or {}).get("code"))
    elif kind == "reconciled":
        log.debug("reconciled: adopted job %s", (ev.get("job") or {}).get("id"))
    elif kind == "created":
        log.debug("created job %s", (ev.get("job") or {}).get("id"))
    elif kind == "status_changed":
        job = ev.get("job") or {}
        log.debug("job %s is %s", job.get("id"), job.get("status"))
    elif kind == "cleaning_up":
        log.debug("the wait gave its job up (%s); deleting it if still pending", (ev.get("error") or {}).get("code"))
    elif kind == "warning":
        log.warning("usvideo: %s", ev.get("message"))


def transport_kind(exc: BaseException, httpx: Any) -> str:
    """httpx's exception → the core's transport kind. A connect failure (or connect timeout) never
    reached the server; any other failure may have."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return "connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "other"


def whole_timeout(timeout: Any) -> Optional[float]:
    """A call's or a download's own ``timeout``: seconds over the whole of it (its attempts, its
    pauses, its waits for a rate-limit slot), ``None`` for no bound but each attempt's. Refused by
    name when it is no positive number."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise invalid("timeout", "invalid_type", f"timeout must be a number of seconds or None; got {type(timeout).__name__}")
    if not timeout > 0:  # NaN too
        raise invalid("timeout", "out_of_range", f"timeout must be above 0 seconds; got {timeout!r}")
    return float(timeout)


class Download:
    """A download's count of bytes against its ``timeout`` (seconds over the whole download,
    checked by name when made: before anything is sent) and its ``Content-Length``."""

    def __init__(self, timeout: Any) -> None:
        self.timeout = whole_timeout(timeout)
        self._deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.written = 0
        self.total: Optional[int] = None

    def read_timeout(self, client_timeout: float) -> float:
        """Each read's bound, the headers' too."""
        return client_timeout if self.timeout is None else min(client_timeout, self.timeout)

    def begin(self, headers: Any) -> None:
        length = headers.get("content-length", "")
        self.total = int(length) if length.isdigit() else None

    def add(self, chunk: bytes) -> None:
        """Counts a chunk written; ``Overdue`` past the bound with more to come (a body whole at
        the bound is kept: helper-49)."""
        self.written += len(chunk)
        if self._deadline is not None and time.monotonic() > self._deadline and (self.total is None or self.written < self.total):
            raise Overdue(f"the download was still arriving after its timeout ({self.timeout:g} s)")

    def overdue(self, over: Overdue) -> Exception:
        return _native.transport_error("timeout", f"{over}; {self.written} bytes had arrived")


def call_deadline(timeout: Any) -> Optional[int]:
    """A call's ``timeout`` as a deadline on the core's clock (:func:`now_ms`), which ends the
    call, retries and waits included (the core's ``Call`` and ``Create`` take it). One beyond any
    clock's reach (``inf``) is no bound."""
    seconds = whole_timeout(timeout)
    if seconds is None or seconds * 1000 >= 2**53:
        return None
    return now_ms() + max(1, int(seconds * 1000))


class Overdue(Exception):
    """An answer still arriving when its attempt's time ran out. httpx's timeout bounds each read,
    so the drivers check the whole attempt's time after every chunk of the body."""

    @classmethod
    def answer(cls, limit: float) -> Overdue:
        return cls(f"the answer was still arriving after the request's timeout ({limit:g} s)")


class BodyTooLarge(Exception):
    """An answer over ``MAX_RESPONSE_BYTES`` (told to the core as ``body_too_large``)."""


class AnswerBody:
    """An answer's body as its chunks arrive, bounded in size and in time: httpx's timeout bounds
    each read, not the whole answer, and a body that trickled a byte before every read timeout held
    a call (and a wait past its deadline) for hours (helper-47). Each driver feeds it from its own
    loop (``for``, ``async for``); ``BodyTooLarge`` or ``Overdue`` ends the loop."""

    def __init__(self, limit: float, started: float) -> None:
        self._chunks: List[bytes] = []
        self._size = 0
        self._limit = limit
        self._started = started

    def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        if self._size > MAX_RESPONSE_BYTES:
            raise BodyTooLarge()
        if time.monotonic() - self._started > self._limit:
            raise Overdue.answer(self._limit)

    def whole(self) -> bytes:
        return self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)


def request_timeout(client_timeout: float, timeout_ms: Optional[int]) -> float:
    if timeout_ms is None:
        return client_timeout
    return min(client_timeout, max(timeout_ms, 1) / 1000.0)


class SlotWait:
    """One call's wait in line for a slot of the key's shared rate limiter (the core's line: first
    come first served, woken about once, at its turn), until ``deadline`` at most. The decisions of
    the sync and async drivers alike; they only sleep (``time.sleep`` or ``asyncio.sleep``) for
    what :meth:`ask` says, and call :meth:`leave` in a ``finally``."""

    def __init__(self, limiter: _native.RateLimiter, deadline: Optional[int]) -> None:
        self.limiter = limiter
        self.deadline = deadline
        self.ticket: Optional[int] = None

    def ask(self) -> Union[bool, float]:
        """True: the slot is taken, send. False: none came by the deadline, do not send. Else the
        seconds to sleep before asking again."""
        t = now_ms()
        self.ticket, until = self.limiter.acquire_in_line(self.ticket, t)
        if until is None:
            return True
        if self.deadline is not None and t >= self.deadline:
            return False
        if until - t > 1000 and log.isEnabledFor(DEBUG):
            log.debug("waiting %d ms for a slot of the key's rate limit (spent, or paused by a 429's Retry-After)", until - t)
        return max(0, (until if self.deadline is None else min(until, self.deadline)) - now_ms()) / 1000.0

    def leave(self) -> None:
        """Gives the place up if it still holds one (a deadline, Ctrl-C, a cancelled task): those
        behind move up."""
        if self.ticket is not None:
            self.limiter.leave(self.ticket)


class Cleanup:
    """The clean-up of a wait given up (the delete of its pending job after a cancel or a timeout
    with ``cancel=True``, `job` rules 2 and 6): the decisions
    of the sync and async drivers alike, which only wait for slots, send and sleep their own way.
    Every request waits its turn for a slot of the key's limiter (sent past a spent budget, the
    delete met a 429 whose pause outlasted the clean-up). It may take until ``end`` (the caller's
    CLEANUP_SECONDS, then BACKGROUND_CLEANUP_SECONDS in the background); what is not done by then
    is given up, with a warning: the job goes on."""

    def __init__(self, machine: _native.Machine, seconds: float = CLEANUP_SECONDS + BACKGROUND_CLEANUP_SECONDS, tell: bool = False) -> None:
        self.machine = machine
        self.seconds = seconds
        self.end = now_ms() + int(seconds * 1000)
        # A cancel's clean-up: nobody reads its outcome (the caller gets its CancelledError or
        # KeyboardInterrupt), so it is logged; a timed-out wait's is its caller's error.
        self.tell = tell

    def step(self) -> Tuple[str, Any]:
        """``("send", (out, deadline))``: wait in line for a slot until ``deadline`` (tell the
        machine ``handle_not_sent`` if none came), then send ``out``'s request with what is left;
        ``("sleep", seconds)``, then ``handle_timeout``; ``("next", None)``: ask again;
        ``("stop", None)``: done, or out of time."""
        t = now_ms()
        if t >= self.end:
            return self._give_up()
        out = self.machine.poll(t)
        tag = out[0]
        if tag == "send":
            return ("send", (out, self.end if out[7] is None else min(self.end, t + out[7])))
        if tag == "event":
            on_event(out[1], None)
            return ("next", None)
        if tag == "wait_until":
            return self._give_up() if out[1] >= self.end else ("sleep", max(0, out[1] - t) / 1000.0)
        if self.tell and self.machine.is_done():
            _tell(self.machine)
        return ("stop", None)  # done ("pending" cannot be: every request is awaited inline)

    def _give_up(self) -> Tuple[str, Any]:
        # The job named (helper-76: four such warnings named none), so that it can be deleted.
        job = self.machine.job_id()
        if job is None:
            log.warning("usvideo: a wait's clean-up gave up %d s after it began: its pending job, if it has one, was not deleted and goes on (charged if it completes)", self.seconds)
        else:
            log.warning("usvideo: a wait's clean-up gave up %d s after it began: job %s, if still pending, was not deleted and goes on (charged if it completes): videos.delete(%r) removes it while it is pending (refunded)", self.seconds, job, job)
        return ("stop", None)


def _tell(machine: _native.Machine) -> None:
    """Logs how a cancelled wait's clean-up ended, its job named: a warning when the job was not
    deleted (processing, finished, left to another call, or unsure), as it goes on and is charged
    if it completes (helper-43: a backend cancelling a processing job was told nothing)."""
    from .errors import USVideoError

    try:
        machine.take_result()
    except USVideoError as e:
        if e.job_id is not None:
            log.log(logging.INFO if e.message.endswith("deleted and refunded") else logging.WARNING, "usvideo: job %s: %s", e.job_id, e.message)
        elif e.idempotency_key is not None:
            # The create's outcome stayed unknown (helper-61: against a service whose jobs show no
            # prompt, a cancelled create_and_wait's job was charged and nothing said so).
            log.warning("usvideo: a cancelled call's create may have made a job, charged if it completes: %s; create the same request again with idempotency_key=%r to get that job (and delete it)", e.message, e.idempotency_key)
    except Exception:  # a bug's error is not a clean-up's to raise
        pass


class Cleanups:
    """How many of a client's calls and clean-ups are running, and whether the client was closed
    meanwhile: its own httpx client is then closed by the last of them, not under them (a delete
    sent on a closed transport fails, leaving its job charged)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._closed = False

    def begin(self) -> None:
        with self._lock:
            self._running += 1

    def end(self) -> bool:
        """True: the client was closed while this one ran, and it was the last: close it now."""
        with self._lock:
            self._running -= 1
            return self._closed and self._running == 0

    @property
    def closed(self) -> bool:
        """Whether the client was closed."""
        return self._closed

    def close(self) -> bool:
        """True: close the transport now; False: the last clean-up will."""
        with self._lock:
            self._closed = True
            return self._running == 0


HANDED_OFF = "usvideo: the delete of a pending job its wait gave up (a cancel, or a timeout with cancel=True) goes on in the background (up to %d s more: waiting for a slot of the rate limit, a 429's Retry-After or the server)%s"


def shared_limiter(base_url: str, key: Optional[str], requests_per_minute: int) -> _native.RateLimiter:
    """The rate limiter of a key: one per base URL, key and budget in the process, shared by
    every client made with them, sync and async alike (the service counts a key's requests, not
    a client's: two clients on one key, or a server that makes a client per request, would each
    spend the whole budget). The table is the core's, the one the Rust, Kotlin and Swift clients
    use: the newest 64 keys' are kept past their clients (a key's window must outlive a
    short-lived client; a server with its customers' keys must not grow for ever); a client keeps
    its own however many came after. With no budget (0) there is nothing to share. Keyed by a hash
    of the key, never the key."""
    return _native.RateLimiter.shared(base_url, key, requests_per_minute)


class BaseClient:
    """Settings shared by :class:`usvideo.Client` and :class:`usvideo.AsyncClient`."""

    def __init__(
        self,
        api_key: Optional[str],
        base_url: Optional[str],
        max_retries: int,
        timeout: float,
        requests_per_minute: int,
    ) -> None:
        # The key lives only as a Secret (its repr and str redact), from here to the header: the
        # raw text leaves this frame's locals even when it is refused (traceback locals showed a
        # refused key: helper-43).
        try:
            if isinstance(api_key, (bytes, bytearray)):
                raise invalid("api_key", "invalid_type", "api_key must be text (str), not bytes")
            self.__api_key: Optional[Secret] = Secret(api_key if api_key is not None else os.environ.get("USVIDEO_API_KEY", "")) or None
        finally:
            del api_key
        if self.__api_key is not None:
            _native.validate_api_key(self.__api_key)
        base = base_url or os.environ.get("USVIDEO_BASE_URL") or _native.DEFAULT_BASE_URL
        self._config = _native.Config(base, USER_AGENT, self.__api_key)
        check_count("max_retries", max_retries)
        check_count("requests_per_minute", requests_per_minute)
        if not _at_least(timeout, 0) or timeout == 0:
            raise invalid("timeout", "out_of_range", f"timeout must be a number of seconds above 0 (got {timeout!r:.40})")
        self._max_retries = int(max_retries)
        self._retry_json = json.dumps({"max_retries": self._max_retries})
        self._timeout = float(timeout)
        self._requests_per_minute = int(requests_per_minute)
        self._limiter = shared_limiter(self._config.base_url, self.__api_key, self._requests_per_minute)
        self._cleanups = Cleanups()

    @property
    def base_url(self) -> str:
        return self._config.base_url

    def _key(self) -> Optional[Secret]:
        """The API key (a redacting :class:`Secret`), or ``None``: a keyless client, whose requests
        carry no ``Authorization`` (a server-side proxy adds it). The core refuses such a call
        that needs a key when ``base_url`` is the service's own (``ValidationError`` on ``api_key``)."""
        return self.__api_key

    def __repr__(self) -> str:
        # A client whose construction was refused is still shown (traceback locals of `self`).
        config = getattr(self, "_config", None)
        return f"{type(self).__name__}(base_url={config.base_url if config is not None else None!r})"

    def _call_machine(self, endpoint: str, request: Request, deadline: Optional[int] = None) -> _native.Machine:
        method, url, headers, body = request
        return _native.Machine.call(endpoint, method, url, headers, body, new_seed(), self._retry_json, deadline)

    def _create_machine(self, body: str, idempotency_key: Optional[str] = None, deadline: Optional[int] = None) -> _native.Machine:
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        return _native.Machine.create(self._config, self._key(), body, key, new_seed(), self._retry_json, deadline)

    def _wait_machine(self, id: str, options: str) -> _native.Machine:
        return _native.Machine.wait(self._config, self._key(), job_id(id), new_seed(), now_ms(), options)

    def _check_open(self) -> None:
        """Refuses a call on a closed client by a ``UsageError`` (helper-43: httpx's bare
        ``RuntimeError`` escaped ``except USVideoError``); its clean-ups under way go on."""
        if self._cleanups.closed:
            from .errors import UsageError

            raise UsageError(f"this {type(self).__name__} was closed (close(), or the end of its with block): make a new one")

    def _closed_during(self) -> Exception:
        """The error of a call under way when its client was closed (by another thread or task)."""
        from .errors import UsageError

        return UsageError(f"this {type(self).__name__} was closed during the call (close(), or the end of its with block, elsewhere): the call ended at its next request, after deleting a pending job it was to delete on giving up (cancel=True); make a new client to go on (a batch resumes from its snapshot())")

    def _create_and_wait_machine(self, body: str, options: str, idempotency_key: Optional[str] = None) -> _native.Machine:
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        return _native.Machine.create_and_wait(self._config, self._key(), body, key, new_seed(), now_ms(), options)

    def _batch_options(self, max_spend_cents: Optional[int], concurrent_jobs: Optional[int], requests_per_minute: Optional[int], longest_first: bool, check_balance: bool, poll_interval: Optional[float], expected_scale: Optional[float]) -> str:
        rpm = self._requests_per_minute if requests_per_minute is None else requests_per_minute
        return batch_options(max_spend_cents, concurrent_jobs, rpm, longest_first, check_balance, poll_interval, expected_scale, self._max_retries)

    def _batch_machine(self, requests: Iterable[Mapping[str, Any]], options: str) -> _native.Machine:
        self._check_open()
        return _native.Machine.batch(self._config, self._key(), batch_requests(requests), os.urandom(16), now_ms(), options)

    def _resume_batch_machine(self, snapshot: Union[str, bytes, Mapping[str, Any]], options: str) -> _native.Machine:
        self._check_open()
        return _native.Machine.resume_batch(self._config, self._key(), snapshot_text(snapshot), new_seed(), now_ms(), options)


def job_of(machine: _native.Machine) -> Job:
    return Job._from_json(machine.take_result())


def video_url(job_or_url: Union[Job, str]) -> str:
    if isinstance(job_or_url, Job):
        if not job_or_url.video_url:
            from .errors import UsageError

            raise UsageError(f"job {job_or_url.id} has no video_url (status {job_or_url.status})")
        return job_or_url.video_url
    # A job's id (or anything but an http(s) URL) is refused by name: it reached httpx, whose
    # `UnsupportedProtocol` read as a connection error that may be retried (helper-49).
    if isinstance(job_or_url, str) and job_or_url.lower().startswith(("https://", "http://")):
        return job_or_url
    if isinstance(job_or_url, str):
        got = "a job's id (pass the Job, or its video_url)" if job_or_url.startswith("job_") else "no http(s) URL"
    else:
        got = type(job_or_url).__name__
    raise invalid("job_or_url", "invalid_type", f"job_or_url must be a completed Job or its video_url; got {got}")
