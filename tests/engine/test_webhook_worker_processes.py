"""Webhooks from real `onewindow worker` processes (issue 13): a worker killed with SIGKILL in the
middle of sending loses no event — the next worker sends what was left (at least once: the
receiver de-duplicates by event id) and a case's events still arrive in order."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from engine.services import cases
from engine.domain.access import Actor
from engine.config import REPO_ROOT
from engine.services import webhooks
from engine.adapters.models import OutboxEvent
from tests.conftest import deploy_file
from tests.webhook_receiver import Receiver

SECRET = "kill-nine-secret-0123"


@pytest.fixture
def spawn(runtime):
    """`onewindow worker` processes, killed at the end if still alive (logs to a file, not a pipe)."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        env = dict(os.environ, DATABASE_URL=runtime.settings.database_url, PYTHONPATH=str(REPO_ROOT))
        log = tempfile.TemporaryFile()
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", *args], cwd=REPO_ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log)
        process.log = log
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def receiver():
    r = Receiver(delay=0.03).start()
    yield r
    r.stop()


def _log(process) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-3000:]


def test_events_survive_a_worker_killed_mid_delivery(runtime, agent, clock, spawn, receiver):
    clock.set(datetime.now(timezone.utc))  # the workers run on the real clock
    with runtime.unit_of_work() as uow:
        webhooks.add_hook(uow, Actor("root", "admin"), receiver.url, "*", SECRET)
        uow.commit()
    deploy_file(runtime, "parallel_approval.bpmn")
    for i in range(40):
        with runtime.unit_of_work() as uow:
            cases.start_case(uow, agent, "parallel_approval", f"2026-510117-34-01-{i:06d}")
            uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        events = {e.event_id: e for e in uow.session.scalars(select(OutboxEvent))}
    assert len(events) >= 120

    victim = spawn("--lease", "2", "--poll", "0.1", "--name", "victim")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(receiver.delivered()) < 30:
        assert victim.poll() is None, _log(victim)
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    before = {d["id"] for d in receiver.delivered()}
    assert 30 <= len(before) < len(events), "the victim must die mid-way"

    time.sleep(2.5)  # its leases run out
    rescuer = spawn("--lease", "2", "--poll", "0.1", "--name", "rescuer")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and {d["id"] for d in receiver.delivered()} != set(events):
        assert rescuer.poll() is None, _log(rescuer)
        time.sleep(0.1)
    rescuer.send_signal(signal.SIGTERM)
    assert rescuer.wait(timeout=60) == 0, _log(rescuer)

    delivered = receiver.delivered()
    ids = [d["id"] for d in delivered]
    assert set(ids) == set(events)  # every event, at least once
    assert len(ids) - len(set(ids)) <= 20  # again at most those in flight when the victim died
    assert receiver.all_signed_by(SECRET)
    first_seen: dict[str, list[int]] = {}
    seen = set()
    for document in delivered:
        if document["id"] not in seen:
            seen.add(document["id"])
            first_seen.setdefault(document["case_id"], []).append(document["sequence"])
    for case_id, sequences in first_seen.items():
        assert sequences == list(range(1, len(sequences) + 1)), case_id
