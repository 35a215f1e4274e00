"""Cases end to end in the engine (no HTTP): start, complete in any order, route, suspend, cancel, messages."""
from __future__ import annotations

import itertools

import pytest

from engine.services import cases
from engine.domain.access import Actor
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.adapters.history import case_history
from tests.conftest import deploy_file, staff


def start(runtime, agent, key, business_key="2026-510117-34-01-000001", **kwargs):
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, agent, key, business_key, **kwargs)
        uow.commit()
    return started


def open_tasks(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return [t for t in cases.case_tasks(uow, case_id) if t.state == "ready"]


def complete(runtime, actor, task_id, data=None):
    with runtime.unit_of_work() as uow:
        row = cases.complete_task(uow, actor, task_id, data or {})
        uow.commit()
    return row


def get_case(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return cases.get_case(uow, Actor("root", "admin"), case_id)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_parallel_approval_completes_in_any_order(runtime, agent, order):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    tasks = open_tasks(runtime, case.id)
    assert sorted(t.department for t in tasks) == ["county.fgj", "county.sthjj", "county.zrzyj"]
    for index in order:
        task = tasks[index]
        complete(runtime, staff(task.department), task.id, {"decision": "approve"})
    [close] = open_tasks(runtime, case.id)
    assert close.element_id == "Close" and close.department is None and close.assignee == agent.name
    complete(runtime, agent, close.id)
    finished = get_case(runtime, case.id)
    assert finished.status == "completed" and finished.open_key is None and finished.ended_at


def test_start_is_idempotent_while_open(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    first = start(runtime, agent, "parallel_approval")
    again = start(runtime, agent, "parallel_approval")
    assert first.created and not again.created and again.case.id == first.case.id
    assert len(open_tasks(runtime, first.case.id)) == 3


def test_unknown_process_is_not_found(runtime, agent):
    with pytest.raises(NotFound):
        start(runtime, agent, "no_such_process")


def test_only_agents_start_cases(runtime):
    deploy_file(runtime, "parallel_approval.bpmn")
    with pytest.raises(Forbidden):
        start(runtime, staff("county.fgj"), "parallel_approval")


def test_multi_instance_routes_each_item_to_its_department(runtime, agent):
    deploy_file(runtime, "approval_items.bpmn")
    items = [{"name": "项目核准", "department": "county.fgj"},
             {"name": "用地预审", "department": "county.zrzyj"},
             {"name": "环评审批", "department": "city.sthjj"}]
    case = start(runtime, agent, "approval_items", variables={"items": items}).case
    tasks = open_tasks(runtime, case.id)
    assert sorted(t.department for t in tasks) == ["city.sthjj", "county.fgj", "county.zrzyj"]
    assert {t.item["name"] for t in tasks} == {"项目核准", "用地预审", "环评审批"}
    for task in reversed(tasks):
        complete(runtime, staff(task.department), task.id, {"decision": "approve"})
    assert get_case(runtime, case.id).status == "completed"


def test_unknown_department_from_expression_is_an_error_on_the_case(runtime, agent):
    deploy_file(runtime, "approval_items.bpmn")
    case = start(runtime, agent, "approval_items",
                 variables={"items": [{"name": "x", "department": "nowhere"}]}).case
    with runtime.unit_of_work(write=False) as uow:
        rows = cases.case_tasks(uow, case.id)
    assert [r.state for r in rows] == ["error"]
    assert "nowhere" in get_case(runtime, case.id).error


def test_staff_cannot_complete_another_departments_task(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    task = next(t for t in open_tasks(runtime, case.id) if t.department == "county.fgj")
    with pytest.raises(Forbidden):
        complete(runtime, staff("county.zrzyj"), task.id)
    assert open_tasks(runtime, case.id)[0].state == "ready"


def test_completing_twice_is_a_conflict_and_changes_nothing(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    task = open_tasks(runtime, case.id)[0]
    complete(runtime, staff(task.department), task.id, {"decision": "approve"})
    version = get_case(runtime, case.id).version
    with pytest.raises(Conflict):
        complete(runtime, staff(task.department), task.id, {"decision": "refuse"})
    assert get_case(runtime, case.id).version == version


def test_suspend_blocks_completion_until_resumed(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    task = open_tasks(runtime, case.id)[0]
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, agent, case.id, "enterprise asked for a pause")
        uow.commit()
    with pytest.raises(Conflict):
        complete(runtime, staff(task.department), task.id)
    with runtime.unit_of_work() as uow:
        cases.resume_case(uow, agent, case.id, "go on")
        uow.commit()
    complete(runtime, staff(task.department), task.id)
    types = [e.type for e in _history(runtime, case.id)]
    assert types.index("suspended") < types.index("resumed") < types.index("task_completed")


def test_another_agent_cannot_suspend(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    with pytest.raises(Forbidden), runtime.unit_of_work() as uow:
        cases.suspend_case(uow, Actor("bob", "agent"), case.id)


def test_cancel_cancels_open_tasks_and_frees_the_business_key(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    with runtime.unit_of_work() as uow:
        cases.cancel_case(uow, agent, case.id, "terminated by the enterprise")
        uow.commit()
    assert get_case(runtime, case.id).status == "cancelled"
    assert open_tasks(runtime, case.id) == []
    assert start(runtime, agent, "parallel_approval").created


def test_message_moves_a_waiting_case_on(runtime, agent):
    deploy_file(runtime, "message_wait.bpmn")
    case = start(runtime, agent, "message_wait").case
    assert open_tasks(runtime, case.id) == []
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        cases.deliver_message(uow, agent, case.id, "something_else", {})
    with runtime.unit_of_work() as uow:
        cases.correlate_message(uow, agent, case.business_key, "materials_supplied", {"count": 3})
        uow.commit()
    [review] = open_tasks(runtime, case.id)
    assert review.department == "county.zwfw"
    assert "message_received" in [e.type for e in _history(runtime, case.id)]


def test_runtime_failure_is_an_error_on_the_case(runtime, agent):
    deploy_file(runtime, "failing_script.bpmn")
    case = start(runtime, agent, "failing_script").case
    [fill] = open_tasks(runtime, case.id)
    complete(runtime, agent, fill.id, {"divisor": 0})
    failed = get_case(runtime, case.id)
    assert failed.status == "running" and "Divide" in failed.error
    with runtime.unit_of_work(write=False) as uow:
        rows = {r.element_id: r.state for r in cases.case_tasks(uow, case.id)}
    assert rows == {"Fill": "completed", "Divide": "error"}


def test_history_records_who_did_what(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    task = next(t for t in open_tasks(runtime, case.id) if t.department == "county.fgj")
    complete(runtime, staff("county.fgj", "wang"), task.id, {"decision": "approve", "opinion": "同意"})
    events = _history(runtime, case.id)
    assert events[0].type == "started" and events[0].actor == "alice"
    done = [e for e in events if e.type == "task_completed"]
    assert done[0].actor == "wang" and done[0].data == {"decision": "approve", "opinion": "同意"}


def _history(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return case_history(uow, case_id)


def test_lanes_route_by_department_name_or_code_and_agent_lane_goes_to_the_agent(runtime, agent):
    deploy_file(runtime, "lanes.bpmn")
    case = start(runtime, agent, "lanes").case
    [prepare] = open_tasks(runtime, case.id)
    assert prepare.department is None and prepare.assignee == "alice" and prepare.lane == "代办员"
    with pytest.raises(Forbidden):
        complete(runtime, Actor("bob", "agent"), prepare.id)
    complete(runtime, agent, prepare.id)
    [approve] = open_tasks(runtime, case.id)
    assert approve.department == "county.fgj"
    complete(runtime, staff("county.fgj"), approve.id)
    [permit] = open_tasks(runtime, case.id)
    assert permit.department == "county.zjj"


def test_claim_and_unclaim(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval").case
    task = next(t for t in open_tasks(runtime, case.id) if t.department == "county.fgj")
    wang, li = staff("county.fgj", "wang"), staff("county.fgj", "li")
    with runtime.unit_of_work() as uow:
        assert cases.claim_task(uow, wang, task.id).assignee == "wang"
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        cases.claim_task(uow, li, task.id)
    with pytest.raises(Conflict):
        complete(runtime, li, task.id)
    with runtime.unit_of_work() as uow:
        assert cases.unclaim_task(uow, wang, task.id).assignee is None
        uow.commit()
    complete(runtime, li, task.id)
    types = [e.type for e in _history(runtime, case.id)]
    assert types.count("task_claimed") == 1 and types.count("task_unclaimed") == 1


def test_a_department_lane_that_does_not_exist_is_refused_at_deploy(runtime):
    from engine.errors import InvalidDefinition
    from tests.conftest import BPMN
    from engine.services.definitions import deploy
    data = (BPMN / "lanes.bpmn").read_bytes().replace("county.zjj".encode(), b"county.nowhere")
    with runtime.unit_of_work() as uow, pytest.raises(InvalidDefinition) as error:
        deploy(uow, Actor("dora", "designer"), data, "lanes.bpmn")
    assert "lane 'county.nowhere' is not a known department" in error.value.detail
