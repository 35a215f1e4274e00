"""The worker as real processes: two workers share 1,000 due timers on PostgreSQL without double
firing; a worker killed with SIGKILL mid-batch loses nothing (its leases expire, another finishes)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine.services import cases
from engine.config import REPO_ROOT
from engine.adapters.models import Event, Task, TimerJob
from tests.conftest import deploy_file


def _start_many(runtime, agent, clock, count):
    # Started an hour ago by the injected clock: their 10-minute timers are due by the real clock.
    clock.set(datetime.now(timezone.utc) - timedelta(hours=1))
    deploy_file(runtime, "time_timers.bpmn")
    ids = []
    for i in range(count):
        with runtime.unit_of_work() as uow:
            ids.append(cases.start_case(uow, agent, "timer_wait", f"2026-510117-34-01-{i:06d}").case.id)
            uow.commit()
    return ids


@pytest.fixture
def spawn(runtime):
    """Starts `onewindow worker` processes; any still alive when the test ends is killed, so a
    failed assertion never leaves a worker holding row locks for the next test."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        env = dict(os.environ, DATABASE_URL=runtime.settings.database_url, PYTHONPATH=str(REPO_ROOT))
        log = tempfile.TemporaryFile()  # not a pipe: a full pipe would block the worker
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", *args], cwd=REPO_ROOT,
                                   env=env, stdout=subprocess.DEVNULL, stderr=log)
        process.log = log
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _log(process) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-2000:]


def _counts(runtime):
    with runtime.unit_of_work(write=False) as uow:
        fired = dict(uow.session.execute(select(Event.case_id, func.count()).where(Event.type == "timer_fired")
                                         .group_by(Event.case_id)).all())
        tasks = uow.session.scalar(select(func.count()).select_from(Task).where(Task.state == "ready"))
        jobs = uow.session.scalar(select(func.count()).select_from(TimerJob))
    return fired, tasks, jobs


def test_two_workers_fire_every_due_timer_exactly_once(runtime, agent, clock, spawn):
    # PostgreSQL shares the work with FOR UPDATE SKIP LOCKED; SQLite's single writer lock
    # serialises the claims, so two workers there are safe too, just not faster (fewer timers).
    count = 1000 if runtime.database.kind == "postgresql" else 200
    ids = _start_many(runtime, agent, clock, count)
    workers = [spawn("--once", "--batch", "25", "--name", f"w{i}") for i in range(2)]
    for w in workers:
        assert w.wait(timeout=300) == 0, _log(w)
    fired, tasks, jobs = _counts(runtime)
    assert len(fired) == count and set(fired) == set(ids) and set(fired.values()) == {1}
    assert tasks == count and jobs == 0


def test_worker_killed_mid_batch_loses_nothing(runtime, agent, clock, spawn):
    ids = _start_many(runtime, agent, clock, 120)
    victim = spawn("--batch", "120", "--lease", "3", "--job-delay", "0.05", "--name", "victim")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fired, _, _ = _counts(runtime)
        if len(fired) >= 10:
            break
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    fired, _, _ = _counts(runtime)
    assert 10 <= len(fired) < 120, "the victim must die mid-batch"
    with runtime.unit_of_work(write=False) as uow:
        claimed = uow.session.scalar(select(func.count()).select_from(TimerJob)
                                     .where(TimerJob.claimed_by == "victim"))
    assert claimed > 0  # its claims are still there, leased
    time.sleep(3.5)  # the leases run out
    rescuer = spawn("--once", "--name", "rescuer")
    assert rescuer.wait(timeout=120) == 0, _log(rescuer)
    fired, tasks, jobs = _counts(runtime)
    assert set(fired) == set(ids) and set(fired.values()) == {1}
    assert tasks == 120 and jobs == 0
