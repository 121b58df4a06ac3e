"""The exception family: hierarchy, attributes, pickling, and no key in str/repr."""

from __future__ import annotations

import json
import pickle

import pytest

import usvideo
from usvideo import _native, errors

STATUS_CLASSES = {
    400: usvideo.BadRequestError,
    401: usvideo.AuthenticationError,
    402: usvideo.InsufficientBalanceError,
    404: usvideo.NotFoundError,
    409: usvideo.ConflictError,
    429: usvideo.RateLimitError,
    500: usvideo.InternalServerError,
    502: usvideo.UpstreamError,
    503: usvideo.APIStatusError,
    418: usvideo.APIStatusError,
}


def test_hierarchy() -> None:
    for cls in STATUS_CLASSES.values():
        assert issubclass(cls, usvideo.APIStatusError)
    assert issubclass(usvideo.APITimeoutError, usvideo.APIConnectionError)
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, Exception):
            assert issubclass(cls, usvideo.USVideoError) and issubclass(cls, Exception)
            assert getattr(usvideo, name) is cls


@pytest.mark.parametrize("status", sorted(STATUS_CLASSES))
def test_status_to_class_with_attributes(status: int) -> None:
    body = json.dumps({"error": {"code": "some_code", "message": "went wrong", "field": "duration"}}).encode()
    e = _native.error_from_response(status, [("x-request-id", "req_42"), ("retry-after", "3")], body)
    assert type(e) is STATUS_CLASSES[status]
    assert (e.code, e.message, e.status, e.field, e.request_id) == ("some_code", "went wrong", status, "duration", "req_42")
    assert e.retry_after == 3.0
    assert "went wrong" in str(e) and f"status {status}" in str(e)


def test_survives_html_and_empty_bodies() -> None:
    for body in (b"", b"<html>Bad gateway</html>", b"oops", b"\x00\xff"):
        e = _native.error_from_response(502, [], body)
        assert isinstance(e, usvideo.UpstreamError) and e.status == 502


def test_every_class_pickles_with_its_fields() -> None:
    issue = usvideo.ValidationIssue("duration", "out_of_range", "duration must be 1 to 10")
    for name in errors.__all__:
        cls = getattr(errors, name)
        if not (isinstance(cls, type) and issubclass(cls, usvideo.USVideoError)):
            continue
        e = cls("boom", code="c1", status=418, field="f", request_id="r", retry_after=1.5, job_id="job_1", job_status="pending", issues=(issue,))
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is cls
        for attr in ("message", "code", "status", "field", "request_id", "retry_after", "job_id", "job_status", "issues"):
            assert getattr(back, attr) == getattr(e, attr), attr
        assert str(back) == str(e)


def test_errors_raised_by_the_core_pickle() -> None:
    with pytest.raises(usvideo.ValidationError) as info:
        _native.validate_create(json.dumps({"prompt": "", "mode": "image_to_video", "duration": 11}))
    back = pickle.loads(pickle.dumps(info.value))
    assert {(i.field, i.code) for i in back.issues} == {("prompt", "blank"), ("image_url", "required"), ("duration", "out_of_range")}
    assert back.field == "prompt"


def test_default_codes_and_base_catch() -> None:
    e = usvideo.WaitTimeoutError("late", job_id="job_1")
    assert e.code == "wait_timeout"
    with pytest.raises(usvideo.USVideoError):
        raise e


def test_key_never_in_messages() -> None:
    key = "sd_live_0123456789abcdefSECRET"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY2N0XzEifQ.c2lnbmF0dXJlU0VDUkVU"
    body = json.dumps({"error": {"message": f"bad token {key} and {jwt}"}}).encode()
    e = _native.error_from_response(401, [], body)
    for text in (str(e), repr(e), e.message):
        assert "0123456789abcdef" not in text and "c2lnbmF0dXJl" not in text
    t = _native.transport_error("other", f"proxy echoed Authorization: Bearer {key}")
    assert "0123456789abcdef" not in str(t)
    with pytest.raises(usvideo.ValidationError) as info:
        usvideo.Client(api_key="sd_bad key\r\nX-Evil: 1")
    assert "X-Evil" not in str(info.value) and "bad key" not in repr(info.value)
