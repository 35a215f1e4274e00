"""The HTTP half of the bench: real gunicorn (2 workers) on 127.0.0.1, a concurrent keep-alive client.

Each thread owns one `http.client.HTTPConnection` (re-opened transparently when gunicorn's sync
workers close it). Rates are completed requests per wall-clock second; latencies are measured
from the moment a request is sent to its last response byte.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from bench import DEPARTMENTS, PROCESS_KEY, items

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = "/api/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with `workers` sync workers serving api.wsgi:app against `database_url`."""

    def __init__(self, database_url: str, workers: int = 2) -> None:
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=REPO)
        # BENCH_GUNICORN_ARGS: further gunicorn options to compare configurations, e.g.
        # "--worker-class gthread --threads 4" (docs/bench.md, issue 16)
        extra = os.environ.get("BENCH_GUNICORN_ARGS", "").split()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
             f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "120", *extra, "api.wsgi:app"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.process.stderr.read().decode()[-2000:])
            try:
                status, _ = Client(self.port, None).request("GET", f"{API}/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /health within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    """One keep-alive connection with a bearer token."""

    def __init__(self, port: int, token: str | None) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body)
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, payload, self.headers)
                response = self.conn.getresponse()
                raw = response.read()
                if response.will_close:
                    self.conn.close()
                return response.status, (json.loads(raw) if raw else None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def run_closed(threads: int, jobs: list[Any], work: Callable[[Client, Any], None],
               client: Callable[[], Client]) -> tuple[float, list[float]]:
    """Run every job as fast as `threads` workers can; returns (elapsed seconds, latencies)."""
    lock = threading.Lock()
    queue = list(reversed(jobs))
    latencies: list[float] = []
    errors: list[BaseException] = []

    def worker() -> None:
        c = client()
        while True:
            with lock:
                if not queue or errors:
                    return
                job = queue.pop()
            t0 = time.perf_counter()
            try:
                work(c, job)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                return
            with lock:
                latencies.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    begin = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - begin
    if errors:
        raise errors[0]
    return elapsed, latencies


def run_paced(rate: float, jobs: list[Any], work: Callable[[Client, Any], None],
              client: Callable[[], Client], threads: int = 16) -> list[float]:
    """Open loop: send job i at begin + i/rate (threads wait for their slot); returns latencies."""
    lock = threading.Lock()
    index = [0]
    latencies: list[float] = []
    errors: list[BaseException] = []
    begin = time.perf_counter() + 0.05

    def worker() -> None:
        c = client()
        while True:
            with lock:
                i = index[0]
                if i >= len(jobs) or errors:
                    return
                index[0] += 1
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t0 = time.perf_counter()
            try:
                work(c, jobs[i])
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
                return
            with lock:
                latencies.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return latencies


def _expect(status: int, body: Any, *ok: int) -> Any:
    if status not in ok:
        raise RuntimeError(f"HTTP {status}: {json.dumps(body, ensure_ascii=False)[:500]}")
    return body


class HttpBench:
    """Users, server and the measurements; `round()` runs each measurement once."""

    def __init__(self, runtime: Any, database_url: str, quick: bool, log=print) -> None:
        from engine.services import users
        self.runtime, self.quick, self.log = runtime, quick, log
        suffix = uuid.uuid4().hex[:6]
        with runtime.unit_of_work() as uow:
            self.agent = users.create_user(uow, f"bench-agent-{suffix}", "agent")
            self.admin = users.create_user(uow, f"bench-admin-{suffix}", "admin")
            self.staff = users.create_user(uow, f"bench-staff-{suffix}", "staff", DEPARTMENTS[0])
            uow.commit()
        self.server = Server(database_url)
        self.port = self.server.port
        self.counter = 0

    def close(self) -> None:
        self.server.stop()

    def client(self, token: str) -> Callable[[], Client]:
        return lambda: Client(self.port, token)

    def _key(self) -> str:
        self.counter += 1
        return f"bench-{uuid.uuid4().hex[:8]}-{self.counter}"

    def _start(self, c: Client, n: int) -> dict:
        body = {"process_key": PROCESS_KEY, "business_key": self._key(),
                "project": {"name": "bench project"}, "variables": {"items": items(n)}}
        return _expect(*c.request("POST", f"{API}/cases", body), 201)

    # -- measurements ---------------------------------------------------------------------------
    def starts(self, count: int, threads: int = 4) -> tuple[float, list[str]]:
        """Cases per second via POST /cases (16 items, run to the first waits); returns open task ids."""
        task_ids: list[str] = []

        def work(c: Client, _: Any) -> None:
            started = self._start(c, 16)
            task_ids.extend(t["id"] for t in started["open_tasks"])

        self._start(Client(self.port, self.agent), 16)  # warm both the spec cache and the path
        elapsed, _ = run_closed(threads, list(range(count)), work, self.client(self.agent))
        return count / elapsed, task_ids

    def _complete(self, c: Client, task_id: str) -> None:
        _expect(*c.request("POST", f"{API}/tasks/{task_id}/complete", {"data": {"decision": "approve"}}), 200)

    def completes(self, task_ids: list[str], threads: int = 4) -> float:
        """Tasks per second via POST /tasks/{id}/complete at saturation (tasks shuffled across cases)."""
        elapsed, _ = run_closed(threads, task_ids, self._complete, self.client(self.admin))
        return len(task_ids) / elapsed

    def completes_paced(self, task_ids: list[str], rate: float) -> list[float]:
        return run_paced(rate, task_ids, self._complete, self.client(self.admin))

    def get_case(self, items_count: int = 300, repeats: int = 60) -> list[float]:
        c = Client(self.port, self.agent)
        case = self._start(c, items_count)
        assert len(case["open_tasks"]) == items_count, len(case["open_tasks"])
        latencies = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _expect(*c.request("GET", f"{API}/cases/{case['id']}"), 200)
            latencies.append(time.perf_counter() - t0)
        return latencies

    def inbox(self, repeats: int = 200) -> list[float]:
        c = Client(self.port, self.staff)
        path = f"{API}/tasks?department={DEPARTMENTS[0]}&page=1&per_page=50"
        _expect(*c.request("GET", path), 200)
        latencies = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _expect(*c.request("GET", path), 200)
            latencies.append(time.perf_counter() - t0)
        return latencies


def fill_tasks(runtime: Any, total: int, log=print) -> int:
    """Bulk-insert task rows (with their cases) straight into the table until it holds `total`."""
    from sqlalchemy import func, insert, select

    from engine.adapters.models import Case, Definition, Task
    with runtime.unit_of_work() as uow:
        have = uow.session.scalar(select(func.count()).select_from(Task))
        definition = uow.session.scalar(select(Definition).where(Definition.key == PROCESS_KEY))
        missing = total - have
        if missing <= 0:
            return have
        begin = time.perf_counter()
        now = datetime.now(timezone.utc)
        per_case, batch = 50, 5000
        rng = random.Random(6)
        cases, rows = [], []
        for i in range(missing):
            if i % per_case == 0:
                case_id = str(uuid.uuid4())
                cases.append(dict(
                    id=case_id, definition_id=definition.id, process_key=PROCESS_KEY, process_version=definition.version,
                    business_key=f"bench-fill-{case_id[:8]}", open_key=None, name="filler", status="completed",
                    project={}, started_by="bench-filler", started_at=now, updated_at=now, version=1, state="{}"))
            ready = rng.random() < 0.2
            department = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
            rows.append(dict(
                id=str(uuid.uuid4()), case_id=case_id, element_id="Decide_item", name="Decide approval item",
                kind="user", department=department, state="ready" if ready else "completed",
                item={"name": f"filler {i}", "department": department},
                created_at=now - timedelta(seconds=rng.randrange(10**7)),
                completed_at=None if ready else now))
        for start in range(0, len(cases), batch):
            uow.session.execute(insert(Case), cases[start:start + batch])
        for start in range(0, len(rows), batch):
            uow.session.execute(insert(Task), rows[start:start + batch])
        uow.commit()
    if runtime.database.kind == "postgresql":
        # VACUUM, not only ANALYZE: what autovacuum (on by default, off on the bench's server)
        # does after a bulk insert. Without the visibility map an inbox's count cannot stay in
        # the index and reads every heap page of the department's rows (250 ms at 10^6 rows).
        with runtime.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) tasks")
            conn.exec_driver_sql("VACUUM (ANALYZE) cases")
    log(f"  inserted {missing} task rows in {time.perf_counter() - begin:.1f} s")
    return total


def ms(seconds: float) -> float:
    return round(1000 * seconds, 2)


def measure(runtime: Any, database_url: str, quick: bool, rounds: int, log=print) -> dict[str, Any]:
    """Every HTTP figure, `rounds` times; returns medians and the per-round values."""
    bench = HttpBench(runtime, database_url, quick, log)
    try:
        per_round: dict[str, list[float]] = {k: [] for k in (
            "start_per_s", "complete_per_s", "complete_p50_ms", "complete_p99_ms", "get_case_p50_ms")}
        starts = 60 if quick else 200
        for r in range(rounds):
            rate, task_ids = bench.starts(starts)
            per_round["start_per_s"].append(rate)
            random.Random(r).shuffle(task_ids)
            half = len(task_ids) // 2
            saturated = bench.completes(task_ids[:half])
            per_round["complete_per_s"].append(saturated)
            # Latency at about half of the saturation rate, open loop.
            latencies = bench.completes_paced(task_ids[half:], max(1.0, saturated / 2))
            per_round["complete_p50_ms"].append(ms(percentile(latencies, 50)))
            per_round["complete_p99_ms"].append(ms(percentile(latencies, 99)))
            per_round["get_case_p50_ms"].append(ms(percentile(bench.get_case(300, 30 if quick else 60), 50)))
            log(f"  round {r + 1}: start {rate:.0f}/s, complete {saturated:.0f}/s "
                f"(p50 {per_round['complete_p50_ms'][-1]} ms, p99 {per_round['complete_p99_ms'][-1]} ms at "
                f"{saturated / 2:.0f}/s), GET case(300) p50 {per_round['get_case_p50_ms'][-1]} ms")
        rows = 20_000 if quick else 1_000_000  # issue 16: the inbox at 10^6 task rows
        fill_tasks(runtime, rows, log)
        inbox = []
        for r in range(rounds):
            inbox.append(ms(percentile(bench.inbox(100 if quick else 300), 99)))
        result = {key: round(statistics.median(values), 2) for key, values in per_round.items()}
        result["inbox_p99_ms"] = round(statistics.median(inbox), 2)
        result["inbox_task_rows"] = rows
        result["rounds"] = {**per_round, "inbox_p99_ms": inbox}
        return result
    finally:
        bench.close()
