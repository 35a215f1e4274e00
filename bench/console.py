"""Server time of every console page with 10,000 open tasks in the viewer's department.

`python -m bench.console [--db sqlite|postgresql] [--tasks 10000] [--repeats 40]`

A fresh database gets the shipped processes, people of every role with passwords, real
one_window_agency cases driven to stage 1 by the engine (so case, task and diagram pages show
real workflows), then `--tasks` open task rows in county.fgj bulk-inserted on filler cases with
warning levels and due dates spread like a busy bureau's. Each page is requested `--repeats`
times in-process through the Flask app (what a server spends, without the network) by a
signed-in session; wall-clock p50 / p95 and the request thread's CPU time are printed (on a
shared machine the CPU time is the fairer figure for SQLite, which runs in-process; numbers in
docs/bench.md; target ≤ 50 ms).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.__main__ import database, machine

DEPARTMENT = "county.fgj"
PASSWORD = "bench password 1"
STAGES = ["stage1_project_land", "stage2_works_permit", "stage3_construction_permit", "stage4_completion"]
ITEM_NAMES = ["项目审批/核准/备案", "节能审查", "固定资产投资项目备案变更", "社会稳定风险评估备案"]


def log(message: str) -> None:
    print(message, flush=True)


def build(runtime: Any, real_cases: int, tasks: int) -> dict[str, Any]:
    from sqlalchemy import insert, select

    from engine.services import users
    from engine.domain.access import SYSTEM
    from engine.services.definitions import deploy_directory
    from engine.adapters.models import Case, Definition, Task
    from tests.console.test_permissions import _ready, open_agency_case

    deploy_directory(runtime.unit_of_work, SYSTEM, runtime.settings.processes_dir)
    with runtime.unit_of_work() as uow:
        for name, role, department in [("root", "admin", None), ("dora", "designer", None), ("alice", "agent", None),
                                       ("fgj", "staff", DEPARTMENT), ("fgj-leader", "leader", DEPARTMENT),
                                       ("gov", "government", None), ("zwfw", "staff", "county.zwfw")]:
            users.create_user(uow, name, role, department, password=PASSWORD)
        uow.commit()
    begin = time.perf_counter()
    case_ids = [open_agency_case(runtime, name=f"压测项目 {i}", code=f"2026-510117-34-01-{i + 1:06d}")
                for i in range(real_cases)]
    log(f"  {real_cases} real cases at stage 1 in {time.perf_counter() - begin:.1f} s")
    task_id = next(t.id for t in _ready(runtime, case_ids[0]) if t.department == DEPARTMENT)
    begin = time.perf_counter()
    rng = random.Random(11)
    now = datetime.now(timezone.utc)
    with runtime.unit_of_work() as uow:
        definition = uow.session.scalar(select(Definition).where(Definition.key == "one_window_agency"))
        cases, rows = [], []
        for i in range(tasks):
            if i % 20 == 0:
                case_id = str(uuid.uuid4())
                code = f"2026-510117-99-01-{i // 20 + 1:06d}"
                cases.append(dict(
                    id=case_id, definition_id=definition.id, process_key="one_window_agency",
                    process_version=definition.version, business_key=code, open_key=f"bench\x1f{code}",
                    name=f"填充项目 {i // 20}", status="running", project={"project_name": f"填充项目 {i // 20}"},
                    started_by="filler-agent", started_at=now, updated_at=now, version=1, state="", stage=STAGES[0]))
            created = now - timedelta(days=rng.uniform(0, 40))
            due = created + timedelta(days=28)
            sla = "red" if due < now else "yellow" if due < now + timedelta(days=3) else "normal"
            stage = STAGES[rng.randrange(len(STAGES))]
            rows.append(dict(
                id=str(uuid.uuid4()), case_id=case_id, element_id=rng.choice(["ItemAccept", "ItemReview"]),
                name="受理审查", kind="user", department=DEPARTMENT, state="ready", form_key="intake",
                item={"name": rng.choice(ITEM_NAMES), "department": DEPARTMENT, "stage": stage,
                      "time_limit": "20 working days"},
                created_at=created, due_at=due, sla=sla, time_limit="20 working days",
                assignee="fgj" if rng.random() < 0.05 else None))
        for start in range(0, len(cases), 2000):
            uow.session.execute(insert(Case), cases[start:start + 2000])
        for start in range(0, len(rows), 5000):
            uow.session.execute(insert(Task), rows[start:start + 5000])
        uow.commit()
    if runtime.database.kind == "postgresql":
        with runtime.database.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    log(f"  {tasks} open task rows in {DEPARTMENT} in {time.perf_counter() - begin:.1f} s")
    return {"case": case_ids[0], "task": task_id}


PAGES = [  # who, path, what
    ("fgj", "/console/", "staff workbench (inbox, counts)"),
    ("fgj", "/console/tasks?sla=red", "inbox: red only"),
    ("fgj", "/console/tasks?stage=stage2_works_permit", "inbox: by stage"),
    ("fgj", "/console/tasks?item=节能审查&sort=created", "inbox: by item, oldest first"),
    ("fgj", "/console/tasks?page=100", "inbox: page 100"),
    ("fgj-leader", "/console/", "leader workbench (+ escalations)"),
    ("fgj", "/console/tasks/{task}", "task page with its form"),
    ("fgj", "/console/cases/{case}", "case page with diagram (staff)"),
    ("alice", "/console/cases/{case}", "case page with diagram (agent)"),
    ("alice", "/console/cases/{case}/diagram.svg", "case diagram SVG"),
    ("alice", "/console/", "agent workbench"),
    ("alice", "/console/cases/new", "start form (registration)"),
    ("fgj", "/console/cases", "case list (department's)"),
    ("fgj", "/console/escalations", "escalation board"),
    ("gov", "/console/", "government: level 3 + region overview"),
    ("dora", "/console/definitions", "definitions"),
    ("dora", "/console/definitions/one_window_agency", "definition with diagram"),
    ("root", "/console/", "admin workbench"),
    ("root", "/console/admin/users", "users"),
    ("root", "/console/admin/organisation", "organisation"),
]


def measure(app: Any, ids: dict[str, str], repeats: int) -> list[dict[str, Any]]:
    from tests.console.conftest import Browser
    sessions: dict[str, Any] = {}
    results = []
    for who, path, what in PAGES:
        if who not in sessions:
            sessions[who] = Browser(app)
            assert sessions[who].sign_in(who, PASSWORD).status_code == 303
        client = sessions[who].client
        url = path.format(**ids)
        first = client.get(url)
        assert first.status_code == 200, (url, first.status_code, first.get_data(as_text=True)[:300])
        times, cpu = [], []
        for _ in range(repeats):
            begin, begin_cpu = time.perf_counter(), time.thread_time()
            response = client.get(url)
            times.append((time.perf_counter() - begin) * 1000)
            cpu.append((time.thread_time() - begin_cpu) * 1000)
            assert response.status_code == 200
        times.sort()
        cpu.sort()
        results.append({"page": what, "path": re.sub(r"[0-9a-f-]{36}", "…", path.format(**ids)), "who": who,
                        "p50_ms": round(statistics.median(times), 1),
                        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "max_ms": round(times[-1], 1),
                        "cpu_p50_ms": round(statistics.median(cpu), 1),
                        "cpu_p95_ms": round(cpu[int(0.95 * (len(cpu) - 1))], 1),
                        "bytes": len(first.get_data())})
        r = results[-1]
        log(f"  {what:<42} p50 {r['p50_ms']:>6} ms  p95 {r['p95_ms']:>6} ms   cpu p50 {r['cpu_p50_ms']:>6} ms"
            f"  p95 {r['cpu_p95_ms']:>6} ms")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=20, help="real cases driven to stage 1")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    from api.app import create_app
    from engine.config import Settings
    from engine.runtime import Runtime
    from engine.adapters.migrate import upgrade
    with database(args.db, args.pg) as url:
        upgrade(url)
        runtime = Runtime(Settings(database_url=url))
        log(f"building: {args.tasks} open tasks in {DEPARTMENT} ({args.db})")
        ids = build(runtime, args.cases, args.tasks)
        app = create_app({"TESTING": False}, runtime=runtime)
        import gc
        gc.freeze()  # as api/wsgi.py does in a gunicorn worker
        log(f"measuring {len(PAGES)} pages x {args.repeats}")
        results = measure(app, ids, args.repeats)
        report = {"machine": machine(runtime), "tasks": args.tasks, "pages": results,
                  "worst_p95_ms": max(r["p95_ms"] for r in results),
                  "worst_cpu_p95_ms": max(r["cpu_p95_ms"] for r in results)}
        runtime.close()
    log(f"worst p95: {report['worst_p95_ms']} ms wall, {report['worst_cpu_p95_ms']} ms CPU (target <= 50); "
        f"load average {report['machine']['load_average']}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, ensure_ascii=False, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
