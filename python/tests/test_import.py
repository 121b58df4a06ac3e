"""``import usvideo`` stays light: every public name loads on first use (PEP 562), the native
module included; httpx only when a client is made; ``estimate_cost`` works without httpx."""

from __future__ import annotations

import subprocess
import sys

import usvideo


def _run(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return r.stdout.strip()


def test_import_loads_nothing_else() -> None:
    out = _run("import sys, usvideo; print(sorted(m for m in sys.modules if m.startswith(('usvideo', 'httpx', 'httpcore', 'asyncio'))))")
    assert out == "['usvideo']"


def test_estimate_cost_works_without_httpx() -> None:
    code = "import sys; sys.modules['httpx'] = None; import usvideo; print(usvideo.estimate_cost(resolution='1080p', duration=5)); print('httpx' in sys.modules and sys.modules['httpx'] is not None)"
    assert _run(code).splitlines() == ["120", "False"]


def test_import_does_not_pull_httpx() -> None:
    out = _run("import sys, usvideo; print(usvideo.estimate_cost(resolution='1080p', duration=5), usvideo.Job, usvideo.USVideoError); print('httpx' in sys.modules, 'asyncio' in sys.modules)")
    assert out.splitlines()[-1] == "False False"


def test_a_client_imports_httpx() -> None:
    out = _run("import sys, usvideo; c = usvideo.Client(api_key='sd_test_key_0001', base_url='http://127.0.0.1:9/v1'); print('httpx' in sys.modules); c.close()")
    assert out == "True"


def test_every_public_name_resolves() -> None:
    for name in usvideo.__all__:
        assert getattr(usvideo, name) is not None, name
    assert set(usvideo.__all__) <= set(dir(usvideo))
    assert usvideo.__version__ and usvideo.DEFAULT_BASE_URL.startswith("https://")
    try:
        usvideo.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as e:
        assert "NoSuchThing" in str(e)
    else:
        raise AssertionError("expected AttributeError")


def test_the_submodules_resolve_after_a_bare_import() -> None:
    """helper-76: ``usvideo.errors.RateLimitError`` (as the README names the classes) raised
    AttributeError until something had imported the submodule."""
    code = "import usvideo; print(usvideo.errors.RateLimitError is usvideo.RateLimitError, usvideo.types.Job is usvideo.Job, 'errors' in dir(usvideo))"
    assert _run(code) == "True True True"
