"""`onewindow serve --with-worker` as `make run` starts it: the timer worker lives exactly as long
as the server, and each server keeps to itself (no shared gunicorn control socket)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from engine.config import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marked(mark: str) -> list[int]:
    """Pids of live processes whose environment carries `mark` (the server and its children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            status = (entry / "stat").read_text()
        except OSError:
            continue
        if f"OW_TEST_MARK={mark}".encode() in environ.split(b"\0") and ") Z " not in status:
            pids.append(int(entry.name))
    return pids


def _wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.fixture
def serve(runtime, tmp_path):
    """Starts `onewindow serve --with-worker`; kills whatever it left when the test ends."""
    mark = uuid.uuid4().hex
    started: list[subprocess.Popen] = []

    def start(port: int, workers: int = 1, with_worker: bool = True) -> subprocess.Popen:
        env = dict(os.environ, DATABASE_URL=runtime.settings.database_url, PYTHONPATH=str(REPO_ROOT),
                   HOME=str(tmp_path), OW_TEST_MARK=mark)
        log = tempfile.TemporaryFile()  # not a pipe: a full pipe would block the server
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port),
                                    "--workers", str(workers), "--with-worker" if with_worker else "--no-worker"],
                                   cwd=REPO_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        process.log = log
        started.append(process)
        return process

    start.mark = mark
    yield start
    for pid in _marked(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _log(process) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-3000:]


def _wait_serving(process, port: int) -> None:
    def up() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False
    assert _wait_until(lambda: up() or process.poll() is not None, 90), _log(process)
    assert process.poll() is None, _log(process)


def _worker_running(mark: str) -> bool:
    for pid in _marked(mark):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"worker" in cmdline:
            return True
    return False


def test_port_in_use_stops_the_server_and_starts_no_worker(serve):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = serve(port)
        assert process.wait(timeout=60) != 0, _log(process)
    assert "serving on" in _log(process)
    assert _wait_until(lambda: not _marked(serve.mark), 10), "processes left behind"


def test_sigterm_to_the_server_stops_its_worker(serve, tmp_path):
    port = _free_port()
    process = serve(port)
    _wait_serving(process, port)
    assert _wait_until(lambda: _worker_running(serve.mark), 30), _log(process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, _log(process)
    assert _wait_until(lambda: not _marked(serve.mark), 15), _log(process)
    assert not (tmp_path / ".gunicorn").exists()  # no shared control socket


def test_a_killed_server_takes_its_worker_along(serve):
    port = _free_port()
    process = serve(port)
    _wait_serving(process, port)
    assert _wait_until(lambda: _worker_running(serve.mark), 30), _log(process)
    process.kill()
    process.wait(timeout=10)
    assert _wait_until(lambda: not _worker_running(serve.mark), 15), "the worker outlived its server"


def test_two_servers_side_by_side(serve):
    ports = [_free_port(), _free_port()]
    processes = [serve(port) for port in ports]
    for process, port in zip(processes, ports):
        _wait_serving(process, port)
    processes[0].send_signal(signal.SIGTERM)
    assert processes[0].wait(timeout=30) == 0, _log(processes[0])
    assert requests.get(f"http://127.0.0.1:{ports[1]}/api/v1/health", timeout=5).status_code == 200
