"""The exception family of the SDK.

Every exception the SDK raises on purpose is a :class:`USVideoError`. Each carries ``kind`` (the
core's class of error: ``validation``, ``rate_limit``, ``decode``, ``timeout``, …), ``code`` (the
server's machine-readable code, or the kind's name for errors made here), ``message`` and, where
known, ``status``, ``field``, ``request_id``, ``retry_after`` (seconds), ``job_id``, ``job_status``,
``idempotency_key`` (of a create whose outcome is unknown, or that ended with a ``5xx``: send it
again under that key)
and ``issues`` (every violated rule of a :class:`ValidationError`).

The classes are plain Python (importable, picklable, catchable by base class). The native module
raises them by name; this module never imports it. Messages never contain an API key or a JWT: the
core redacts every message before it is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional, Tuple

__all__ = [
    "USVideoError",
    "ValidationIssue",
    "ValidationError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "InsufficientBalanceError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "UpstreamError",
    "APIResponseError",
    "APIConnectionError",
    "APITimeoutError",
    "JobFailedError",
    "WaitTimeoutError",
    "CancelledError",
    "UsageError",
    "InternalError",
]


@dataclass(frozen=True)
class ValidationIssue:
    """One violated rule: the field (wire name), a stable rule code, and a sentence for people."""

    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class USVideoError(Exception):
    """Base class of every error the SDK raises."""

    #: The code used when none is given.
    default_code: str = "error"

    kind: str
    code: str
    message: str
    status: Optional[int]
    field: Optional[str]
    request_id: Optional[str]
    retry_after: Optional[float]
    job_id: Optional[str]
    job_status: Optional[str]
    #: A create whose outcome is unknown (``code == "outcome_unknown"``), or that ended with a
    #: ``5xx`` after its retries: its idempotency key. Send the same request again with
    #: ``idempotency_key=`` this, and the service answers with the job if an attempt made one,
    #: instead of charging a second.
    idempotency_key: Optional[str]
    issues: Tuple[ValidationIssue, ...]
    #: Whether the same call may simply be made again (a 429, a 5xx, a dropped connection): the
    #: core's word. False for ``code == "outcome_unknown"``: a create (of a job or an API key)
    #: that may have been carried out; list the jobs before creating again.
    retryable: bool

    def __init__(
        self,
        message: str = "",
        *,
        code: Optional[str] = None,
        status: Optional[int] = None,
        field: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        job_id: Optional[str] = None,
        job_status: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        issues: Tuple[ValidationIssue, ...] = (),
        kind: Optional[str] = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind if kind is not None else self.default_code
        self.message = message
        self.code = code if code is not None else self.default_code
        self.status = status
        self.field = field
        self.request_id = request_id
        self.retry_after = retry_after
        self.job_id = job_id
        self.job_status = job_status
        self.idempotency_key = idempotency_key
        self.issues = tuple(issues)
        self.retryable = retryable

    @classmethod
    def _from_core(cls, text: str) -> USVideoError:
        """Builds the exception from the core's error record (JSON). Used by the native module."""
        d: dict[str, Any] = json.loads(text)
        ms = d.get("retry_after_ms")
        return cls(
            str(d.get("message", "")),
            code=d.get("code"),
            status=d.get("status"),
            field=d.get("field"),
            request_id=d.get("request_id"),
            retry_after=(ms / 1000.0) if isinstance(ms, (int, float)) else None,
            job_id=d.get("job_id"),
            job_status=d.get("job_status"),
            idempotency_key=d.get("idempotency_key"),
            kind=d.get("kind"),
            retryable=d.get("retryable") is True,
            issues=tuple(
                ValidationIssue(str(i.get("field", "")), str(i.get("code", "")), str(i.get("message", "")))
                for i in d.get("issues", ())
            ),
        )

    def __str__(self) -> str:
        extra = []
        if self.status is not None:
            extra.append(f"status {self.status}")
        extra.append(f"code {self.code}")
        if self.field is not None:
            extra.append(f"field {self.field}")
        if self.request_id is not None:
            extra.append(f"request {self.request_id}")
        if self.retry_after is not None:
            extra.append(f"retry after {self.retry_after:g} s")
        if self.job_id is not None:
            extra.append(f"job {self.job_id}")
        return f"{self.message} ({', '.join(extra)})"

    def __repr__(self) -> str:
        parts = [repr(self.message), f"code={self.code!r}"]
        for name in ("status", "field", "request_id", "retry_after", "job_id", "job_status", "idempotency_key"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class ValidationError(USVideoError):
    """Input refused before anything was sent. ``issues`` lists every violated rule; ``field``
    is the first one's."""

    default_code = "validation"


class APIStatusError(USVideoError):
    """The service answered with a non-2xx status (this class for statuses without their own)."""

    default_code = "api_status"


class BadRequestError(APIStatusError):
    """400."""

    default_code = "bad_request"


class AuthenticationError(APIStatusError):
    """401: missing, malformed or unknown key (or an API key where a JWT belongs)."""

    default_code = "authentication"


class InsufficientBalanceError(APIStatusError):
    """402: the balance does not cover the job's cost; nothing was created or charged."""

    default_code = "insufficient_balance"


class NotFoundError(APIStatusError):
    """404."""

    default_code = "not_found"


class ConflictError(APIStatusError):
    """409: for example deleting a job that is processing."""

    default_code = "conflict"


class RateLimitError(APIStatusError):
    """429: too many requests or too many concurrent jobs; ``retry_after`` says how long to wait."""

    default_code = "rate_limit"


class InternalServerError(APIStatusError):
    """500."""

    default_code = "internal_server"


class UpstreamError(APIStatusError):
    """502."""

    default_code = "upstream"


class APIResponseError(USVideoError):
    """A 2xx answer whose body is not what the endpoint returns."""

    default_code = "decode"


class APIConnectionError(USVideoError):
    """No answer: the connection was refused, reset or dropped."""

    default_code = "connection"


class APITimeoutError(APIConnectionError):
    """No answer within the request timeout."""

    default_code = "timeout"


class JobFailedError(USVideoError):
    """The job ended ``failed`` (its charge is refunded); ``code`` is the service's reason."""

    default_code = "job_failed"


class WaitTimeoutError(USVideoError):
    """The wait's deadline passed. The job goes on: wait again, or delete it."""

    default_code = "wait_timeout"


class CancelledError(USVideoError):
    """The wait or call was cancelled."""

    default_code = "cancelled"


class UsageError(USVideoError):
    """The SDK was used wrongly (for example a result asked for too early)."""

    default_code = "usage"


class InternalError(USVideoError):
    """A bug inside the SDK's native module (a caught panic). Please report it."""

    default_code = "internal"
