"""Helpers of the vector harness (tests/vectors/README.md describes the format)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import usvideo

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"

#: ErrorKind wire name → the Python class the binding raises.
KIND_CLASS = {
    "validation": usvideo.ValidationError,
    "bad_request": usvideo.BadRequestError,
    "authentication": usvideo.AuthenticationError,
    "insufficient_balance": usvideo.InsufficientBalanceError,
    "not_found": usvideo.NotFoundError,
    "conflict": usvideo.ConflictError,
    "rate_limit": usvideo.RateLimitError,
    "internal_server": usvideo.InternalServerError,
    "upstream": usvideo.UpstreamError,
    "api_status": usvideo.APIStatusError,
    "decode": usvideo.APIResponseError,
    "connection": usvideo.APIConnectionError,
    "timeout": usvideo.APITimeoutError,
    "job_failed": usvideo.JobFailedError,
    "wait_timeout": usvideo.WaitTimeoutError,
    "cancelled": usvideo.CancelledError,
    "usage": usvideo.UsageError,
}


#: Transport kind → the class its error is raised as (the kind itself is not an attribute).
TRANSPORT_CLASS = {
    "connect": usvideo.APIConnectionError,
    "other": usvideo.APIConnectionError,
    "timeout": usvideo.APITimeoutError,
    "aborted": usvideo.CancelledError,
    "body_too_large": usvideo.APIResponseError,
}


def load(name: str) -> List[Dict[str, Any]]:
    return list(json.loads((VECTORS / name).read_text())["vectors"])


def params(name: str, prefix: str = "") -> List[Any]:
    import pytest

    out = []
    for v in load(name):
        marks = [pytest.mark.skip(reason=f"known core bug: {v['skip']}")] if "skip" in v else []
        out.append(pytest.param(v, id=prefix + v["name"], marks=marks))
    return out


def json_eq(a: Any, b: Any) -> bool:
    """Semantic JSON equality: numbers by value, but a bool is never a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_eq(a[k], b[k]) for k in a)
    return bool(type(a) is type(b) and a == b)


_ABSENT = object()


def subset(path: str, expected: Any, actual: Any = _ABSENT) -> None:
    """``expected`` ⊆ ``actual`` (README "Subset"); raises AssertionError with the path."""
    if expected is None:
        assert actual is _ABSENT or actual is None, f"{path}: expected absent, got {actual!r}"
        return
    assert actual is not _ABSENT, f"{path}: expected {expected!r}, got nothing"
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for k, v in expected.items():
            subset(f"{path}.{k}", v, actual.get(k, _ABSENT))
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: expected {expected!r}, got {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            subset(f"{path}[{i}]", e, a)
    else:
        assert json_eq(expected, actual), f"{path}: expected {expected!r}, got {actual!r}"


def response(v: Dict[str, Any]) -> Tuple[int, List[Tuple[str, str]], bytes]:
    headers = [(str(n), str(val)) for n, val in v.get("headers", [])]
    if "body" in v:
        body = v["body"].encode()
    elif "body_json" in v:
        body = json.dumps(v["body_json"], separators=(",", ":")).encode()
    elif "body_base64" in v:
        text = v["body_base64"]
        body = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None)
    else:
        body = b""
    return int(v["status"]), headers, body


def check_error(expected: Dict[str, Any], e: BaseException) -> None:
    """Checks an exception against ``{kind, code, status, field, request_id, retry_after_ms, job_id,
    job_status, message_contains, message_not_contains}`` (``transport`` is carried by the class)."""
    assert isinstance(e, usvideo.USVideoError), f"not a USVideoError: {e!r}"
    want = dict(expected)
    kind = want.pop("kind", None)
    if kind is not None:
        assert type(e) is KIND_CLASS[kind], f"kind {kind}: expected {KIND_CLASS[kind].__name__}, got {type(e).__name__} ({e!r})"
    if "message_contains" in want:
        s = want.pop("message_contains")
        assert s in e.message, f"message {e.message!r} does not contain {s!r}"
    if "message_not_contains" in want:
        s = want.pop("message_not_contains")
        assert s not in e.message, f"message {e.message!r} contains {s!r}"
    transport = want.pop("transport", None)
    if transport is not None:
        cls = TRANSPORT_CLASS[transport]
        assert type(e) is cls, f"transport {transport}: expected {cls.__name__}, got {e!r}"
    ra = want.pop("retry_after_ms", _ABSENT)
    if ra is not _ABSENT:
        got = None if e.retry_after is None else round(e.retry_after * 1000)
        assert got == ra, f"retry_after_ms: expected {ra}, got {got}"
    for k, v in want.items():
        subset(f"error.{k}", v, getattr(e, k))


def message_of(e: BaseException) -> str:
    return getattr(e, "message", str(e))


def optional_json(v: Optional[Any]) -> Optional[str]:
    return None if v is None else json.dumps(v)
