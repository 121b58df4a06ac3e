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
the clock, sleeps and does HTTP with httpx.

``import usvideo`` is cheap: every name below is loaded on first use (PEP 562), the native module
included, and httpx only when a client is made.
"""

# No import at module level (not even ``typing``): see "Import time" in the README.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._async import AsyncBatchRun, AsyncClient
    from ._base import PollPolicy
    from ._sync import BatchRun, Client
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
    from .types import (
        Account,
        JobStatus,
        Mode,
        Resolution,
        BatchItem,
        BatchProgress,
        BatchSummary,
        CreatedApiKey,
        DeleteResult,
        Job,
        JobError,
        JobPage,
        PricingTable,
        Progress,
    )

    __version__: str
    DEFAULT_BASE_URL: str

__all__ = [
    "estimate_cost",
    "Client",
    "AsyncClient",
    "BatchRun",
    "AsyncBatchRun",
    "PollPolicy",
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

# Where each public name lives; loaded (and cached in this module) on first access.
_WHERE = {
    "Client": "_sync",
    "BatchRun": "_sync",
    "AsyncClient": "_async",
    "AsyncBatchRun": "_async",
    "PollPolicy": "_base",
    "__version__": "_native",
    "DEFAULT_BASE_URL": "_native",
}
_WHERE.update(
    dict.fromkeys(
        ("Mode", "Resolution", "JobStatus", "Job", "JobError", "JobPage", "Account", "DeleteResult", "CreatedApiKey", "PricingTable", "Progress", "BatchItem", "BatchProgress", "BatchSummary"),
        "types",
    )
)
_WHERE.update(dict.fromkeys((n for n in __all__ if n not in _WHERE and n != "estimate_cost"), "errors"))


# The public submodules, loaded on first use like the names.
_SUBMODULES = ("errors", "types")

# Hidden from type checkers: a module `__getattr__` typed `Any` made every name of `usvideo` pass,
# a misspelt `except usvideo.RateLimitErorr:` too (helper-43); they see the imports above instead.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> "Any":
        from importlib import import_module

        if name in _SUBMODULES:
            # `usvideo.errors.RateLimitError` after a bare `import usvideo` (the README names the
            # classes so): the submodule was there only once something had imported it (helper-76:
            # an app's own KeyError became this AttributeError inside its `except` clause).
            return import_module("usvideo." + name)
        where = _WHERE.get(name)
        if where is None:
            raise AttributeError(f"module 'usvideo' has no attribute {name!r}")
        value = getattr(import_module("usvideo." + where), name)
        globals()[name] = value
        return value


def __dir__() -> "list[str]":
    return sorted((set(globals()) - {"TYPE_CHECKING"}) | set(_WHERE) | set(_SUBMODULES))


def estimate_cost(resolution: "Resolution" = "720p", duration: int = 5) -> int:
    """The cost in cents of ``duration`` seconds of video at ``resolution`` (``720p``, ``1080p``,
    ``2k``), offline, with the reference's prices and exact decimal arithmetic:
    ``estimate_cost(resolution="1080p", duration=5) == 120``. Raises ``ValidationError``."""
    from . import _native

    return _native.estimate_cost(resolution, duration)
