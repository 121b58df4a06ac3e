"""usvideo: the Python SDK of the US Video API (AI video generation: submit a job, poll it, pay per
second of video).

    import usvideo

    usvideo.estimate_cost(resolution="1080p", duration=5)   # 120 (cents), offline
    with usvideo.Client() as client:                          # USVIDEO_API_KEY, USVIDEO_BASE_URL
        job = client.videos.create_and_wait(prompt="A misty lake at dawn", mode="text_to_video",
                                            resolution="1080p", duration=5)
        client.videos.download(job, "lake.mp4")

Every decision (validation, exact pricing, retries, ``Retry-After``, the poll schedule, deadlines,
idempotency and reconciliation) is made by the Rust core in ``usvideo._native``; this package reads
the clock, sleeps and does HTTP with httpx (imported only when a client is made).
"""

from __future__ import annotations

from typing import Any

from . import _native
from ._async import AsyncClient
from ._sync import Client
from .errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CancelledError,
    ConflictError,
    InsufficientBalanceError,
    InternalError,
    InternalServerError,
    JobFailedError,
    NotFoundError,
    RateLimitError,
    UpstreamError,
    UsageError,
    USVideoError,
    ValidationError,
    ValidationIssue,
    WaitTimeoutError,
)
from .types import Account, CreatedApiKey, DeleteResult, Job, JobError, JobPage, PricingTable, Progress

__version__: str = _native.__version__
DEFAULT_BASE_URL: str = _native.DEFAULT_BASE_URL

__all__ = [
    "estimate_cost",
    "Client",
    "AsyncClient",
    "Job",
    "JobError",
    "JobPage",
    "Account",
    "DeleteResult",
    "CreatedApiKey",
    "PricingTable",
    "Progress",
    "USVideoError",
    "ValidationError",
    "ValidationIssue",
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
    "DEFAULT_BASE_URL",
]


def estimate_cost(resolution: Any = "720p", duration: Any = 5) -> int:
    """The cost in cents of ``duration`` seconds of video at ``resolution`` (``720p``, ``1080p``,
    ``2k``), offline, with the reference's prices and exact decimal arithmetic:
    ``estimate_cost(resolution="1080p", duration=5) == 120``. Raises ``ValidationError``."""
    return _native.estimate_cost(resolution, duration)
