"""The native module's contract: panics never escape, the stub matches, machines misuse safely."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import usvideo
from usvideo import _native

STUB = Path(usvideo.__file__).with_name("_native.pyi")


def test_a_panic_is_a_usvideo_error_not_panic_exception() -> None:
    with pytest.raises(usvideo.InternalError) as info:
        _native._force_panic()
    assert isinstance(info.value, Exception)  # PanicException derives from BaseException only
    assert "internal error" in info.value.message
    # The module keeps working afterwards.
    assert usvideo.estimate_cost(resolution="1080p", duration=5) == 120


def test_panic_caught_by_except_exception() -> None:
    try:
        _native._force_panic()
    except Exception as e:  # noqa: BLE001 - the point of the test
        assert type(e).__name__ == "InternalError"
    else:
        pytest.fail("no exception")


def _stub_names() -> dict[str, set[str]]:
    """Top-level names of the stub, and the method names of each class."""
    text = STUB.read_text()
    out: dict[str, set[str]] = {"": set()}
    current = ""
    for line in text.splitlines():
        if m := re.match(r"^class (\w+)", line):
            current = m.group(1)
            out[""].add(current)
            out[current] = set()
        elif m := re.match(r"^def (\w+)", line):
            current = ""
            out[""].add(m.group(1))
        elif (m := re.match(r"^(\w+): ", line)) and not m.group(1).startswith("_H") and m.group(1) not in ("_Request", "_Response"):
            out[""].add(m.group(1))
        elif m := re.match(r"^    def (\w+)", line):
            out[current].add(m.group(1))
    return out


def test_stub_matches_the_module() -> None:
    stub = _stub_names()
    runtime = {n for n in dir(_native) if not n.startswith("__") or n == "__version__"}
    assert set(_native.__all__) == runtime
    runtime.discard("__doc__")
    assert stub[""] == runtime, f"only in stub: {stub[''] - runtime}; only in module: {runtime - stub['']}"
    for cls in ("Config", "Machine", "RateLimiter"):
        methods = {n for n in dir(getattr(_native, cls)) if not n.startswith("_")}
        assert stub[cls] - {"__new__"} == methods, f"{cls}: stub {stub[cls]} vs module {methods}"


def test_stub_parameter_names_match() -> None:
    """Every function's parameters (from pyo3's text signatures) are the stub's, in order."""
    import ast

    tree = ast.parse(STUB.read_text())
    stub_params: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            stub_params[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef):
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and f.name != "__new__":
                    args = [a.arg for a in f.args.args]
                    stub_params[f"{node.name}.{f.name}"] = args[1:] if args[:1] == ["self"] else args
    checked = 0
    for name, params in stub_params.items():
        owner, _, attr = name.rpartition(".")
        obj = getattr(getattr(_native, owner), attr) if owner else getattr(_native, name)
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        if isinstance(obj, property):
            continue
        runtime = [p for p in sig.parameters if p not in ("self", "$self")]
        assert runtime == params, f"{name}: module {runtime} vs stub {params}"
        checked += 1
    assert checked >= 30


def test_stubtest_passes() -> None:
    """mypy's stubtest compares the stub with the module at run time."""
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "usvideo._native"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_machine_misuse_is_an_error_not_a_crash() -> None:
    config = _native.Config("http://127.0.0.1:9/v1")
    m = _native.Machine.wait(config, "sd_test_key_0001", "job_1", 1, 0)
    with pytest.raises(usvideo.UsageError):
        m.take_result()  # too early
    with pytest.raises(usvideo.UsageError):
        m.take_response()  # not a call
    with pytest.raises(usvideo.UsageError):
        m.handle_transport_error(0, "sideways", "", 0)
    out = m.poll(0)
    assert out[0] == "send" and out[3] == "GET" and out[4].endswith("/videos/job_1")
    m.handle_response(999_999, 200, [], b"{}", 1)  # an id never issued: a warning event, no crash
    ev = m.poll(1)
    assert ev[0] == "event" and json.loads(ev[1])["type"] == "warning"
    m.cancel(2)
    # A wait that only watches its job sends no DELETE when cancelled (job rule 6).
    assert m.poll(2) == ("done",)
    with pytest.raises(usvideo.CancelledError) as info:
        m.take_result()
    assert "the job goes on" in str(info.value)


def test_bad_base_url_and_key() -> None:
    with pytest.raises(usvideo.ValidationError) as info:
        _native.Config("ftp://x/v1")
    assert info.value.field == "base_url"
    with pytest.raises(usvideo.ValidationError) as info:
        usvideo.Client(api_key="pk_live_123456")
    assert (info.value.field, info.value.code) == ("api_key", "invalid_prefix")
