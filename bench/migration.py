"""`python -m bench.migration [--cases N] [--db sqlite|postgresql] [--batch B]`: what moving running
cases to a new version costs (engine/services/case_migration.py).

N cases of tests/bpmn/migration/permit_review_v1.bpmn wait at the technical review (one open task
each, its reminder armed); version 2 renames that review. Measured: the dry run (each case's state
rebuilt and read back, nothing stored) and the move in batches (each case in its own transaction).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.__main__ import database

FILES = Path(__file__).resolve().parent.parent / "tests" / "bpmn" / "migration"


def run(cases: int, kind: str, batch: int) -> dict[str, float]:
    from engine.services import cases as case_verbs
    from engine.domain.access import SYSTEM, Actor
    from engine.config import Settings
    from engine.services.definitions import deploy_files
    from engine.runtime import Runtime
    from engine.services import case_migration, department_aliases
    from engine.adapters.migrate import upgrade

    pg = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    with database(kind, pg) as url:
        upgrade(url)
        runtime = Runtime(Settings(database_url=url))
        with runtime.unit_of_work() as uow:
            department_aliases.set_alias(uow, SYSTEM, "management", "county.zf")
            department_aliases.set_alias(uow, SYSTEM, "planning", "county.zrzyj")
            uow.commit()
        deploy = Actor("dora", "designer")
        with runtime.unit_of_work() as uow:
            deploy_files(uow, deploy, [((FILES / "permit_review_v1.bpmn").read_bytes(), "permit_review.bpmn")])
            uow.commit()
        agent = Actor("alice", "agent")
        for n in range(cases):
            with runtime.unit_of_work() as uow:
                started = case_verbs.start_case(uow, agent, "permit_review", f"2026-510117-34-01-{n:06d}")
                [task] = started.open_tasks
                case_verbs.complete_task(uow, SYSTEM, task.id, {})
                uow.commit()
        with runtime.unit_of_work() as uow:
            deploy_files(uow, deploy, [((FILES / "permit_review_v2.bpmn").read_bytes(), "permit_review.bpmn")])
            uow.commit()
        plan = case_migration.Plan("permit_review", 1, 2, {"Activity_review": "Activity_technical_review"})
        started_at = time.perf_counter()
        with runtime.unit_of_work(write=False) as uow:
            report = case_migration.dry_run(uow, SYSTEM, plan)
        dry = time.perf_counter() - started_at
        assert report["can_migrate"] == cases, report["cases"][:1]
        with runtime.unit_of_work() as uow:
            migration_id = case_migration.start(uow, SYSTEM, plan, batch).id
            uow.commit()
        started_at = time.perf_counter()
        while case_migration.run_batch(runtime, migration_id):
            pass
        move = time.perf_counter() - started_at
        with runtime.unit_of_work(write=False) as uow:
            assert case_migration.progress(uow, SYSTEM, migration_id)["migrated"] == cases
        runtime.close()
    return {"cases": cases, "dry_run_ms_per_case": round(dry / cases * 1000, 2),
            "migrated_per_s": round(cases / move, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    print(run(args.cases, args.db, args.batch))


if __name__ == "__main__":
    main()
