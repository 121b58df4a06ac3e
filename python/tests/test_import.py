"""``import usvideo`` stays light: httpx is imported only when a client is made."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return r.stdout.strip()


def test_import_does_not_pull_httpx() -> None:
    out = _run("import sys, usvideo; print('httpx' in sys.modules, 'httpcore' in sys.modules, 'asyncio' in sys.modules); print(usvideo.estimate_cost(resolution='1080p', duration=5))")
    assert out.splitlines() == ["False False False", "120"]


def test_a_client_imports_httpx() -> None:
    out = _run("import sys, usvideo; c = usvideo.Client(api_key='sd_test_key_0001', base_url='http://127.0.0.1:9/v1'); print('httpx' in sys.modules); c.close()")
    assert out == "True"
