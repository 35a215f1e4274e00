"""The outbox and in-app notifications (issue 13): every event a person must act on is written
with the change that caused it, and the worker turns it into notifications for the right people."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.services import cases
from engine.services import timers
from engine.services import users
from engine.domain.access import Actor
from engine.services import notifications
from engine.services.outbox import publish
from engine.adapters.models import Notification, OutboxEvent
from engine.services import deadlines
from tests.conftest import deploy_file, staff

CODE = "2026-510117-34-01-000001"
ADMIN = Actor("root", "admin")


@pytest.fixture
def people(runtime):
    """Users the notifications are resolved to: two fgj staff, a leader, the window, the government."""
    with runtime.unit_of_work() as uow:
        for name, role, department in [("alice", "agent", None), ("fgj", "staff", "county.fgj"),
                                       ("fgj2", "staff", "county.fgj"), ("fgj-leader", "leader", "county.fgj"),
                                       ("zwfw", "staff", "county.zwfw"), ("zf", "government", "county.zf"),
                                       ("sthjj", "staff", "county.sthjj"), ("root", "admin", None)]:
            users.create_user(uow, name, role, department)
        uow.commit()


def start(runtime, agent, key="time_limits", business_key=CODE):
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, agent, key, business_key).case
        uow.commit()
    return case


def outbox(runtime, case_id=None):
    with runtime.unit_of_work(write=False) as uow:
        query = select(OutboxEvent).order_by(OutboxEvent.id)
        if case_id:
            query = query.where(OutboxEvent.case_id == case_id)
        return list(uow.session.scalars(query))


def dispatch(runtime):
    with runtime.unit_of_work() as uow:
        count = notifications.dispatch(uow)
        uow.commit()
    return count


def inbox(runtime, name):
    """(type, title) of a user's notifications, oldest first."""
    with runtime.unit_of_work(write=False) as uow:
        return [(n.type, n.title) for n in uow.session.scalars(
            select(Notification).where(Notification.user_name == name).order_by(Notification.id))]


def types_for(runtime, name):
    return [t for t, _ in inbox(runtime, name)]


def test_events_are_written_with_their_change_and_numbered_per_case(runtime, agent, people):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent)
    rows = outbox(runtime, case.id)
    assert [(r.type, r.case_seq) for r in rows] == [("case.started", 1), ("task.ready", 2)]
    ready = rows[1]
    assert ready.recipient_departments == ["county.fgj"] and ready.project_code == CODE
    assert ready.payload["task"]["department"] == "county.fgj" and ready.payload["case"]["business_key"] == CODE
    assert len({r.event_id for r in rows}) == 2 and all(len(r.event_id) == 36 for r in rows)
    # a change rolled back leaves no event behind
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, ADMIN, case.id, "资料不全")
        uow.rollback()
    assert len(outbox(runtime, case.id)) == 2
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, ADMIN, case.id, "资料不全")
        uow.commit()
    assert [(r.type, r.case_seq) for r in outbox(runtime, case.id)][-1] == ("case.suspended", 3)


def test_a_ready_task_is_told_to_its_department_at_dispatch(runtime, agent, people):
    deploy_file(runtime, "time_limits.bpmn")
    start(runtime, agent)
    with runtime.unit_of_work() as uow:  # joins the department after the event, before dispatch
        users.create_user(uow, "fgj3", "staff", "county.fgj")
        users.revoke_user(uow, "fgj2")
        uow.commit()
    assert dispatch(runtime) == 2
    assert dispatch(runtime) == 0  # each event once
    for name in ("fgj", "fgj3", "fgj-leader"):
        assert inbox(runtime, name) == [("task.ready", "新待办：Review the application（2026-510117-34-01-000001）")]
    for name in ("fgj2", "sthjj", "zwfw", "root", "alice"):
        assert inbox(runtime, name) == [], name


