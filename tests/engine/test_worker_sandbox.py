"""`onewindow worker` as a real process against a timer whose script hangs in C code (issue 9 §3):
the script ends at its time limit as an error on the case, the other timers of the batch fire,
the job is not claimed again, and SIGTERM stops the worker within seconds mid-script."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.services import cases
from engine.config import REPO_ROOT
from engine.adapters.models import Case, Event, TimerJob
from tests.conftest import deploy_file


@pytest.fixture
def spawn(runtime):
    """Starts `onewindow worker` processes with a script time limit; kills leftovers."""
    started: list[subprocess.Popen] = []

    def start(*args: str, script_timeout: float) -> subprocess.Popen:
        env = dict(os.environ, DATABASE_URL=runtime.settings.database_url, PYTHONPATH=str(REPO_ROOT),
                   ONEWINDOW_SCRIPT_TIMEOUT=str(script_timeout))
        log = tempfile.TemporaryFile()  # not a pipe: a full pipe would block the worker
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", *args], cwd=REPO_ROOT,
                                   env=env, stdout=subprocess.DEVNULL, stderr=log)
        process.log = log
        started.append(process)
        return process

    yield start
    for process in started:
        for host in _hosts(process.pid):
            _kill(host)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _log(process) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-3000:]


def _hosts(pid: int) -> list[int]:
    """Child processes of `pid` (its sandbox hosts)."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in children.read_text().split()]
        except OSError:
            pass
    return found


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(runtime, agent, key, number):
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, agent, key, f"2026-510117-34-01-{number:06d}").case
        uow.commit()
    return case.id


def _events(runtime, case_id, kind):
    with runtime.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Event).where(Event.case_id == case_id, Event.type == kind)))


def _case(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return uow.session.get(Case, case_id)


def _jobs(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(TimerJob).where(TimerJob.case_id == case_id)))


@pytest.fixture
def due_cases(runtime, agent, clock):
    """Cases started an hour ago by the injected clock: their 10-minute timers are due now."""
    clock.set(datetime.now(timezone.utc) - timedelta(hours=1))
    deploy_file(runtime, "script_sandbox.bpmn")
    deploy_file(runtime, "time_timers.bpmn")

    def start(key: str, count: int = 1, first: int = 0) -> list[str]:
        return [_start(runtime, agent, key, first + i) for i in range(count)]
    return start


def test_a_hanging_timer_script_fails_its_case_and_the_batch_goes_on(runtime, due_cases, spawn):
    [hanging] = due_cases("timer_hang")  # first in the batch: claimed with the earliest id
    others = due_cases("timer_wait", 5, first=1)
    worker = spawn("--once", "--batch", "50", script_timeout=2)
    assert worker.wait(timeout=150) == 0, _log(worker)

    for case_id in others:
        assert len(_events(runtime, case_id, "timer_fired")) == 1
        assert _case(runtime, case_id).error is None
    failed = _case(runtime, hanging)
    assert failed.error == "HangT: script timed out after 2 s"
    assert len(_events(runtime, hanging, "timer_fired")) == 1
    assert _jobs(runtime, hanging) == []  # nothing left to claim: not retried forever

    again = spawn("--once", script_timeout=2)
    assert again.wait(timeout=60) == 0, _log(again)
    assert len(_events(runtime, hanging, "error")) == 1


def test_sigterm_stops_the_worker_while_a_script_hangs(runtime, due_cases, spawn):
    [hanging] = due_cases("timer_hang")
    worker = spawn("--poll", "0.2", script_timeout=120)
    deadline = time.monotonic() + 90
    busy: list[int] = []
    while not busy:  # the sandbox host burns CPU in the hash
        assert worker.poll() is None, _log(worker)
        assert time.monotonic() < deadline, "the script never started: " + _log(worker)
        busy = [h for h in _hosts(worker.pid) if _alive(h) and _cpu_seconds(h) > 0.5]
        time.sleep(0.1)

    sent = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, _log(worker)
    assert time.monotonic() - sent < 10  # not the 120 s the script was allowed
    assert "stopped" in _log(worker)
    assert not any(_alive(h) for h in busy)

    # Nothing of the interrupted step was kept; the job waits, unclaimed, for the next worker.
    assert _case(runtime, hanging).error is None
    assert _events(runtime, hanging, "timer_fired") == []
    [job] = _jobs(runtime, hanging)
    assert job.claimed_by is None

    worker = spawn("--once", script_timeout=2)
    assert worker.wait(timeout=60) == 0, _log(worker)
    assert _case(runtime, hanging).error == "HangT: script timed out after 2 s"
    assert _jobs(runtime, hanging) == []
