"""Nothing lost under concurrency: real OS processes complete tasks of one case at the same moment."""
from __future__ import annotations

import multiprocessing as mp

from engine.services import cases
from engine.domain.access import Actor
from engine.errors import Conflict
from engine.adapters.history import case_history
from tests.engine.test_cases import open_tasks, start
from tests.conftest import deploy_file, staff


def _complete_at_barrier(url: str, task_id: str, department: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    from engine.config import Settings
    from engine.runtime import Runtime
    runtime = Runtime(Settings(database_url=url))
    try:
        barrier.wait(timeout=30)
        with runtime.unit_of_work() as uow:
            cases.complete_task(uow, staff(department), task_id, {"decision": "approve"})
            uow.commit()
        results.put(("ok", task_id))
    except Conflict as error:
        results.put(("conflict", str(error)))
    except Exception as error:  # reported to the parent, which fails the test
        results.put(("error", repr(error)))
    finally:
        runtime.close()


def _race(url: str, jobs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=_complete_at_barrier, args=(url, task_id, dept, barrier, results))
             for task_id, dept in jobs]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return outcomes


def test_parallel_completions_of_one_case_from_several_processes_all_land(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    for round_ in range(3):
        case = start(runtime, agent, "parallel_approval", business_key=f"2026-510117-34-01-00010{round_}").case
        tasks = open_tasks(runtime, case.id)
        outcomes = _race(runtime.settings.database_url, [(t.id, t.department) for t in tasks])
        assert sorted(kind for kind, _ in outcomes) == ["ok", "ok", "ok"], outcomes
        # All three branches joined: only the agent's closing task is open, and the history has all three.
        [close] = open_tasks(runtime, case.id)
        assert close.element_id == "Close"
        with runtime.unit_of_work(write=False) as uow:
            done = [t for t in cases.case_tasks(uow, case.id) if t.state == "completed"]
        assert len(done) == 3


def test_the_same_task_completed_twice_at_once_lands_once(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    task = next(t for t in open_tasks(runtime, case.id) if t.department == "county.fgj")
    outcomes = _race(runtime.settings.database_url, [(task.id, "county.fgj")] * 2)
    assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], outcomes
    with runtime.unit_of_work(write=False) as uow:
        completed = [e for e in case_history(uow, case.id)
                     if e.type == "task_completed"]
        case_row = cases.get_case(uow, Actor("root", "admin"), case.id)
    assert len(completed) == 1 and case_row.status == "running"
