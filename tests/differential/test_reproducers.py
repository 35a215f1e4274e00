"""Issue 9 §1's reproducers, exactly: a restart or another worker between completions must not
change a case's data."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from engine.services import cases
from engine.adapters import queries
from engine.domain.access import Actor
from engine.adapters import serializer
from engine.adapters.case_cache import CaseStateCache
from engine.config import Settings
from engine.runtime import Runtime
from engine.adapters.models import Case, Task
from tests.differential.harness import deploy_files, empty_caches
from tests.differential.shipped import PROCESSES, SITES, bodies, site_opinion
from tests.scenarios.story import agreement, registration

ADMIN, AGENT = Actor("root", "admin"), Actor("alice", "agent")


class Worker:
    """What one server process has of its own: a runtime (spec cache) and the module-level
    caches, swapped in while this worker handles a command."""

    def __init__(self, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
        self.runtime = Runtime(Settings(database_url=database_url), clock=clock)
        self.live: CaseStateCache = CaseStateCache()
        self.variables: CaseStateCache = CaseStateCache()

    @contextmanager
    def serving(self):  # type: ignore[no-untyped-def]
        from engine.services import workflow
        saved = serializer.LIVE_WORKFLOWS, workflow.LIVE_WORKFLOWS, queries.CASE_VARIABLES
        serializer.LIVE_WORKFLOWS = workflow.LIVE_WORKFLOWS = self.live
        queries.CASE_VARIABLES = self.variables
        try:
            yield self.runtime
        finally:
            serializer.LIVE_WORKFLOWS, workflow.LIVE_WORKFLOWS, queries.CASE_VARIABLES = saved


def start(runtime, process: str, key: str, **kw) -> str:  # type: ignore[no-untyped-def]
    with runtime.unit_of_work() as uow:
        case_id = cases.start_case(uow, AGENT, process, key, **kw).case.id
        uow.commit()
    return case_id


def ready(runtime, case_id: str, element: str | None = None) -> list[Task]:  # type: ignore[no-untyped-def]
    with runtime.unit_of_work(write=False) as uow:
        query = select(Task).where(Task.case_id == case_id, Task.state == "ready").order_by(Task.created_at, Task.id)
        rows = list(uow.session.scalars(query))
        uow.session.expunge_all()
    return [r for r in rows if element is None or r.element_id == element]


def complete(runtime, task: Task, data: dict) -> None:  # type: ignore[no-untyped-def]
    with runtime.unit_of_work() as uow:
        cases.complete_task(uow, ADMIN, task.id, data)
        uow.commit()


def variables(runtime, case_id: str) -> tuple[Case, dict]:  # type: ignore[no-untyped-def]
    with runtime.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, case_id)
        found = queries.case_variables(uow, case)
        uow.session.expunge(case)
    return case, found


def assert_summarised(runtime, case_id: str, count: int) -> None:  # type: ignore[no-untyped-def]
    case, found = variables(runtime, case_id)
    assert case.error is None
    assert len(found["bodies"]) == count
    assert all(len(b["site_opinion"]["sites"]) == 4 for b in found["bodies"])
    assert [row["site"] for row in found["site_summary"]] == SITES
    assert all(row["agree"] + row["conditional"] + row["disagree"] == count for row in found["site_summary"])
    assert [t.element_id for t in ready(runtime, case_id)] == ["Coordinate"]


def test_site_selection_35_bodies_restart_after_17(runtime):
    """35 bodies × 4 sites, 17 opinions, a restart (every cache of the process gone), 18 more:
    35 bodies, each with its opinion, and the summary script runs (was: 70 bodies, KeyError)."""
    deploy_files(runtime, {"site_selection.bpmn": (PROCESSES / "site_selection.bpmn").read_bytes()})
    case_id = start(runtime, "site_selection", "2026-510600-44-01-000220",
                    variables={"sites": SITES, "bodies": bodies(35)})
    opinions = ready(runtime, case_id, "SiteOpinion")
    assert len(opinions) == 35
    for task in opinions[:17]:
        complete(runtime, task, site_opinion(task.item, 1))
    empty_caches(runtime)
    for task in opinions[17:]:
        complete(runtime, task, site_opinion(task.item, 1))
    assert_summarised(runtime, case_id, 35)


def test_site_selection_consecutive_completions_on_two_workers(database_url, runtime, clock):
    """`serve --workers 2`: consecutive completions handled by different workers."""
    deploy_files(runtime, {"site_selection.bpmn": (PROCESSES / "site_selection.bpmn").read_bytes()})
    workers = [Worker(database_url, clock), Worker(database_url, clock)]
    try:
        with workers[0].serving() as rt:
            case_id = start(rt, "site_selection", "2026-510600-44-01-000221",
                            variables={"sites": SITES, "bodies": bodies(35)})
        for n, task in enumerate(ready(runtime, case_id, "SiteOpinion")):
            with workers[n % 2].serving() as rt:
                complete(rt, task, site_opinion(task.item, 1))
                variables(rt, case_id)  # a read in between, as the console does
        with workers[1].serving() as rt:
            assert_summarised(rt, case_id, 35)
    finally:
        for worker in workers:
            worker.runtime.close()


@pytest.mark.parametrize("restart_every", [1, 2])
def test_stage1_items_have_no_stale_pending_entries_after_restarts(runtime, restart_every):
    """one_window_agency: stage 1's three items approved with restarts in between: exactly three
    items, all approved (was: five entries for three items, stale `pending` ones)."""
    deploy_files(runtime, {"one_window_agency.bpmn": (PROCESSES / "one_window_agency.bpmn").read_bytes()})
    plant, code = "德阳玉龙钢管厂（一期）", "2026-510117-33-03-000321"
    case_id = start(runtime, "one_window_agency", code, project={"project_name": plant})
    for element, data in (("Register", registration(plant, code)), ("Agreement", agreement()),
                          ("PreReview", {"materials": [{"name": "营业执照", "checked": True}], "complete": True}),
                          ("Intake", {"decision": "accept"})):
        complete(runtime, ready(runtime, case_id, element)[0], data)
    steps = 0
    while True:
        items = [t for t in ready(runtime, case_id) if t.element_id in ("ItemAccept", "ItemReview")
                 and t.item.get("stage") == "stage1_project_land"]
        if not items:
            break
        task = items[0]
        complete(runtime, task, {"decision": "accept"} if task.element_id == "ItemAccept" else {"decision": "approve"})
        steps += 1
        if steps % restart_every == 0:
            empty_caches(runtime)
    assert steps == 6
    _, found = variables(runtime, case_id)
    stage1 = found["stage1_items"]
    assert [i["code"] for i in stage1] == ["project_approval", "site_land_pre_review", "land_planning_permit"]
    assert [i["status"] for i in stage1] == ["approved"] * 3
    assert all(i["approval_decision"]["decision"] == "approve" for i in stage1)
    assert {t.element_id for t in ready(runtime, case_id)} >= {"ItemAccept"}  # stage 2 began
