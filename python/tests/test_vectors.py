"""Every shared conformance vector (tests/vectors/) through the Python binding."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

import pytest

import usvideo
from usvideo import _native
from vectorlib import (
    VECTORS,
    check_error,
    json_eq,
    optional_json,
    params,
    response,
    subset,
)

# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("v", params("validation.json") + params("bad_input.json", prefix="bad_input/"))
def test_validation(v: Dict[str, Any]) -> None:
    """validation.json and bad_input.json (same format): every input accepted or refused alike."""
    target, inp, expected = v["target"], v["input"], v["expected"]
    try:
        if target == "create_request":
            result: Any = json.loads(_native.validate_create(json.dumps(inp)))
        elif target == "list_params":
            result = json.loads(_native.validate_list_params(json.dumps(inp)))
        elif target == "job_id":
            _native.validate_job_id(inp)
            result = True
        elif target == "api_key":
            _native.validate_api_key(inp)
            result = True
        elif target == "jwt":
            _native.validate_jwt(inp)
            result = True
        else:
            pytest.fail(f"unknown target {target}")
    except usvideo.ValidationError as e:
        assert "issues" in expected, f"expected ok {expected.get('ok')!r}, got {e!r}"
        want = {(w["field"], w["code"]) for w in expected["issues"]}
        got = {(i.field, i.code) for i in e.issues}
        assert got == want, f"expected issues {sorted(want)}, got {sorted(got)}"
        assert (e.field, e.code) == (e.issues[0].field, e.issues[0].code)
        for w in expected["issues"]:
            if "message_contains" in w:
                hit = next(i for i in e.issues if (i.field, i.code) == (w["field"], w["code"]))
                assert w["message_contains"] in hit.message
        if "message_not_contains" in v:
            assert all(v["message_not_contains"] not in i.message for i in e.issues)
            assert v["message_not_contains"] not in str(e)
        return
    assert "ok" in expected, f"expected issues {expected.get('issues')}, got ok {result!r}"
    assert json_eq(expected["ok"], result), f"expected {expected['ok']!r}, got {result!r}"


# ------------------------------------------------------------------ pricing


def _cents(expected: Dict[str, Any], fn: Any) -> None:
    try:
        cents = fn()
    except usvideo.ValidationError as e:
        assert "issue" in expected, f"expected {expected.get('cents')} cents, got {e!r}"
        assert (e.field, e.code) == (expected["issue"]["field"], expected["issue"]["code"])
        return
    assert "cents" in expected, f"expected issue {expected.get('issue')}, got {cents}"
    assert cents == expected["cents"]
    assert type(cents) is int


@pytest.mark.parametrize("v", params("pricing.json"))
def test_pricing(v: Dict[str, Any]) -> None:
    target, inp, expected = v["target"], v["input"], v["expected"]
    if target == "estimate":
        table = optional_json(inp.get("table"))
        _cents(expected, lambda: _native.estimate_cost(inp["resolution"], inp["duration"], table))
        if table is None and "cents" in expected:
            assert usvideo.estimate_cost(resolution=inp["resolution"], duration=inp["duration"]) == expected["cents"]
    elif target == "from_json":
        text = json.dumps(inp["table"])
        if expected.get("error"):
            with pytest.raises(usvideo.USVideoError):
                _native.pricing_from_json(text)
            return
        table = usvideo.PricingTable._from_json(_native.pricing_from_json(text))
        assert all(isinstance(p, Decimal) for p in table.per_second.values())
        assert len(inp["estimates"]) == len(expected["cents"])
        for case, cents in zip(inp["estimates"], expected["cents"]):
            assert _native.estimate_cost(case["resolution"], case["duration"], text) == cents, case
            assert table.estimate(case["resolution"], case["duration"]) == cents, case
    elif target == "estimate_all":
        _cents(expected, lambda: _native.estimate_all(json.dumps(inp["requests"])))
    else:
        pytest.fail(f"unknown target {target}")


# ------------------------------------------------------------------ requests

Request = Tuple[str, str, List[Tuple[str, str]], Optional[bytes]]


def build_request(config: _native.Config, target: str, inp: Dict[str, Any]) -> Tuple[str, Request]:
    key = inp.get("api_key", "sd_vector_default")
    if target == "create_video":
        return "create_video", config.create_video(key, json.dumps(inp["request"]), inp.get("idempotency_key", "usv-vector-default"))
    if target == "retrieve_video":
        return "retrieve_video", config.retrieve_video(key, inp.get("id", ""))
    if target == "delete_video":
        return "delete_video", config.delete_video(key, inp.get("id", ""))
    if target == "list_videos":
        return "list_videos", config.list_videos(key, json.dumps(inp.get("params", {})))
    if target == "retrieve_account":
        return "account", config.retrieve_account(key)
    if target == "retrieve_pricing":
        return "pricing", config.retrieve_pricing()
    if target == "create_api_key":
        return "create_api_key", config.create_api_key(inp.get("jwt", ""), inp.get("name"))
    raise AssertionError(f"unknown request target {target}")


def header(headers: List[Tuple[str, str]], name: str) -> Optional[str]:
    return next((v for n, v in headers if n.lower() == name.lower()), None)


def split_url(url: str) -> Tuple[str, Optional[str]]:
    rest = url.split("://", 1)[-1]
    path = rest[rest.index("/") :] if "/" in rest else ""
    if "?" in path:
        p, q = path.split("?", 1)
        return p, q
    return path, None


def check_request(expected: Dict[str, Any], req: Request) -> None:
    method, url, headers, body = req
    assert isinstance(body, (bytes, type(None)))
    if "method" in expected:
        assert method == expected["method"]
    if "url" in expected:
        assert url == expected["url"]
    path, query = split_url(url)
    if "path" in expected:
        assert path == expected["path"], url
    if "query" in expected:
        assert query == expected["query"], url
    for name, value in expected.get("headers", {}).items():
        assert header(headers, name) == value, f"header {name}: {header(headers, name)!r}"
    for name in expected.get("headers_present", []):
        assert header(headers, name), f"header {name} missing"
    for name in expected.get("headers_absent", []):
        assert header(headers, name) is None, f"header {name} should be absent"
    if "body_json" in expected:
        if expected["body_json"] is None:
            assert body is None, body
        else:
            assert body is not None
            assert json_eq(expected["body_json"], json.loads(body)), body


@pytest.mark.parametrize("v", params("requests.json"))
def test_requests(v: Dict[str, Any]) -> None:
    target, inp, expected = v["target"], v["input"], v["expected"]
    try:
        config = _native.Config(v["base_url"], inp.get("user_agent"))
        if target == "client_config":
            pytest.fail("the config was accepted") if "error" in expected else None
            return
        _, req = build_request(config, target, inp)
    except usvideo.USVideoError as e:
        assert "error" in expected, f"expected a request, got {e!r}"
        check_error(expected["error"], e)
        return
    assert "error" not in expected, f"expected error {expected['error']}, got {req!r}"
    check_request(expected, req)


# ------------------------------------------------------------------ responses

PARSERS = {
    "parse_job": _native.parse_job,
    "parse_job_page": _native.parse_job_page,
    "parse_account": _native.parse_account,
    "parse_pricing": _native.parse_pricing,
    "parse_created_api_key": _native.parse_created_api_key,
}


@pytest.mark.parametrize("v", params("responses.json"))
def test_responses(v: Dict[str, Any]) -> None:
    status, headers, body = response(v["response"])
    target, expected = v["target"], v["expected"]
    try:
        if target == "error_from_response":
            raise _native.error_from_response(status, headers, body)
        if target == "parse_delete":
            text = _native.parse_delete(status, headers, body, v["delete_id"])
        elif target == "parse_job_page":
            text = _native.parse_job_page(status, headers, body, json.dumps(v.get("list_params", {})))
        else:
            text = PARSERS[target](status, headers, body)
    except usvideo.USVideoError as e:
        assert "error" in expected, f"expected ok, got {e!r}"
        check_error(expected["error"], e)
        assert e.status == status, f"the error lost the status {status}: {e.status}"
        return
    assert "error" not in expected, f"expected error {expected['error']}, got {text}"
    got = json.loads(text)
    subset("ok", expected["ok"], got)
    for k in expected.get("absent", []):
        assert got.get(k) is None, f"{k} should be absent: {got}"
    if "terminal" in expected:
        assert usvideo.Job._from_json(text).is_terminal == expected["terminal"]
    # The typed objects accept every parsed value.
    if target == "parse_job":
        assert usvideo.Job._from_json(text).to_dict() == got
    elif target == "parse_job_page":
        assert usvideo.JobPage.from_dict(got).to_dict()["data"] == got["data"]
    elif target == "parse_account":
        assert usvideo.Account.from_dict(got).balance_cents == got["balance_cents"]
    elif target == "parse_pricing":
        assert usvideo.PricingTable._from_json(text).to_dict() == got


# ------------------------------------------------------------------ retry


def _outcome(o: Dict[str, Any]) -> Dict[str, Any]:
    if "transport" in o:
        return {"transport": o["transport"], "message": o.get("message", "")}
    status, headers, body = response(o)
    return {"status": status, "headers": headers, "body": body}


@pytest.mark.parametrize("v", params("retry.json"))
def test_retry(v: Dict[str, Any]) -> None:
    target, inp, expected = v["target"], v["input"], v["expected"]
    policy = optional_json(inp.get("policy"))
    seed = inp["seed"]
    if target == "decide":
        decision, after = _native.retry_decide(inp["endpoint"], inp["attempt"], seed, policy, inp.get("remaining_ms"), **_outcome(inp["outcome"]))
        assert decision == expected["decision"], (decision, after)
        if decision == "retry":
            assert after is not None
            if "after_ms" in expected:
                assert after == expected["after_ms"]
            assert expected.get("after_ms_min", 0) <= after <= expected.get("after_ms_max", 2**64)
    elif target == "backoff":
        delays = _native.backoff_ms(seed, inp["attempts"], policy)
        assert len(delays) == len(expected["ranges"])
        for d, (lo, hi) in zip(delays, expected["ranges"]):
            assert lo <= d <= hi, (d, lo, hi)
    elif target == "backoff_deterministic":
        assert _native.backoff_ms(seed, inp["attempts"], policy) == _native.backoff_ms(seed, inp["attempts"], policy)
    else:
        pytest.fail(f"unknown target {target}")


# ------------------------------------------------------------------ ratelimit


@pytest.mark.parametrize("v", params("ratelimit.json"))
def test_ratelimit(v: Dict[str, Any]) -> None:
    limiter = _native.RateLimiter(v["requests_per_minute"])
    for i, step in enumerate(v["steps"]):
        if "acquire" in step:
            got = limiter.try_acquire(step["acquire"])
            want = step["expect"]
            if want == "granted":
                assert got is None, f"step {i}: expected granted, got wait until {got}"
            else:
                assert got == want["wait_until"], f"step {i}: expected {want}, got {got}"
        elif "retry_after" in step:
            limiter.on_retry_after(step["retry_after"]["at"], step["retry_after"]["ms"])
        elif "next_free" in step:
            assert limiter.next_free(step["next_free"]) == step["expect"], f"step {i}"
        else:
            pytest.fail(f"step {i}: unknown step {step}")


# ------------------------------------------------------------------ transcripts


def _partial(v: Any) -> Optional[str]:
    return None if v is None else json.dumps(v)


def build_machine(machine: str, c: Dict[str, Any]) -> Tuple[_native.Machine, int]:
    config = _native.Config(c["base_url"])
    key = c["api_key"]
    seed = c.get("seed", 0)
    start = c.get("start", 0)
    idem = c.get("idempotency_key", "usv-transcript-default")
    if machine == "job_run_wait":
        return _native.Machine.wait(config, key, c["job_id"], seed, start, _partial(c.get("options"))), start
    if machine == "job_run_create_and_wait":
        return _native.Machine.create_and_wait(config, key, json.dumps(c["request"]), idem, seed, start, _partial(c.get("options"))), start
    if machine == "create":
        return _native.Machine.create(config, key, json.dumps(c["request"]), idem, seed, _partial(c.get("retry")), c.get("deadline")), start
    if machine == "call":
        call = dict(c["call"])
        call.setdefault("api_key", key)
        endpoint, (method, url, headers, body) = build_request(config, call["target"], call)
        return _native.Machine.call(endpoint, method, url, headers, body, seed, _partial(c.get("retry")), c.get("deadline")), start
    raise AssertionError(f"unknown machine {machine}")


def describe(out: Any) -> str:
    if out[0] == "send":
        return f"send #{out[1]} {out[3]} {out[4]}"
    return " ".join(str(x) for x in out)


def check_output(expected: Any, out: Any, now: int) -> None:
    tag = out[0]
    if expected in ("pending", "done"):
        assert tag == expected, f"expected {expected}, got {describe(out)}"
    elif isinstance(expected, dict) and "wait_until" in expected:
        assert tag == "wait_until", f"expected {expected}, got {describe(out)}"
        w = expected["wait_until"]
        if isinstance(w, int):
            lo = hi = w
        elif "in" in w:
            lo, hi = now + w["in"][0], now + w["in"][1]
        else:
            lo, hi = w.get("min", 0), w.get("max", 2**64)
        assert lo <= out[1] <= hi, f"wait_until {out[1]} not in [{lo}, {hi}]"
    elif isinstance(expected, dict) and "send" in expected:
        assert tag == "send", f"expected {expected}, got {describe(out)}"
        _, _rid, endpoint, method, url, headers, body, timeout_ms, _counted, _send_by = out
        s = expected["send"]
        check_request(s, (method, url, headers, body))
        if "endpoint" in s:
            assert endpoint == s["endpoint"]
        if "timeout_ms" in s:
            assert timeout_ms == s["timeout_ms"], f"timeout_ms {timeout_ms}"
    elif isinstance(expected, dict) and "event" in expected:
        assert tag == "event", f"expected {expected}, got {describe(out)}"
        want = expected["event"]
        if isinstance(want, str):
            want = {"type": want}
        subset("event", want, json.loads(out[1]))
    else:
        raise AssertionError(f"expected {expected}, got {describe(out)}")


def run_transcript(t: Dict[str, Any]) -> None:
    machine, now = build_machine(t["machine"], t["config"])
    last_wait: Optional[int] = None
    sends: List[int] = []
    outstanding: set[int] = set()
    totals: Dict[str, int] = {}

    def outcome_id(o: Dict[str, Any]) -> int:
        return int(o["raw_id"]) if "raw_id" in o else sends[o["id"]]

    for i, step in enumerate(t["steps"]):
        if step.get("at") == "wait_until":
            assert last_wait is not None
            nxt = last_wait
        elif "at" in step:
            nxt = step["at"]
        elif "after" in step:
            nxt = now + step["after"]
        else:
            nxt = now
        assert nxt >= now, f"step {i}: time runs back"
        now = nxt
        ctx = f"step {i} (now {now})"
        if "response" in step:
            r = step["response"]
            rid = outcome_id(r)
            outstanding.discard(rid)
            machine.handle_response(rid, *response(r), now)
        elif "transport_error" in step:
            e = step["transport_error"]
            rid = outcome_id(e)
            outstanding.discard(rid)
            machine.handle_transport_error(rid, e["kind"], e.get("message", ""), now)
        elif "timeout" in step:
            machine.handle_timeout(now)
        elif "cancel" in step:
            machine.cancel(now)
        if "expect" in step:
            outs = []
            while True:
                out = machine.poll(now)
                if out[0] == "wait_until":
                    assert out[1] > now, f"{ctx}: WaitUntil({out[1]}) is not after now"
                    last_wait = out[1]
                elif out[0] == "send":
                    assert out[1] not in outstanding, f"{ctx}: request id {out[1]} already in flight"
                    outstanding.add(out[1])
                    sends.append(out[1])
                    key = f"{out[3]} {split_url(out[4])[0]}"
                    totals[key] = totals.get(key, 0) + 1
                outs.append(out)
                if out[0] in ("wait_until", "pending", "done"):
                    break
                assert len(outs) <= 200, f"{ctx}: more than 200 outputs"
            listing = "\n    ".join(describe(o) for o in outs)
            assert len(outs) == len(step["expect"]), f"{ctx}: expected {len(step['expect'])} outputs, got {len(outs)}:\n    {listing}"
            for k, (e, out) in enumerate(zip(step["expect"], outs)):
                try:
                    check_output(e, out, now)
                except AssertionError as err:
                    raise AssertionError(f"{ctx}: output {k}: {err}\n  all outputs:\n    {listing}") from None
        if "result" in step:
            want = step["result"]
            try:
                if t["machine"] == "call":
                    status, _headers, body = machine.take_response()
                    try:
                        body_json = json.loads(body)
                    except ValueError:
                        body_json = None
                    got: Any = {"status": status, "body_json": body_json}
                else:
                    got = json.loads(machine.take_result())
            except usvideo.USVideoError as err:
                assert "error" in want, f"{ctx}: expected ok {want.get('ok')}, got {err!r}"
                check_error(want["error"], err)
                continue
            assert "ok" in want, f"{ctx}: expected error {want.get('error')}, got ok {got}"
            subset("result", want["ok"], got)
    for k, n in t.get("totals", {}).items():
        assert totals.get(k, 0) == n, f"totals: {k}: expected {n}, got {totals.get(k, 0)} ({totals})"


def _transcripts() -> List[Any]:
    out = []
    for path in sorted((VECTORS / "transcripts").glob("*.json")):
        t = json.loads(path.read_text())
        marks = [pytest.mark.skip(reason=f"known core bug: {t['skip']}")] if "skip" in t else []
        out.append(pytest.param(t, id=path.stem, marks=marks))
    return out


@pytest.mark.parametrize("t", _transcripts())
def test_transcript(t: Dict[str, Any]) -> None:
    run_transcript(t)


def test_every_vector_file_has_a_runner() -> None:
    """A new vector file must get a runner here (or a deliberate skip)."""
    files = {p.name for p in VECTORS.glob("*.json")}
    assert files == {"validation.json", "bad_input.json", "pricing.json", "requests.json", "responses.json", "retry.json", "ratelimit.json"}, files
    assert any((VECTORS / "transcripts").glob("*.json"))
