"""Real HTTP against real gunicorn worker processes: tasks of one case completed concurrently, none lost."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.api.conftest import PROJECT_CODE, Users
from tests.conftest import deploy_file

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(runtime, database_url):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would block gunicorn's error log
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--graceful-timeout", "5", "api.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{base}/health", timeout=10).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.seek(0)
            pytest.fail(f"gunicorn did not start: {log.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.2)
    yield base
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def test_concurrent_completions_through_several_workers(runtime, server):
    deploy_file(runtime, "parallel_approval.bpmn")
    users = Users(runtime)
    users.create("alice", "agent")
    for department in ("county.fgj", "county.zrzyj", "county.sthjj"):
        users.create(department, "staff", department)
    health = requests.get(f"{server}/health", timeout=10).json()
    assert health["database"] == runtime.database.kind

    rounds = 3
    for n in range(rounds):
        business_key = PROJECT_CODE[:-1] + str(n + 1)
        started = requests.post(f"{server}/cases", json={"process_key": "parallel_approval",
                                                          "business_key": business_key},
                                headers=users.header("alice"), timeout=30)
        assert started.status_code == 201, started.text
        case = started.json()
        assert len(case["open_tasks"]) == 3

        def complete(task: dict) -> int:
            response = requests.post(f"{server}/tasks/{task['id']}/complete", json={"data": {"decision": "approve"}},
                                     headers=users.header(task["department"]), timeout=60)
            return response.status_code

        with ThreadPoolExecutor(max_workers=3) as pool:
            statuses = list(pool.map(complete, case["open_tasks"]))
        assert statuses == [200, 200, 200]

        detail = requests.get(f"{server}/cases/{case['id']}", headers=users.header("alice"), timeout=30).json()
        assert sorted(t["department"] for t in detail["completed_tasks"]) == [
            "county.fgj", "county.sthjj", "county.zrzyj"]
        [close] = detail["open_tasks"]
        assert close["element_id"] == "Close"
        assert detail["status"] == "running"
