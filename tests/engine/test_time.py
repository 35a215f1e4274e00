"""Issue 5 in the engine: calendar storage, due dates, warnings, clock stops, escalation,
deemed consent, BPMN timers driven by the injected clock, the 24-hour enquiry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.services import cases
from engine.services import timers
from engine.domain.access import SYSTEM, Actor
from engine.config import REPO_ROOT
from engine.services.definitions import deploy
from engine.errors import Conflict, Forbidden, Invalid
from engine.adapters.history import case_history
from engine.adapters.models import Case, Escalation, Task, TimerJob
from engine.services import deadlines
from engine.services import escalation
from engine.services import calendar_years
from tests.conftest import deploy_file, staff

BJ = ZoneInfo("Asia/Shanghai")


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)


def start(runtime, agent, key, business_key="2026-510117-34-01-000001", **kwargs):
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, agent, key, business_key, **kwargs)
        uow.commit()
    return started.case


def tasks_of(runtime, case_id, state="ready"):
    with runtime.unit_of_work(write=False) as uow:
        return [t for t in cases.case_tasks(uow, case_id) if state is None or t.state == state]


def events(runtime, case_id, *types):
    with runtime.unit_of_work(write=False) as uow:
        return [e for e in case_history(uow, case_id) if not types or e.type in types]


def complete(runtime, actor, task_id, data=None):
    with runtime.unit_of_work() as uow:
        row = cases.complete_task(uow, actor, task_id, data or {})
        uow.commit()
    return row


def escalations_of(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Escalation).where(Escalation.case_id == case_id)
                                        .order_by(Escalation.level)))


# --------------------------------------------------------------------------- calendar storage


def test_calendar_is_seeded_versioned_and_reloaded(runtime):
    with runtime.unit_of_work(write=False) as uow:
        years = {y["year"]: y for y in calendar_years.list_years(uow) if y["status"] == "official"}
        assert set(years) == {2025, 2026} and years[2026]["version"] == 1
        cal = runtime.calendars.calendar(uow)
        assert cal.is_working_day(bj(2026, 2, 28).date())  # adjusted working Saturday
        assert not cal.is_working_day(bj(2026, 10, 1).date())
        assert calendar_years.get_year(uow, 2027)["status"] == "provisional"
        assert calendar_years.due(uow, bj(2026, 12, 30, 9), "5 working days")["provisional_years"] == [2027]
    # An administrator loads 2027 and corrects 2026 (a new version; the cache follows).
    with runtime.unit_of_work() as uow:
        calendar_years.load_year(uow, {"year": 2027, "holidays": ["2027-01-01"], "workdays": [],
                              "source": "test notice"}, "root")
        data = calendar_years.get_year(uow, 2026)
        data = {k: data[k] for k in ("year", "holidays", "workdays", "source")}
        data["holidays"] = data["holidays"] + ["2026-03-03"]
        corrected = calendar_years.load_year(uow, data, "root")
        uow.commit()
    assert corrected["version"] == 2
    with runtime.unit_of_work(write=False) as uow:
        assert calendar_years.due(uow, bj(2026, 12, 31, 9), "1 working day")["due"] == bj(2027, 1, 4, 17, 30)
        assert calendar_years.due(uow, bj(2026, 3, 2, 9), "1 working day")["due"] == bj(2026, 3, 4, 17, 30)
        assert calendar_years.get_year(uow, 2026, version=1)["version"] == 1
    with runtime.unit_of_work() as uow, pytest.raises(Invalid):
        calendar_years.load_year(uow, {"year": 2027, "holidays": ["2026-01-01"]}, "root")


def test_due_over_national_day_and_a_working_saturday(runtime):
    with runtime.unit_of_work(write=False) as uow:
        assert calendar_years.due(uow, bj(2026, 9, 30, 17), "5 working days")["due"] == bj(2026, 10, 13, 17, 30)
        # Saturday 2026-10-10 is a working day: 1 working day from Friday 9th ends on it.
        assert calendar_years.due(uow, bj(2026, 10, 9, 10), "1 working day")["due"] == bj(2026, 10, 10, 17, 30)
        assert calendar_years.due(uow, bj(2026, 9, 30, 17), "24 hours")["due"] == bj(2026, 10, 1, 17)


# --------------------------------------------------------------------------- due dates and warnings


def test_due_date_and_warning_transitions(runtime, agent, clock):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent, "time_limits")
    [task] = tasks_of(runtime, case.id)
    assert task.time_limit == "5 working days"
    assert task.due_at == bj(2026, 3, 9, 17, 30) and task.sla == "normal"
    assert task.warn_at is not None and bj(2026, 3, 6, 9) < task.warn_at < task.due_at  # 80 % used
    with runtime.unit_of_work(write=False) as uow:
        shown = deadlines.task_clock(uow, task)
        assert shown["remaining_working_hours"] == 6 * 7.0  # the rest of Monday + 5 days
        assert uow.session.scalar(select(TimerJob.due_at).where(TimerJob.case_id == case.id)) == task.warn_at

    clock.set(bj(2026, 3, 6, 12))
    assert timers.run_due(runtime) == 0  # nothing due yet
    clock.set(task.warn_at + timedelta(seconds=1))
    timers.run_due(runtime)
    [task] = tasks_of(runtime, case.id)
    assert task.sla == "yellow"
    clock.set(bj(2026, 3, 9, 17, 31))
    timers.run_due(runtime)
    [task] = tasks_of(runtime, case.id)
    assert task.sla == "red"
    types = [e.type for e in events(runtime, case.id, "clock_started", "sla_yellow", "sla_red", "escalated")]
    assert types == ["clock_started", "sla_yellow", "sla_red", "escalated"]
    with runtime.unit_of_work(write=False) as uow:
        red = list(uow.session.scalars(select(Task).where(deadlines.sla_filter("red"))))
        overdue = list(uow.session.scalars(select(Case).where(deadlines.overdue_filter())))
        assert [t.id for t in red] == [task.id] and [c.id for c in overdue] == [case.id]
        assert deadlines.task_clock(uow, task)["remaining_working_hours"] <= 0


def test_warning_n_working_hours_before_due(runtime, agent, clock):
    runtime.time_policy = deadlines.TimePolicy(yellow_share=None,
                                               yellow_before=deadlines.Duration(4, "working_hours"))
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent, "time_limits")
    [task] = tasks_of(runtime, case.id)
    assert task.warn_at == bj(2026, 3, 9, 13, 30)  # 4 office hours before 17:30 (lunch excluded)


def test_item_time_limit_from_multi_instance_data_and_inbox_order(runtime, agent):
    deploy_file(runtime, "time_items.bpmn")
    items = [{"department": "county.zrzyj", "time_limit": "7 working days"},
             {"department": "county.sthjj", "time_limit": "3 working days"},
             {"department": "county.fgj"}]
    case = start(runtime, agent, "time_items", variables={"items": items})
    rows = {t.department: t for t in tasks_of(runtime, case.id)}
    assert rows["county.zrzyj"].due_at == bj(2026, 3, 11, 17, 30)
    assert rows["county.sthjj"].due_at == bj(2026, 3, 5, 17, 30)
    assert rows["county.fgj"].due_at is None
    with runtime.unit_of_work(write=False) as uow:
        ordered = list(uow.session.scalars(select(Task).where(Task.case_id == case.id)
                                           .order_by(*deadlines.inbox_order())))
    assert [t.department for t in ordered] == ["county.sthjj", "county.zrzyj", "county.fgj"]


# --------------------------------------------------------------------------- clock stops


@pytest.mark.parametrize("mode, expected_due", [
    # Stopped Tue 3rd 09:00 with Wed..Mon (5 working days) left; started again Fri 13th 10:00.
    ("resume", bj(2026, 3, 19, 17, 30)),   # 5 working days after the restart day
    ("restart", bj(2026, 3, 20, 17, 30)),  # the full 5 working days from the restart
])
def test_clock_stop_and_restart(runtime, agent, clock, mode, expected_due):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent, "time_limits")
    clock.set(bj(2026, 3, 3, 9))
    with runtime.unit_of_work() as uow:
        deadlines.stop_clock(uow, staff("county.fgj"), case.id, "correction", "材料不全，请补正")
        uow.commit()
    [task] = tasks_of(runtime, case.id)
    assert task.sla == "paused" and task.clock_stopped_at is not None
    clock.set(bj(2026, 3, 13, 10))  # long past the original due date: nothing fires while stopped
    timers.run_due(runtime)
    [task] = tasks_of(runtime, case.id)
    assert task.sla == "paused" and not escalations_of(runtime, case.id)
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        deadlines.start_clock(uow, staff("county.sthjj"), case.id)
    with runtime.unit_of_work() as uow:
        deadlines.start_clock(uow, agent, case.id, "补正材料已提交", mode=mode)
        uow.commit()
    [task] = tasks_of(runtime, case.id)
    assert task.due_at == expected_due and task.sla == "normal" and task.clock_stopped_at is None
    stops = events(runtime, case.id, "clock_stopped", "clock_started")
    assert [e.type for e in stops] == ["clock_started", "clock_stopped", "clock_started"]
    assert stops[-1].data["mode"] == mode and stops[-1].data["previous_due_at"].startswith("2026-03-09")
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        deadlines.start_clock(uow, agent, case.id)


def test_working_hours_clock_resumes_with_the_time_left(runtime, agent, clock):
    deploy_file(runtime, "time_items.bpmn")
    case = start(runtime, agent, "time_items",
                 variables={"items": [{"department": "county.fgj", "time_limit": "8 working hours"}]})
    [task] = tasks_of(runtime, case.id)
    assert task.due_at == bj(2026, 3, 3, 10, 0)
    clock.set(bj(2026, 3, 2, 11))  # 2 working hours used, 6 left
    with runtime.unit_of_work() as uow:
        deadlines.stop_clock(uow, SYSTEM, case.id, "expert_review")
        uow.commit()
    clock.set(bj(2026, 3, 4, 16, 30))
    with runtime.unit_of_work() as uow:
        deadlines.start_clock(uow, SYSTEM, case.id)
        uow.commit()
    [task] = tasks_of(runtime, case.id)
    assert task.due_at == bj(2026, 3, 5, 13, 30) + timedelta(hours=2)  # 1 h today, 3 h morning, 2 h after lunch


# --------------------------------------------------------------------------- escalation and deemed consent


def test_three_escalation_levels_in_order_then_resolved(runtime, agent, clock):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent, "time_limits")
    [task] = tasks_of(runtime, case.id)
    for when in (bj(2026, 3, 9, 17, 31), bj(2026, 3, 10, 17, 31), bj(2026, 3, 11, 17, 31)):
        clock.set(when)
        timers.run_due(runtime)
    levels = escalations_of(runtime, case.id)
    assert [(e.level, e.department, e.role, e.status) for e in levels] == [
        (1, "county.zwfw", "coordinator", "escalated"),
        (2, "county.fgj", "leaders", "escalated"),
        (3, "county.zf", "coordinator", "open")]
    assert levels[0].raised_at < levels[1].raised_at < levels[2].raised_at
    history = [e.data["level"] for e in events(runtime, case.id, "escalated")]
    assert history == [1, 2, 3]
    clock.set(bj(2026, 3, 20, 9))
    timers.run_due(runtime)
    assert len(escalations_of(runtime, case.id)) == 3  # no level 4
    with runtime.unit_of_work(write=False) as uow:
        leader = Actor("fgj-leader", "leader", "county.fgj")
        assert [e.level for e in escalation.list_escalations(uow, leader)] == [2]
        assert [e.level for e in escalation.list_escalations(uow, Actor("gov", "government", "county.zf"))] == [3]
        assert len(escalation.list_escalations(uow, Actor("root", "admin"))) == 3
        assert escalation.list_escalations(uow, staff("county.sthjj")) == []
    complete(runtime, staff("county.fgj"), task.id, {"decision": "approve"})
    assert {e.status for e in escalations_of(runtime, case.id)} == {"resolved"}
    assert [e.type for e in events(runtime, case.id, "escalation_resolved")] == ["escalation_resolved"]


def test_coordinator_resolving_stops_further_levels(runtime, agent, clock):
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent, "time_limits")
    clock.set(bj(2026, 3, 9, 17, 31))
    timers.run_due(runtime)
    [level1] = escalations_of(runtime, case.id)
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        escalation.resolve(uow, staff("county.fgj"), level1.id)
    with runtime.unit_of_work() as uow:
        escalation.resolve(uow, staff("county.zwfw"), level1.id, "协调完成")
        uow.commit()
    clock.set(bj(2026, 3, 20, 9))
    timers.run_due(runtime)
    assert [(e.level, e.status) for e in escalations_of(runtime, case.id)] == [(1, "resolved")]


def test_deemed_consent_completes_a_silent_body(runtime, agent, clock):
    deploy_file(runtime, "time_items.bpmn")
    items = [{"department": "county.zrzyj", "time_limit": "7 working days", "deemed_consent": True},
             {"department": "county.sthjj", "time_limit": "7 working days"}]
    case = start(runtime, agent, "time_items", variables={"items": items})
    rows = {t.department: t for t in tasks_of(runtime, case.id)}
    complete(runtime, staff("county.sthjj"), rows["county.sthjj"].id, {"decision": "approve"})
    clock.set(bj(2026, 3, 11, 17, 31))
    timers.run_due(runtime)
    consented = {t.id: t for t in tasks_of(runtime, case.id, state=None)}[rows["county.zrzyj"].id]
    assert consented.state == "completed" and consented.completed_by == "system"
    assert consented.data["deemed_consent"] is True and "视为同意" in consented.data["deemed_consent_reason"]
    [event] = events(runtime, case.id, "deemed_consent")
    assert "no answer within 7 working days" in event.data["reason"]
    assert [t.element_id for t in tasks_of(runtime, case.id)] == ["Close"]  # the process moved on
    assert escalations_of(runtime, case.id) == []


# --------------------------------------------------------------------------- BPMN timers on the injected clock


def test_intermediate_timer_fires_on_the_runtime_clock(runtime, agent, clock):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_wait")
    assert tasks_of(runtime, case.id) == []
    with runtime.unit_of_work(write=False) as uow:
        [job] = timers.pending_jobs(uow, case.id)
    assert job.kind == "timer" and abs(job.due_at - (clock() + timedelta(minutes=10))) < timedelta(seconds=1)
    clock.advance(minutes=9)
    assert timers.run_due(runtime) == 0 and tasks_of(runtime, case.id) == []
    clock.advance(minutes=2)
    assert timers.run_due(runtime) == 1
    assert [t.element_id for t in tasks_of(runtime, case.id)] == ["AfterWait"]
    assert len(events(runtime, case.id, "timer_fired")) == 1
    with runtime.unit_of_work(write=False) as uow:
        assert timers.pending_jobs(uow, case.id) == []


def test_interrupting_boundary_timer_on_a_user_task(runtime, agent, clock):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_interrupting")
    [decide] = tasks_of(runtime, case.id)
    clock.advance(hours=2, seconds=1)
    timers.run_due(runtime)
    assert [t.element_id for t in tasks_of(runtime, case.id)] == ["TakeOverI"]
    assert {t.id: t.state for t in tasks_of(runtime, case.id, None)}[decide.id] == "cancelled"
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        cases.complete_task(uow, staff("county.fgj"), decide.id, {})


def test_boundary_timer_is_dropped_when_the_task_is_done_in_time(runtime, agent, clock):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_interrupting")
    [decide] = tasks_of(runtime, case.id)
    clock.advance(hours=1)
    complete(runtime, staff("county.fgj"), decide.id)
    with runtime.unit_of_work(write=False) as uow:
        assert timers.pending_jobs(uow, case.id) == []
        assert uow.session.get(Case, case.id).status == "completed"


def test_non_interrupting_boundary_timers_and_a_cycle(runtime, agent, clock):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_reminders")
    clock.advance(minutes=31)
    timers.run_due(runtime)
    assert sorted(t.element_id for t in tasks_of(runtime, case.id)) == ["DecideN", "NoticeTaskN"]
    clock.advance(minutes=30)  # first cycle at +1 h
    timers.run_due(runtime)
    assert sorted(t.element_id for t in tasks_of(runtime, case.id)) == ["DecideN", "NoticeTaskN", "ReminderN"]
    clock.advance(hours=1)  # second and last
    timers.run_due(runtime)
    clock.advance(hours=5)
    timers.run_due(runtime)
    assert sorted(t.element_id for t in tasks_of(runtime, case.id)) == [
        "DecideN", "NoticeTaskN", "ReminderN", "ReminderN"]
    [decide] = [t for t in tasks_of(runtime, case.id) if t.element_id == "DecideN"]
    complete(runtime, staff("county.fgj"), decide.id)
    with runtime.unit_of_work(write=False) as uow:
        assert timers.pending_jobs(uow, case.id) == []


def test_running_a_job_twice_fires_once(runtime, agent, clock):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_wait")
    clock.advance(minutes=11)
    for _ in range(3):
        with runtime.unit_of_work() as uow:
            timers.tick(uow, case.id)
            uow.commit()
    assert len(events(runtime, case.id, "timer_fired")) == 1
    assert len(tasks_of(runtime, case.id)) == 1


# --------------------------------------------------------------------------- the 24-hour enquiry


def _deploy_enquiry(runtime):
    path = REPO_ROOT / "processes" / "enterprise_enquiry.bpmn"
    with runtime.unit_of_work() as uow:
        deploy(uow, Actor("dora", "designer"), path.read_bytes(), path.name)
        uow.commit()


def test_enquiry_answered_within_24_hours(runtime, agent, clock):
    _deploy_enquiry(runtime)
    case = start(runtime, agent, "enterprise_enquiry",
                 variables={"department": "county.zrzyj", "question": "用地预审需要哪些材料？"})
    [task] = tasks_of(runtime, case.id)
    assert task.department == "county.zrzyj" and task.form_key == "enquiry_answer"
    assert task.due_at == clock() + timedelta(hours=24)
    clock.advance(hours=20)
    timers.run_due(runtime)
    with runtime.unit_of_work() as uow, pytest.raises(Invalid):
        cases.complete_task(uow, staff("county.zrzyj"), task.id, {"answer": "见清单"})  # no opinion
    complete(runtime, staff("county.zrzyj"), task.id,
             {"answer": "需提交用地预审申请表等", "preliminary_opinion": "符合规划，拟同意"})
    assert escalations_of(runtime, case.id) == []


def test_enquiry_escalates_after_24_hours(runtime, agent, clock):
    _deploy_enquiry(runtime)
    case = start(runtime, agent, "enterprise_enquiry",
                 variables={"department": "county.zrzyj", "question": "能否并联办理？"})
    [task] = tasks_of(runtime, case.id)
    clock.advance(hours=24, seconds=1)
    timers.run_due(runtime)
    [task] = tasks_of(runtime, case.id)
    assert task.sla == "red"
    [level1] = escalations_of(runtime, case.id)
    assert (level1.level, level1.department) == (1, "county.zwfw")
    for when in (bj(2026, 3, 4, 17, 31), bj(2026, 3, 5, 17, 31)):  # one working day per level
        clock.set(when)
        timers.run_due(runtime)
    assert [(e.level, e.department) for e in escalations_of(runtime, case.id)] == [
        (1, "county.zwfw"), (2, "county.zrzyj"), (3, "county.zf")]
    complete(runtime, staff("county.zrzyj"), task.id, {"answer": "可以", "preliminary_opinion": "拟同意并联"})
    assert {e.status for e in escalations_of(runtime, case.id)} == {"resolved"}


def test_suspended_case_does_not_fire_and_resumes(runtime, agent, clock):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_wait")
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, agent, case.id)
        uow.commit()
    clock.advance(minutes=11)
    timers.run_due(runtime)
    assert tasks_of(runtime, case.id) == []
    with runtime.unit_of_work() as uow:
        cases.resume_case(uow, agent, case.id)
        uow.commit()
    clock.advance(seconds=1)
    timers.run_due(runtime)
    assert [t.element_id for t in tasks_of(runtime, case.id)] == ["AfterWait"]


def test_naive_now_is_not_leaked_outside_a_case(runtime):
    from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
    assert abs(spiff_timer.datetime.now(timezone.utc) - datetime.now(timezone.utc)) < timedelta(seconds=5)
