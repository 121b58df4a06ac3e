"""Stubs of ``usvideo._native`` (the pyo3 module built from ``python/src``). Checked against the
module by ``mypy.stubtest`` (``tests/test_native.py``)."""

from typing import Any, List, Optional, Tuple, final

from typing_extensions import TypeAlias

_Headers: TypeAlias = List[Tuple[str, str]]
_Request: TypeAlias = Tuple[str, str, _Headers, Optional[bytes]]
_Response: TypeAlias = Tuple[int, _Headers, bytes]

__all__ = [
    "__version__",
    "MAX_RESPONSE_BYTES",
    "DEFAULT_BASE_URL",
    "Config",
    "Machine",
    "RateLimiter",
    "PageWalk",
    "estimate_cost",
    "estimate_all",
    "pricing_from_json",
    "builtin_pricing",
    "validate_create",
    "validate_list_params",
    "validate_job_id",
    "validate_api_key",
    "validate_jwt",
    "redact",
    "idempotency_key",
    "parse_job",
    "parse_job_page",
    "parse_delete",
    "parse_account",
    "parse_pricing",
    "parse_created_api_key",
    "error_from_response",
    "transport_error",
    "error_from_json",
    "retry_decide",
    "backoff_ms",
    "_force_panic",
]

__version__: str
MAX_RESPONSE_BYTES: int
DEFAULT_BASE_URL: str

def estimate_cost(resolution: Any, duration: Any, table_json: Optional[str] = None) -> int: ...
def estimate_all(requests_json: str, table_json: Optional[str] = None) -> int: ...
def pricing_from_json(table_json: str) -> str: ...
def builtin_pricing() -> str: ...
def validate_create(request_json: str) -> str: ...
def validate_list_params(params_json: str) -> str: ...
def validate_job_id(id: str) -> None: ...
def validate_api_key(key: str) -> None: ...
def validate_jwt(token: str) -> None: ...
def redact(text: str) -> str: ...
def idempotency_key(entropy: bytes) -> str: ...
def parse_job(status: int, headers: _Headers, body: bytes) -> str: ...
def parse_job_page(status: int, headers: _Headers, body: bytes, params_json: str = "{}") -> str: ...
def parse_delete(status: int, headers: _Headers, body: bytes, id: str) -> str: ...
def parse_account(status: int, headers: _Headers, body: bytes) -> str: ...
def parse_pricing(status: int, headers: _Headers, body: bytes) -> str: ...
def parse_created_api_key(status: int, headers: _Headers, body: bytes) -> str: ...
def error_from_response(status: int, headers: _Headers, body: bytes) -> Exception: ...
def transport_error(kind: str, message: str) -> Exception: ...
def error_from_json(error_json: str) -> Exception: ...
def retry_decide(
    endpoint: str,
    attempt: int,
    seed: int,
    policy_json: Optional[str] = None,
    remaining_ms: Optional[int] = None,
    transport: Optional[str] = None,
    message: str = "",
    status: Optional[int] = None,
    headers: _Headers = ...,
    body: bytes = ...,
) -> Tuple[str, Optional[int]]: ...
def backoff_ms(seed: int, attempts: List[int], policy_json: Optional[str] = None) -> List[int]: ...
def _force_panic() -> None: ...

@final
class Config:
    def __new__(cls, base_url: str, user_agent: Optional[str] = None, api_key: Optional[str] = None) -> "Config":
        """``api_key`` picks the key's claims (shared by every client of the key in the process);
        it is read for its digest only."""
    @property
    def base_url(self) -> str: ...
    @property
    def user_agent(self) -> str: ...
    def create_video(self, key: Optional[str], request_json: str, idempotency_key: str) -> _Request: ...
    def retrieve_video(self, key: Optional[str], id: str) -> _Request: ...
    def delete_video(self, key: Optional[str], id: str) -> _Request: ...
    def list_videos(self, key: Optional[str], params_json: str = "{}") -> _Request: ...
    def retrieve_account(self, key: Optional[str]) -> _Request: ...
    def retrieve_pricing(self) -> _Request: ...
    def create_api_key(self, jwt: str, name: Optional[str] = None) -> _Request: ...

