"""Fixtures: the emulator binary started as a child process (one per session and time scale,
reset between tests), and accounts on it.

The binary is ``$USVIDEO_EMULATOR_BIN`` or ``target/debug/usvideo-emulator`` (``python/test.sh``
builds it). Without it the emulator tests are skipped, unless ``USVIDEO_REQUIRE_EMULATOR=1``
(set by ``test.sh``), which makes a missing binary an error.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[2]
_counter = itertools.count(1)


def emulator_bin() -> Path:
    return Path(os.environ.get("USVIDEO_EMULATOR_BIN") or ROOT / "target" / "debug" / "usvideo-emulator")


@dataclass
class Account:
    email: str
    api_key: str
    jwt: str
    balance_cents: int


class Emulator:
    """A running emulator and its control surface (``/_emulator/``)."""

    def __init__(self, time_scale: float) -> None:
        path = emulator_bin()
        if not path.exists():
            if os.environ.get("USVIDEO_REQUIRE_EMULATOR") == "1":
                pytest.fail(f"emulator binary not found at {path} (cargo build -p usvideo-emulator)")
            pytest.skip(f"emulator binary not found at {path} (cargo build -p usvideo-emulator)")
        self.proc = subprocess.Popen(
            [str(path), "--port", "0", "--time-scale", str(time_scale), "--exit-on-stdin-close"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        prefix = "usvideo-emulator listening on "
        if not line.startswith(prefix):
            self.stop()
            pytest.fail(f"unexpected first line from the emulator: {line!r}")
        self.url = line[len(prefix) :].rstrip("/")
        self.api_base = self.url + "/v1"
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def stop(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=5)

    def _post(self, path: str, body: Any) -> Any:
        r = self.http.post(path, json=body)
        assert r.status_code < 300, f"{path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def reset(self) -> None:
        self._post("/_emulator/reset", {})

    def account(self, balance_cents: int = 5000, **extra: Any) -> Account:
        body = {"email": f"user{next(_counter)}@example.com", "balance_cents": balance_cents, **extra}
        d = self._post("/_emulator/accounts", body)
        return Account(d["email"], d["api_key"], d["jwt"], d["balance_cents"])

    def fault(self, *faults: Dict[str, Any]) -> None:
        self._post("/_emulator/faults", list(faults))

    def clear_faults(self) -> None:
        r = self.http.delete("/_emulator/faults")
        assert r.status_code == 200, r.text

    def advance(self, ms: int) -> None:
        self._post("/_emulator/clock", {"advance_ms": ms})

    def ledger(self) -> Any:
        r = self.http.get("/_emulator/ledger")
        assert r.status_code == 200, r.text
        return r.json()


_emulators: Dict[float, Emulator] = {}


def _emulator(scale: float) -> Emulator:
    if scale not in _emulators:
        _emulators[scale] = Emulator(scale)
    return _emulators[scale]


@pytest.fixture(scope="session", autouse=True)
def _stop_emulators() -> Iterator[None]:
    yield
    for emu in _emulators.values():
        emu.stop()


@pytest.fixture
def emu() -> Emulator:
    """A frozen-clock emulator (``--time-scale 0``): time moves only with ``emu.advance(ms)``."""
    e = _emulator(0.0)
    e.reset()
    return e


@pytest.fixture
def fast_emu() -> Emulator:
    """An emulator whose clock runs 200× real time: a 1080p 5 s job finishes in well under a second."""
    e = _emulator(200.0)
    e.reset()
    return e


def bare_page(first: int, n: int) -> Dict[str, Any]:
    """A fault that answers the next list with a bare array of ``n`` completed jobs (``job_<first>``, …)."""
    jobs = [
        {"id": f"job_{first + i}", "status": "completed", "mode": "text_to_video", "resolution": "720p", "duration": 5,
         "estimated_cost_cents": 30, "created_at": "2026-04-21T15:30:00Z", "video_url": f"https://cdn.example/{first + i}.mp4"}
        for i in range(n)
    ]
    return {"method": "GET", "path": "/v1/videos", "status": 200, "body": json.dumps(jobs), "content_type": "application/json"}


#: A poll schedule for ``fast_emu`` (the core's model time scaled by 1/200).
FAST_POLL: Dict[str, Union[int, float]] = {"first_poll_ms": 50, "min_interval_ms": 50, "max_interval_ms": 300, "expected_scale": 1 / 200}


def ledger_entry(emu: Emulator, email: str) -> Optional[Dict[str, Any]]:
    """The ledger's line for one account, whatever the exact shape (a list or a map)."""
    data = emu.ledger()
    rows: List[Any]
    if isinstance(data, dict) and "accounts" in data:
        data = data["accounts"]
    if isinstance(data, dict):
        rows = [dict(v, email=k) if isinstance(v, dict) and "email" not in v else v for k, v in data.items()]
    else:
        rows = list(data)
    return next((r for r in rows if isinstance(r, dict) and r.get("email") == email), None)
