"""Typed results. Field names are the API's wire names; ``to_dict()`` gives the wire shape back.

Parsing (tolerance of unknown fields and statuses, exact prices) is the core's: these classes are
built from the JSON the native module returns, and ignore keys they do not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, Iterator, Literal, Mapping, Optional, Tuple, Type, TypeVar, cast

if TYPE_CHECKING:
    from .errors import USVideoError

__all__ = [
    "Mode",
    "Resolution",
    "JobStatus",
    "Job",
    "JobError",
    "JobPage",
    "Account",
    "DeleteResult",
    "CreatedApiKey",
    "PricingTable",
    "Progress",
    "BatchItem",
    "BatchProgress",
    "BatchSummary",
]

T = TypeVar("T")


def _build(cls: Type[T], d: Mapping[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in d.items() if k in names})


def _plain(obj: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            continue
        if hasattr(value, "to_dict"):
            value = value.to_dict()
        elif isinstance(value, tuple):
            value = [v.to_dict() if hasattr(v, "to_dict") else v for v in value]
        out[f.name] = value
    return out


#: How a video is generated (a type checker refuses ``mode="text2video"``; the core refuses it at run time).
Mode = Literal["text_to_video", "image_to_video", "reference"]
#: Output resolution (exact case: ``2k``, not ``2K``).
Resolution = Literal["720p", "1080p", "2k"]
#: The statuses this SDK knows. A newer service may send others: ``Job.status`` keeps them as they
#: are (never terminal), so it is typed ``str``.
JobStatus = Literal["pending", "processing", "completed", "failed"]


@dataclass(frozen=True)
class JobError:
    """Why a job failed, as the service reports it."""

    code: str = ""
    message: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Job:
    """A video-generation job. ``status`` is ``pending``, ``processing``, ``completed``, ``failed``
    or a status this SDK does not know (kept as is, never terminal)."""

    id: str
    status: str
    prompt: Optional[str] = None
    #: A mode this SDK does not know is left out (``None``).
    mode: Optional[Mode] = None
    #: A resolution this SDK does not know is left out (``None``).
    resolution: Optional[Resolution] = None
    duration: Optional[int] = None
    seed: Optional[int] = None
    image_url: Optional[str] = None
    reference_url: Optional[str] = None
    estimated_cost_cents: Optional[int] = None
    cost_cents: Optional[int] = None
    video_url: Optional[str] = None
    error: Optional[JobError] = None
    created_at: Optional[str] = None
    progress: Optional[int] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Job:
        data = dict(d)
        err = data.get("error")
        data["error"] = _build(JobError, err) if isinstance(err, Mapping) else None
        return _build(cls, data)

    @classmethod
    def _from_json(cls, text: str) -> Job:
        return cls._from_core(json.loads(text))

    @classmethod
    def _from_core(cls, d: Mapping[str, Any]) -> Job:
        """A job from the core's own shape (its ``Job`` as JSON: known keys only, ``id`` and
        ``status`` always there): the same object as :meth:`from_dict` gives, without the cost of
        the frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) on every
        retrieve and poll. Anything else goes through :meth:`from_dict`."""
        if cls is not Job or "id" not in d or "status" not in d or not _JOB_KEYS.issuperset(d):
            return cls.from_dict(d)
        job = object.__new__(cls)
        state = dict(_JOB_UNSET)
        state.update(d)
        err = state["error"]
        if err is not None:
            state["error"] = _build(JobError, err) if isinstance(err, Mapping) else None
        job.__dict__.update(state)
        return job

    @property
    def is_terminal(self) -> bool:
        """``completed`` or ``failed``: nothing more will happen to the job."""
        return self.status in ("completed", "failed")

    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


_JOB_DEFAULTS: Tuple[Tuple[str, Any], ...] = tuple((f.name, f.default) for f in fields(Job))
_JOB_KEYS = frozenset(name for name, _ in _JOB_DEFAULTS)
#: Every field of a Job at its default, in field order (``id`` and ``status``, which have none, are
#: always given and overwrite their placeholder).
_JOB_UNSET: Dict[str, Any] = {name: None if name in ("id", "status") else default for name, default in _JOB_DEFAULTS}


@dataclass(frozen=True)
class JobPage:
    """One page of ``GET /v1/videos``, most recent first."""

    data: Tuple[Job, ...]
    limit: int
    offset: int
    has_more: bool
    total: Optional[int] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> JobPage:
        return cls(
            data=tuple(Job._from_core(j) for j in d.get("data", ())),
            limit=int(d.get("limit", 0)),
            offset=int(d.get("offset", 0)),
            has_more=bool(d.get("has_more", False)),
            total=d.get("total"),
        )

    def __iter__(self) -> Iterator[Job]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Account:
    """Balance (cents), usage and plan."""

    email: str
    balance_cents: int
    total_jobs: int = 0
    total_spent_cents: int = 0
    plan: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Account:
        return _build(cls, d)

    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class DeleteResult:
    """The answer to a delete: a pending job is refunded (``refunded_cents``)."""

    id: str
    deleted: bool = True
    refunded_cents: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeleteResult:
        return _build(cls, d)

    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class CreatedApiKey:
    """A new API key. ``key`` is shown once by the service: store it now. ``repr`` hides it."""

    id: str
    key: str = field(repr=False)
    name: Optional[str] = None
    created_at: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CreatedApiKey:
        return _build(cls, d)

    def __repr__(self) -> str:
        shown = self.key[:3] + "…" + (self.key[-4:] if len(self.key) >= 11 else "")
        return f"CreatedApiKey(id={self.id!r}, name={self.name!r}, key={shown!r}, created_at={self.created_at!r})"

    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class PricingTable:
    """Dollars per second of video for each resolution, held exactly (``Decimal``).

    ``estimate(resolution, duration)`` prices a job with this table in whole cents, rounded up,
    with the core's exact arithmetic.
    """

    per_second: Mapping[str, Decimal]

    @classmethod
    def _from_json(cls, text: str) -> PricingTable:
        raw: Dict[str, Any] = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        return cls({r: Decimal(v["per_second"]) for r, v in raw.items() if isinstance(v, Mapping)})

    def _json(self) -> str:
        return "{" + ", ".join(f'"{r}": {{"per_second": {p}}}' for r, p in self.per_second.items()) + "}"

    def estimate(self, resolution: Resolution, duration: int) -> int:
        """The cost in cents of ``duration`` seconds at ``resolution`` with this table."""
        from . import _native

        return _native.estimate_cost(resolution, duration, self._json())

    def to_dict(self) -> Dict[str, Any]:
        return {r: {"per_second": float(p)} for r, p in self.per_second.items()}


@dataclass(frozen=True)
class Progress:
    """Where a waited-for job is: ``percent`` is the service's progress, or an estimate."""

    job_id: str
    status: str
    percent: int
    elapsed_ms: int
    expected_ms: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Progress:
        return _build(cls, d)

    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class BatchProgress:
    """A batch's counts: items ``queued`` (not yet submitted), ``in_flight`` (being created,
    pending or processing), ``completed``, ``failed`` (failed or refused), ``cancelled`` (by the
    batch's cancel: queued, deleted while pending, or processing and going on), and the
    ``requests`` sent so far."""

    total: int = 0
    queued: int = 0
    in_flight: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    requests: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BatchProgress:
        return _build(cls, d)

    @property
    def done(self) -> int:
        """Items finished, whatever the outcome."""
        return self.completed + self.failed + self.cancelled

    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class BatchItem:
    """One finished item of a batch: ``index`` is its position in the input; ``job`` the completed
    job (or the job as last seen when it failed or was cancelled, if one was made); ``error`` why
    it did not complete (``JobFailedError``, ``CancelledError``, ``RateLimitError``, …), else
    ``None``."""

    index: int
    job: Optional[Job] = None
    error: Optional[USVideoError] = None

    @property
    def ok(self) -> bool:
        """The job completed."""
        return self.error is None and self.job is not None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BatchItem:
        job = d.get("job")
        err = d.get("error")
        error: Optional[USVideoError] = None
        if isinstance(err, Mapping):
            from . import _native

            error = cast("USVideoError", _native.error_from_json(json.dumps(err)))
        return cls(index=int(d.get("index", 0)), job=Job.from_dict(job) if isinstance(job, Mapping) else None, error=error)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"index": self.index}
        if self.job is not None:
            out["job"] = self.job.to_dict()
        if self.error is not None:
            out["error"] = {"kind": self.error.kind, "code": self.error.code, "message": self.error.message}
        return out


@dataclass(frozen=True)
class BatchSummary:
    """A finished batch: every item in input order, the final counts, and ``spent_cents``: what
    its jobs cost the account (completed jobs' costs, and the estimates of jobs that go on after
    the batch, such as those a cancel found processing; refunded jobs cost nothing)."""

    results: Tuple[BatchItem, ...]
    progress: BatchProgress
    spent_cents: int = 0

    @classmethod
    def _from_json(cls, text: str) -> BatchSummary:
        d: Dict[str, Any] = json.loads(text)
        return cls(
            results=tuple(BatchItem.from_dict(r) for r in d.get("results", ())),
            progress=BatchProgress.from_dict(d.get("progress") or {}),
            spent_cents=int(d.get("spent_cents", 0)),
        )
