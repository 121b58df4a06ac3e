"""The fault matrix for Python: every scenario of ``tests/reliability/scenarios.json``, run as
``tests/reliability/README.md`` describes, with the sync client (``target/reliability/python.json``)
and the async client (``target/reliability/python_async.json``). One test per client, because the
scenarios share one emulator and faults are global to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import httpx
import pytest

import usvideo
from conftest import ROOT, Emulator, _emulator, emulator_bin

SPEC: Dict[str, Any] = json.loads((ROOT / "tests" / "reliability" / "scenarios.json").read_text())
BALANCE = 10_000
BOUND_MS = 30_000
POLL = {"first_poll_ms": 100, "min_interval_ms": 100, "max_interval_ms": 300, "expected_scale": 0.01}
OUT_DIR = ROOT / "target" / "reliability"


class Outcome:
    """What a call ended with: ``ok``, or the error's kind (the core's wire name) and status."""

    def __init__(self, error: Optional[BaseException] = None, note: str = "") -> None:
        self.kind: Optional[str] = None
        self.status: Optional[int] = None
        self.note = note
        if isinstance(error, usvideo.USVideoError):
            self.kind, self.status, self.note = error.kind, error.status, str(error)
        elif error is not None:
            self.kind, self.note = "unexpected", f"{type(error).__name__}: {error}"

    @property
    def outcome(self) -> str:
        return "ok" if self.kind is None else "error"


def money(ledger: Any, email: str) -> Tuple[int, int]:
    """The last ledger entry with this email: (jobs created, cents charged = deposits − balance)."""
    row = next(a for a in reversed(ledger["accounts"]) if a["email"] == email)
    return int(row["jobs_created"]), int(row["deposits_cents"]) - int(row["balance_cents"])


def client_kwargs(options: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    kw: Dict[str, Any] = {}
    if options and "max_retries" in options:
        kw["max_retries"] = int(options["max_retries"])
    if options and "timeout_ms" in options:
        kw["timeout"] = options["timeout_ms"] / 1000.0
    return kw


# ------------------------------------------------------------------ the calls, sync and async


def sync_call(call: str, base: str, key: str, options: Optional[Dict[str, Any]]) -> Outcome:
    with usvideo.Client(api_key=key, base_url=base, **client_kwargs(options)) as c:
        try:
            if call == "account.retrieve":
                c.account.retrieve()
            elif call == "videos.create":
                c.videos.create(**SPEC["request"])
            elif call == "videos.create_and_wait":
                c.videos.create_and_wait(**SPEC["request"], timeout=60, poll=POLL)
            else:
                pytest.fail(f"unknown call {call}")
        except Exception as e:  # noqa: BLE001 - recorded, judged below
            return Outcome(e)
    return Outcome()


def async_call(call: str, base: str, key: str, options: Optional[Dict[str, Any]]) -> Outcome:
    async def run() -> Outcome:
        async with usvideo.AsyncClient(api_key=key, base_url=base, **client_kwargs(options)) as c:
            try:
                if call == "account.retrieve":
                    await c.account.retrieve()
                elif call == "videos.create":
                    await c.videos.create(**SPEC["request"])
                elif call == "videos.create_and_wait":
                    await c.videos.create_and_wait(**SPEC["request"], timeout=60, poll=POLL)
                else:
                    pytest.fail(f"unknown call {call}")
            except Exception as e:  # noqa: BLE001
                return Outcome(e)
        return Outcome()

    return asyncio.run(run())


def sync_create_then_wait(base: str, key: str, on_created: Callable[[], None]) -> Outcome:
    with usvideo.Client(api_key=key, base_url=base) as c:
        try:
            job = c.videos.create(**SPEC["request"])
            on_created()
            done = c.videos.wait(job.id, timeout=60, poll=POLL)
        except Exception as e:  # noqa: BLE001
            return Outcome(e)
    return Outcome() if done.status == "completed" else Outcome(note=f"the wait ended with the job {done.status}")


def async_create_then_wait(base: str, key: str, on_created: Callable[[], None]) -> Outcome:
    async def run() -> Outcome:
        async with usvideo.AsyncClient(api_key=key, base_url=base) as c:
            try:
                job = await c.videos.create(**SPEC["request"])
                on_created()
                done = await c.videos.wait(job.id, timeout=60, poll=POLL)
            except Exception as e:  # noqa: BLE001
                return Outcome(e)
        return Outcome() if done.status == "completed" else Outcome(note=f"the wait ended with the job {done.status}")

    return asyncio.run(run())


# ------------------------------------------------------------------ the restart scenario


def spawn(port: int, state: Path) -> Tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(emulator_bin()), "--port", str(port), "--time-scale", "20", "--state-file", str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    prefix = "usvideo-emulator listening on "
    if not line.startswith(prefix):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"emulator start-up line: {line!r} (exit {proc.poll()})")
    return proc, line[len(prefix) :].rstrip("/")


def across_restart(email: str, create_then_wait: Callable[[str, str, Callable[[], None]], Outcome]) -> Tuple[int, Outcome, Tuple[int, int]]:
    """Creates a job, then SIGKILLs the emulator 300 ms later and restarts it 500 ms after that on
    the same port with the same state file, while the wait goes on."""
    fd, name = tempfile.mkstemp(prefix="usvideo-reliability-", suffix=".json")
    os.close(fd)
    state = Path(name)
    state.unlink()
    procs: List["subprocess.Popen[str]"] = []
    try:
        try:
            first, url = spawn(0, state)
        except RuntimeError as e:
            return 0, Outcome(e), (0, 0)
        procs.append(first)
        port = int(url.rsplit(":", 1)[1])
        creds = httpx.post(f"{url}/_emulator/accounts", json={"email": email, "balance_cents": BALANCE}).json()
        errors: List[BaseException] = []

        def restart() -> None:
            try:
                time.sleep(0.3)
                first.send_signal(signal.SIGKILL)
                first.wait()
                time.sleep(0.5)
                procs.append(spawn(port, state)[0])
            except BaseException as e:  # noqa: BLE001 - reported through the outcome
                errors.append(e)

        thread = threading.Thread(target=restart, daemon=True)
        started = time.monotonic()
        outcome = create_then_wait(url + "/v1", creds["api_key"], thread.start)
        if thread.ident is not None:
            thread.join(10)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        if errors:
            outcome = Outcome(errors[0])
        ledger = httpx.get(f"{url}/_emulator/ledger").json()
        return elapsed_ms, outcome, money(ledger, email)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        state.unlink(missing_ok=True)


# ------------------------------------------------------------------ the matrix


def run_matrix(
    emu: Emulator,
    call: Callable[[str, str, str, Optional[Dict[str, Any]]], Outcome],
    create_then_wait: Callable[[str, str, Callable[[], None]], Outcome],
) -> List[Dict[str, Any]]:
    results: List[Dict[str, Any]] = []
    for s in SPEC["scenarios"]:
        email = f"{s['id']}@reliability.test"
        expect = s["expect"]
        if s["call"] == "videos.create_and_wait_across_restart":
            elapsed, outcome, (jobs, charged) = across_restart(email, create_then_wait)
        else:
            emu.http.delete("/_emulator/faults").raise_for_status()
            acct = emu._post("/_emulator/accounts", {"email": email, "balance_cents": BALANCE})
            r = emu.http.post("/_emulator/faults", json=s["faults"]) if s["faults"] else None
            if r is not None and r.status_code >= 300:
                # The emulator cannot inject this fault: the scenario fails, the matrix goes on.
                outcome, elapsed = Outcome(RuntimeError(f"the emulator refused the fault: {r.status_code} {r.text}")), 0
            else:
                started = time.monotonic()
                outcome = call(s["call"], emu.api_base, acct["api_key"], s.get("client"))
                elapsed = int((time.monotonic() - started) * 1000)
            jobs, charged = money(emu.ledger(), email)
        passed = expect["outcome"] == outcome.outcome
        passed &= "kind" not in expect or expect["kind"] == outcome.kind
        passed &= "status" not in expect or expect["status"] == outcome.status
        passed &= expect["jobs_created"] == jobs and expect["charged_cents"] == charged
        passed &= "min_elapsed_ms" not in expect or elapsed >= expect["min_elapsed_ms"]
        passed &= "max_elapsed_ms" not in expect or elapsed <= expect["max_elapsed_ms"]
        passed &= elapsed < BOUND_MS
        results.append(
            {
                "id": s["id"],
                "passed": bool(passed),
                "outcome": outcome.outcome,
                "kind": outcome.kind,
                "status": outcome.status,
                "jobs_created": jobs,
                "charged_cents": charged,
                "elapsed_ms": elapsed,
                "note": usvideo._native.redact(outcome.note),
            }
        )
    emu.http.delete("/_emulator/faults")
    return results


def write_and_check(file: str, language: str, client: str, results: List[Dict[str, Any]]) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    report = {"language": language, "client": client, "results": results}
    (OUT_DIR / file).write_text(json.dumps(report, indent=2) + "\n")
    failed = [r for r in results if not r["passed"]]
    assert not failed, "scenarios failed:\n" + "\n".join(json.dumps(r) for r in failed)
    assert {r["id"] for r in results} == {s["id"] for s in SPEC["scenarios"]}


def test_fault_matrix_sync() -> None:
    emu = _emulator(100.0)
    emu.reset()
    write_and_check("python.json", "Python", "usvideo.Client (httpx)", run_matrix(emu, sync_call, sync_create_then_wait))


def test_fault_matrix_async() -> None:
    emu = _emulator(100.0)
    emu.reset()
    write_and_check("python_async.json", "Python (async)", "usvideo.AsyncClient (httpx, asyncio)", run_matrix(emu, async_call, async_create_then_wait))
