"""Consecutive commands on different server processes give the same case as one process:
two real gunicorn servers (one worker each) on the same database, taking turns step by step,
against the engine run in-process with every cache emptied before each step."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from engine.services import users
from tests.differential.corpus_loader import CORPUS, load
from tests.differential.harness import EngineDriver, Scenario, differences, run_engine
from tests.differential.shipped import one_window_agency, site_selection

ROOT = Path(__file__).resolve().parents[2]
SERVERS = 2


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def servers(runtime, database_url):
    """Two `gunicorn --workers 1` processes on the database the test uses."""
    started: list[tuple[subprocess.Popen, Any, str]] = []
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    try:
        for _ in range(SERVERS):
            port = _free_port()
            log = tempfile.TemporaryFile()  # not a pipe: a full pipe would block gunicorn
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                 "--graceful-timeout", "5", "api.wsgi:app"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
            started.append((process, log, f"http://127.0.0.1:{port}/api/v1"))
        for process, log, base in started:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if requests.get(f"{base}/health", timeout=10).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"gunicorn did not start: {log.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.2)
        yield [base for _, _, base in started]
    finally:
        for process, log, _ in started:
            process.terminate()
        for process, log, _ in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


class HttpDriver(EngineDriver):
    """Starts in-process, then every completion and message goes to the next server in turn."""

    def __init__(self, bases: list[str], token: str, *args: Any) -> None:
        self.bases, self.headers, self.calls = bases, {"Authorization": f"Bearer {token}"}, 0
        super().__init__(*args)

    def _post(self, path: str, body: dict[str, Any]) -> None:
        base = self.bases[self.calls % len(self.bases)]
        self.calls += 1
        response = requests.post(base + path, json=body, headers=self.headers, timeout=60)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])

    def complete(self, handle: str, data: dict[str, Any]) -> None:
        self._post(f"/tasks/{handle}/complete", {"data": data})
        self._collect_events()

    def message(self, name: str, payload: Any) -> None:
        self._post(f"/cases/{self.case_id}/messages", {"name": name, "payload": payload})
        self._collect_events()


def scenarios() -> list[Scenario]:
    corpus = ["mi_nested", "call_mi_same_file", "alias_parallel_in_place", "event_subprocess_message_noninterrupting",
              "boundary_message_interrupting", "mi_cardinality_names_collection", "xor_loop"]
    return [site_selection(35), one_window_agency()] + [load(CORPUS / f"{name}.bpmn") for name in corpus]


def test_steps_alternating_between_two_server_processes(runtime, clock, servers):
    with runtime.unit_of_work() as uow:
        token = users.create_user(uow, "root", "admin", None)
        uow.commit()
    checked = []
    for scenario in scenarios():
        cold = run_engine([runtime], clock, scenario, cold=True, label="cold")
        driver = HttpDriver(servers, token, [runtime], clock, scenario, False, "http")
        http = driver.outcome(driver.play())
        assert driver.calls == len(http.actions)  # every step went to a server, in turn
        problems = differences(cold, http, ("in-process cold", "two servers"))
        assert not problems, f"{scenario.name}:\n  " + "\n  ".join(problems)
        checked.append((scenario.name, http.status))
    assert ("site_selection_35x4", "completed") in checked and ("one_window_agency", "completed") in checked