@final
class Machine:
    @staticmethod
    def call(
        endpoint: str,
        method: str,
        url: str,
        headers: _Headers,
        body: Optional[bytes],
        seed: int,
        retry_json: Optional[str] = None,
        deadline_ms: Optional[int] = None,
    ) -> "Machine": ...
    @staticmethod
    def create(
        config: Config,
        key: Optional[str],
        request_json: str,
        idempotency_key: str,
        seed: int,
        retry_json: Optional[str] = None,
        deadline_ms: Optional[int] = None,
    ) -> "Machine": ...
    @staticmethod
    def wait(config: Config, key: Optional[str], job_id: str, seed: int, now_ms: int, options_json: Optional[str] = None) -> "Machine": ...
    @staticmethod
    def create_and_wait(
        config: Config,
        key: Optional[str],
        request_json: str,
        idempotency_key: str,
        seed: int,
        now_ms: int,
        options_json: Optional[str] = None,
    ) -> "Machine": ...
    @staticmethod
    def batch(
        config: Config,
        key: Optional[str],
        requests_json: str,
        entropy: bytes,
        now_ms: int,
        options_json: Optional[str] = None,
    ) -> "Machine": ...
    @staticmethod
    def resume_batch(
        config: Config,
        key: Optional[str],
        snapshot_json: str,
        seed: int,
        now_ms: int,
        options_json: Optional[str] = None,
    ) -> "Machine": ...
    def snapshot(self) -> str: ...
    def batch_progress(self) -> str: ...
    def estimated_cents(self) -> int: ...
    def is_done(self) -> bool: ...
    def poll(self, now_ms: int) -> Any: ...
    def handle_response(self, id: int, status: int, headers: _Headers, body: bytes, now_ms: int) -> None: ...
    def handle_transport_error(self, id: int, kind: str, message: str, now_ms: int) -> None: ...
    def handle_not_sent(self, id: int, now_ms: int) -> None:
        """Request ``id`` was not sent: no slot of the client's rate limit before its time ran out."""
    def handle_timeout(self, now_ms: int) -> None: ...
    def cancel(self, now_ms: int) -> None: ...
    def take_result(self) -> str: ...
    def take_response(self) -> _Response: ...
    def take_parsed(self, what: str, id: Optional[str] = None, params: str = "{}") -> Any: ...
    def job_id(self) -> Optional[str]: ...

@final
class RateLimiter:
    def __new__(cls, requests_per_minute: int = 60) -> "RateLimiter": ...
    @staticmethod
    def shared(base_url: str, key: Optional[str], requests_per_minute: int) -> "RateLimiter":
        """The limiter of a key: one per base URL, key and budget in the process (the newest 64
        keys' kept; nothing shared with a budget of 0)."""
    def same_as(self, other: "RateLimiter") -> bool:
        """Whether ``other`` is the same limiter."""
    def try_acquire(self, now_ms: int) -> Optional[int]: ...
    def next_free(self, now_ms: int) -> int: ...
    def observe(self, status: int, headers: _Headers, body: bytes, now_ms: int) -> None: ...
    def on_retry_after(self, now_ms: int, retry_after_ms: int) -> None: ...

@final
class PageWalk:
    """Which page of the job list to ask for next, and whether to yield a page's jobs."""
    def __new__(cls, limit: int = 100) -> "PageWalk": ...
    def next_page(self) -> Optional[Tuple[int, int]]:
        """``(limit, offset)`` of the next page, or ``None`` when the walk is over."""
    def take(self, ids: List[str], has_more: bool) -> List[int]:
        """Takes the page asked for by its jobs' ids; the positions of the jobs to yield (none
        when the page ends the walk; not those the page before held)."""