def test_claimed_task_turning_yellow_then_red_and_escalations(runtime, agent, clock, people):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent)
    with runtime.unit_of_work() as uow:
        [task] = [t for t in cases.case_tasks(uow, case.id) if t.state == "ready"]
        cases.claim_task(uow, Actor("fgj", "staff", "county.fgj"), task.id)
        uow.commit()
    clock.set(task.warn_at + timedelta(minutes=1))
    timers.run_due(runtime)
    clock.set(task.due_at + timedelta(minutes=1))
    timers.run_due(runtime)
    dispatch(runtime)
    assert types_for(runtime, "fgj") == ["task.ready", "task.yellow", "task.red"]
    assert types_for(runtime, "fgj2") == ["task.ready"]  # not theirs: claimed by fgj
    assert types_for(runtime, "zwfw") == ["escalation.raised"]  # level 1: the window
    assert inbox(runtime, "zwfw")[0][1].startswith("督办 一级协调")
    # level 2: the leaders of the item's body only; level 3: the government
    for _ in range(2):
        clock.advance(days=3)
        timers.run_due(runtime)
    dispatch(runtime)
    assert types_for(runtime, "fgj-leader") == ["task.ready", "escalation.raised"]
    assert types_for(runtime, "fgj") == ["task.ready", "task.yellow", "task.red"]
    assert types_for(runtime, "zf") == ["escalation.raised"]
    levels = [r.payload["escalation"]["level"] for r in outbox(runtime, case.id) if r.type == "escalation.raised"]
    assert levels == [1, 2, 3]


def test_an_unclaimed_task_turning_red_is_told_to_its_department(runtime, agent, clock, people):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent)
    with runtime.unit_of_work(write=False) as uow:
        [task] = [t for t in cases.case_tasks(uow, case.id) if t.state == "ready"]
    clock.set(task.due_at + timedelta(minutes=1))
    timers.run_due(runtime)
    dispatch(runtime)
    assert types_for(runtime, "fgj2") == ["task.ready", "task.red"]


def test_correction_and_state_changes_reach_the_agent(runtime, agent, people):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent)
    with runtime.unit_of_work() as uow:
        deadlines.stop_clock(uow, staff("county.fgj"), case.id, "correction", "缺少土地证明")
        uow.commit()
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, ADMIN, case.id, "企业申请中止")
        uow.commit()
    with runtime.unit_of_work() as uow:
        cases.resume_case(uow, agent, case.id)  # by the agent: not told to themselves
        uow.commit()
    with runtime.unit_of_work() as uow:
        cases.cancel_case(uow, ADMIN, case.id, "企业放弃")
        uow.commit()
    dispatch(runtime)
    assert inbox(runtime, "alice") == [
        ("correction.requested", "补正通知：2026-510117-34-01-000001"),
        ("case.suspended", "案件已中止：2026-510117-34-01-000001"),
        ("case.closed", "案件已终止：2026-510117-34-01-000001")]
    kinds = [(r.type, r.payload.get("reason")) for r in outbox(runtime, case.id)]
    assert ("correction.requested", "缺少土地证明") in kinds and ("case.resumed", None) in kinds


def test_a_correction_task_in_the_process_reaches_the_agent(runtime, agent, people):
    """A task marked clock_stop = correction (one_window_agency's 补正) publishes correction.requested."""
    from engine.services.definitions import deploy
    from tests.bpmn_text import around
    bpmn = around("""    <bpmn:userTask id="T" name="补正材料"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="clock_stop" value="correction"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>""")
    with runtime.unit_of_work() as uow:
        deploy(uow, Actor("dora", "designer"), bpmn, "correction.bpmn")
        uow.commit()
    start(runtime, agent, "proc")
    dispatch(runtime)
    assert inbox(runtime, "alice") == [("task.ready", "新待办：补正材料（2026-510117-34-01-000001）"),
                                       ("correction.requested", "补正通知：补正材料（2026-510117-34-01-000001）")]


def test_publish_numbers_a_case_across_units_of_work(runtime):
    for _ in range(3):
        with runtime.unit_of_work() as uow:
            publish(uow, "question.asked", {"question": {"text": "何时开工？"}}, case_id="c-1", project_code=CODE,
                    departments=("county.zrzyj",))
            publish(uow, "question.answered", {}, case_id="c-1")
            uow.commit()
    assert [r.case_seq for r in outbox(runtime, "c-1")] == [1, 2, 3, 4, 5, 6]
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(OutboxEvent)) == 6
