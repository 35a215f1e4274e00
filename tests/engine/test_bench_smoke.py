"""The bench's in-process driver runs a small case to completion, ours and raw SpiffWorkflow (no timing asserted)."""
from __future__ import annotations

from bench import inproc
from engine.services.workflow import ready_manual_tasks


def test_inproc_driver_runs_a_four_branch_case(runtime):
    ours = inproc.Ours(runtime)
    per_task, total = ours.run_case(4, "bench-smoke-1")
    assert len(per_task) == 4 and total > 0
    per_task, _ = ours.run_workflow_only(4)
    assert len(per_task) == 4
    per_task, _ = inproc.RawSpiff().run_case(4)
    assert len(per_task) == 4


def test_ready_scan_matches_spiffworkflow(runtime):
    from SpiffWorkflow.util.task import TaskState

    from engine.services.definitions import find_definition
    from engine.services.workflow import CaseWorkflow
    from bench import items
    inproc.deploy(runtime)
    with runtime.unit_of_work(write=False) as uow:
        flow = CaseWorkflow.new(uow, None, find_definition(uow, "bench_parallel_items"))
        flow.workflow.get_tasks(end_at_spec="Start")[0].data.update(items=items(5))
        flow.run()
        expected = flow.workflow.get_tasks(state=TaskState.READY, manual=True)
        assert len(expected) == 5
        assert {t.id for t in ready_manual_tasks(flow.workflow)} == {t.id for t in expected}


def test_peer_shape_opens_sixteen_items_once_accepted(runtime):
    """`python -m bench --scenario peer` drives this process: one accept task, then 16 items."""
    from bench import items, peer
    from engine.domain.access import Actor
    from engine.services import cases
    peer.deploy(runtime)
    agent, admin = Actor("bench-agent", "agent"), Actor("bench-admin", "admin")
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, agent, peer.PROCESS_KEY, "peer-smoke", project={"name": "p"},
                                variables={"items": items(peer.ITEMS)}).case
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        open_tasks = [t for t in cases.case_tasks(uow, case.id) if t.state == "ready"]
    assert [t.element_id for t in open_tasks] == ["Accept"]
    with runtime.unit_of_work() as uow:
        cases.complete_task(uow, admin, open_tasks[0].id, {"decision": "approve"})
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        ready = [t for t in cases.case_tasks(uow, case.id) if t.state == "ready"]
    assert len(ready) == peer.ITEMS and {t.element_id for t in ready} == {"Decide_item"}
