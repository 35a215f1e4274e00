"""Incidents in the engine (no HTTP): a failed step is kept, listed, and repaired by retry, variables
or move, on real BPMN; task rows, SLA clocks and timer jobs stay consistent after each repair."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.services import cases
from engine.services import incidents
from engine.services import repair
from engine.services import timers
from engine.domain.access import Actor
from engine.config import REPO_ROOT, Settings
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.adapters.history import case_history
from engine.runtime import Runtime
from engine.adapters.models import Case, Incident, TimerJob
from engine.services.workflow import CaseWorkflow
from tests.conftest import deploy_file, staff

ADMIN = Actor("root", "admin")
BEIJING = timezone(timedelta(hours=8))


def start(runtime, agent, key, business_key="2026-510117-34-01-000001", **kwargs):
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, agent, key, business_key, **kwargs)
        uow.commit()
    return started.case


def rows(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return cases.case_tasks(uow, case_id)


def ready(runtime, case_id):
    return [t for t in rows(runtime, case_id) if t.state == "ready"]


def complete(runtime, actor, task_id, data=None):
    with runtime.unit_of_work() as uow:
        cases.complete_task(uow, actor, task_id, data or {})
        uow.commit()


def the_case(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return uow.session.get(Case, case_id)


def incidents_of(runtime, case_id, state="all"):
    with runtime.unit_of_work(write=False) as uow:
        return incidents.case_incidents(uow, case_id, state)


def events(runtime, case_id, kind=None):
    with runtime.unit_of_work(write=False) as uow:
        found = case_history(uow, case_id)
    return [e for e in found if kind is None or e.type == kind]


def retry(runtime, actor, case_id):
    with runtime.unit_of_work() as uow:
        result = repair.retry_case(uow, actor, case_id, "cause fixed")
        uow.commit()
    return result


def patch(runtime, actor, case_id, changes, task_id=None):
    with runtime.unit_of_work() as uow:
        result = repair.patch_variables(uow, actor, case_id, changes, task_id=task_id)
        uow.commit()
    return result


def move(runtime, actor, case_id, source, target):
    with runtime.unit_of_work() as uow:
        result = repair.move_token(uow, actor, case_id, source, target, "operator's decision")
        uow.commit()
    return result


def spiff_states(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        flow = CaseWorkflow.load(uow, uow.session.get(Case, case_id))
        return {t.task_spec.bpmn_id: TaskState.get_name(t.state) for t in flow.workflow.get_tasks()
                if t.task_spec.bpmn_id}


def failed_divide(runtime, agent, divisor=0):
    deploy_file(runtime, "failing_script.bpmn")
    case = start(runtime, agent, "failing_script")
    [fill] = ready(runtime, case.id)
    complete(runtime, agent, fill.id, {"divisor": divisor})
    return case


# --------------------------------------------------------------------------- a failed step is an incident


def test_a_failing_script_opens_one_incident_and_keeps_its_token(runtime, agent):
    case = failed_divide(runtime, agent)
    [incident] = incidents_of(runtime, case.id)
    assert (incident.state, incident.kind, incident.element_id, incident.retries) == ("open", "step", "Divide", 0)
    assert incident.process_key == "failing_script" and incident.business_key == case.business_key
    assert "division by zero" in incident.message and incident.source == "command"
    assert incident.created_by == "alice" and incident.resolved_at is None
    assert spiff_states(runtime, case.id)["Divide"] == "ERROR"
    assert {r.element_id: r.state for r in rows(runtime, case.id)} == {"Fill": "completed", "Divide": "error"}
    failed = the_case(runtime, case.id)
    assert failed.status == "running" and failed.error.startswith("Divide: ")


def test_suspend_and_resume_do_not_repair_and_nothing_retries_by_itself(runtime, agent, clock):
    case = failed_divide(runtime, agent)
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, agent, case.id)
        uow.commit()
    with runtime.unit_of_work() as uow:
        cases.resume_case(uow, agent, case.id)
        uow.commit()
    clock.advance(hours=1)
    timers.run_due(runtime)
    [incident] = incidents_of(runtime, case.id)
    assert incident.state == "open" and incident.retries == 0
    assert len(events(runtime, case.id, "error")) == 1


def test_retry_that_fails_again_keeps_the_incident_open_with_one_retry_more(runtime, agent, clock):
    case = failed_divide(runtime, agent)
    clock.advance(minutes=5)
    result = retry(runtime, agent, case.id)  # the case's own agent may retry
    [incident] = result.incidents
    assert incident.state == "open" and incident.retries == 1 and incident.last_retried_by == "alice"
    assert incident.last_retried_at == clock.now and incident.last_failed_at == clock.now
    patch(runtime, ADMIN, case.id, {"divisor": "four"})  # still wrong: a different error
    result = retry(runtime, ADMIN, case.id)
    [incident] = result.incidents
    assert incident.retries == 2 and "TypeError" in incident.message
    assert [e.type for e in events(runtime, case.id) if e.type in ("retried", "error")] == [
        "error", "retried", "error", "retried", "error"]
    assert len(incidents_of(runtime, case.id)) == 1  # one incident per failed step, not per failure


def test_retry_after_patching_the_data_runs_the_step_and_resolves_the_incident(runtime, agent):
    case = failed_divide(runtime, agent)
    _, before, after = patch(runtime, ADMIN, case.id, {"divisor": 4})
    assert (before, after) == ({"divisor": 0}, {"divisor": 4})
    [changed] = events(runtime, case.id, "variables_changed")
    assert changed.actor == "root" and changed.data["before"] == {"divisor": 0}
    assert changed.data["after"] == {"divisor": 4}
    result = retry(runtime, ADMIN, case.id)
    assert result.incidents == [] and result.case.status == "completed" and result.case.error is None
    [incident] = incidents_of(runtime, case.id)
    assert (incident.state, incident.resolution, incident.resolved_by, incident.retries) == (
        "resolved", "retried", "root", 1)
    assert {r.element_id: r.state for r in rows(runtime, case.id)} == {"Fill": "completed", "Divide": "completed"}
    with runtime.unit_of_work(write=False) as uow:
        from engine.adapters import queries
        assert queries.case_variables(uow, the_case(runtime, case.id))["share"] == 25


def test_retry_needs_an_open_incident_and_the_right_person(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    healthy = start(runtime, agent, "parallel_approval")
    with pytest.raises(Conflict, match="no open incident"):
        retry(runtime, agent, healthy.id)
    case = failed_divide(runtime, agent)
    for actor in (Actor("bob", "agent"), staff("county.fgj"), Actor("gov", "government"), Actor("d", "designer")):
        with pytest.raises(Forbidden):
            retry(runtime, actor, case.id)
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, agent, case.id)
        uow.commit()
    with pytest.raises(Conflict, match="suspended"):
        retry(runtime, ADMIN, case.id)
    with pytest.raises(NotFound):
        retry(runtime, ADMIN, "no-such-case")
    assert incidents_of(runtime, case.id)[0].retries == 0  # refused retries change nothing


def test_cancelling_the_case_resolves_its_incidents(runtime, agent):
    case = failed_divide(runtime, agent)
    with runtime.unit_of_work() as uow:
        cases.cancel_case(uow, agent, case.id, "the enterprise withdrew")
        uow.commit()
    [incident] = incidents_of(runtime, case.id)
    assert (incident.state, incident.resolution) == ("resolved", "cancelled")
    assert {r.element_id: r.state for r in rows(runtime, case.id)}["Divide"] == "cancelled"
    assert the_case(runtime, case.id).error is None


# --------------------------------------------------------------------------- routing and the organisation


def test_unknown_department_in_the_agents_data_is_fixed_by_variables_and_retry(runtime, agent):
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "routed_review", variables={"department": "county.nowhere"})
    [incident] = incidents_of(runtime, case.id)
    assert incident.element_id == "ReviewR" and incident.department == "county.nowhere"
    assert "county.nowhere" in incident.message
    [row] = rows(runtime, case.id)
    assert row.state == "error" and row.due_at is None
    assert spiff_states(runtime, case.id)["ReviewR"] == "READY"  # the task waits; only its row failed
    patch(runtime, ADMIN, case.id, {"department": "county.zrzyj"})
    result = retry(runtime, ADMIN, case.id)
    assert result.incidents == []
    [review] = result.open_tasks
    assert (review.id, review.department, review.state) == (row.id, "county.zrzyj", "ready")
    assert review.due_at is not None and review.sla == "normal"  # its clock starts at the retry
    with runtime.unit_of_work(write=False) as uow:
        assert [(j.kind, j.task_id) for j in timers.pending_jobs(uow, case.id)] == [("sla", review.id)]
    complete(runtime, staff("county.zrzyj"), review.id, {"decision": "approve"})
    assert the_case(runtime, case.id).status == "completed"


def restarted_with_organisation(runtime, clock, tmp_path, edit):
    """The runtime of a server (or worker) restarted after an administrator edited the
    organisation: `edit(data)` changes a copy of the shipped organisation.json."""
    organisation = tmp_path / "organisation.json"
    data = json.loads((REPO_ROOT / "processes" / "organisation.json").read_text(encoding="utf-8"))
    edit(data)
    organisation.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return Runtime(Settings(database_url=runtime.settings.database_url, organisation_file=organisation),
                   clock=clock)


def test_a_department_added_to_the_organisation_is_found_by_the_retry(runtime, agent, clock, tmp_path):
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "routed_review", variables={"department": "county.xxj"})
    assert incidents_of(runtime, case.id, "open")[0].department == "county.xxj"

    def add_bureau(data):
        data["functions"].append({"key": "xx", "name_zh": "信息化", "name_en": "information technology",
                                  "aliases": ["xxj"]})
        pidu = next(region for region in data["regions"] if region["code"] == "pidu")
        pidu["bodies"].append({"code": "county.xxj", "function": "xx", "kind": "department",
                               "name_zh": "郫都区信息化局", "name_en": "Pidu IT Bureau", "roles": ["approver"]})
    rt = restarted_with_organisation(runtime, clock, tmp_path, add_bureau)
    try:
        result = retry(rt, ADMIN, case.id)
        assert result.incidents == [] and [t.department for t in result.open_tasks] == ["county.xxj"]
    finally:
        rt.close()


def test_a_department_loaded_as_a_new_organisation_version_is_found_by_the_retry(runtime, agent):
    """The way an administrator adds a body to a running system: a new organisation version."""
    from engine.adapters import organisation_versions
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "routed_review", variables={"department": "county.xxj"})
    assert incidents_of(runtime, case.id, "open")[0].department == "county.xxj"
    data = json.loads((REPO_ROOT / "processes" / "organisation.json").read_text(encoding="utf-8"))
    data["functions"].append({"key": "xx", "name_zh": "信息化", "name_en": "information technology",
                              "aliases": ["xxj"]})
    pidu = next(region for region in data["regions"] if region["code"] == "pidu")
    pidu["bodies"].append({"code": "county.xxj", "function": "xx", "kind": "department",
                           "name_zh": "郫都区信息化局", "name_en": "Pidu IT Bureau", "roles": ["approver"]})
    with runtime.unit_of_work() as uow:
        organisation_versions.load(uow, json.dumps(data, ensure_ascii=False), "organisation.json", "root")
        uow.commit()
    result = retry(runtime, ADMIN, case.id)
    assert result.incidents == [] and [t.department for t in result.open_tasks] == ["county.xxj"]


def test_one_instance_with_an_unknown_department_does_not_stop_the_others(runtime, agent):
    deploy_file(runtime, "approval_items.bpmn")
    items = [{"name": "项目核准", "department": "county.fgj"}, {"name": "用地预审", "department": "county.nope"}]
    case = start(runtime, agent, "approval_items", variables={"items": items})
    [incident] = incidents_of(runtime, case.id)
    [fgj] = ready(runtime, case.id)
    complete(runtime, staff("county.fgj"), fgj.id, {"decision": "approve"})
    assert len(events(runtime, case.id, "error")) == 1  # later commands do not fail it again
    assert incidents_of(runtime, case.id)[0].state == "open"
    with pytest.raises(Invalid, match="not local"):  # `items` is the case's, not the instance's
        patch(runtime, ADMIN, case.id, {"items": []}, task_id=incident.task_id)
    patch(runtime, ADMIN, case.id, {"item": {"department": "county.zrzyj"}}, task_id=incident.task_id)
    result = retry(runtime, ADMIN, case.id)
    [zrzyj] = result.open_tasks
    assert zrzyj.department == "county.zrzyj" and zrzyj.item["name"] == "用地预审"
    complete(runtime, staff("county.zrzyj"), zrzyj.id, {"decision": "approve"})
    assert the_case(runtime, case.id).status == "completed"


# --------------------------------------------------------------------------- variables


def test_variables_patch_is_a_merge_patch_and_validated(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval",
                 variables={"limits": {"fgj": 5, "zrzyj": 10}, "note": "draft"})
    _, before, after = patch(runtime, ADMIN, case.id, {"limits": {"zrzyj": None, "sthjj": 3}, "note": None})
    assert before == {"limits": {"fgj": 5, "zrzyj": 10}, "note": "draft"}
    assert after == {"limits": {"fgj": 5, "sthjj": 3}}
    with runtime.unit_of_work(write=False) as uow:
        from engine.adapters import queries
        variables = queries.case_variables(uow, the_case(runtime, case.id))
    assert variables["limits"] == {"fgj": 5, "sthjj": 3} and "note" not in variables
    version = the_case(runtime, case.id).version
    for bad, field in [({}, "_schema"), ({"1st": 1}, "1st"), ({"ghost": None}, "ghost"), ({"": 1}, "''")]:
        with pytest.raises(Invalid) as refused:
            patch(runtime, ADMIN, case.id, bad)
        assert field in refused.value.errors
    with pytest.raises(Forbidden):
        patch(runtime, agent, case.id, {"note": "x"})
    with pytest.raises(NotFound):
        patch(runtime, ADMIN, case.id, {"note": "x"}, task_id="00000000-0000-0000-0000-000000000000")
    assert the_case(runtime, case.id).version == version  # refused patches change nothing


# --------------------------------------------------------------------------- move


def test_move_skips_a_stuck_step(runtime, agent):
    case = failed_divide(runtime, agent)
    result = move(runtime, ADMIN, case.id, "Divide", "EndEvent")
    assert result.case.status == "completed" and result.incidents == []
    [incident] = incidents_of(runtime, case.id)
    assert (incident.state, incident.resolution, incident.resolved_by) == ("resolved", "moved", "root")
    [moved] = events(runtime, case.id, "moved")
    assert moved.actor == "root" and moved.data["from"] == "Divide" and moved.data["to"] == "EndEvent"
    assert moved.data["reason"] == "operator's decision"
    assert {r.element_id: r.state for r in rows(runtime, case.id)}["Divide"] == "cancelled"


def test_move_into_a_timed_step_starts_its_clock(runtime, agent):
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "check_then_review", variables={"amount": 100, "count": 0})
    assert incidents_of(runtime, case.id)[0].element_id == "CheckC"
    result = move(runtime, ADMIN, case.id, "CheckC", "ReviewC")
    [review] = result.open_tasks
    assert review.department == "county.fgj" and review.due_at is not None and review.sla == "normal"
    with runtime.unit_of_work(write=False) as uow:
        assert [(j.kind, j.task_id) for j in timers.pending_jobs(uow, case.id)] == [("sla", review.id)]
    assert the_case(runtime, case.id).error is None


def test_move_away_from_a_task_with_a_boundary_timer_cancels_the_timer(runtime, agent):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_interrupting")
    [decide] = ready(runtime, case.id)
    with runtime.unit_of_work(write=False) as uow:
        assert [j.kind for j in timers.pending_jobs(uow, case.id)] == ["timer"]
    result = move(runtime, ADMIN, case.id, "DecideI", "TakeOverI")
    [take_over] = result.open_tasks
    assert take_over.element_id == "TakeOverI" and take_over.department == "city.zwfw"
    assert {r.element_id: r.state for r in rows(runtime, case.id)}["DecideI"] == "cancelled"
    with runtime.unit_of_work(write=False) as uow:
        assert timers.pending_jobs(uow, case.id) == []
    complete(runtime, staff("city.zwfw"), take_over.id)
    assert the_case(runtime, case.id).status == "completed"


def test_move_back_to_an_earlier_element_restarts_it_with_its_boundary_events(runtime, agent):
    deploy_file(runtime, "time_timers.bpmn")
    case = start(runtime, agent, "timer_interrupting")
    [decide] = ready(runtime, case.id)
    move(runtime, ADMIN, case.id, "DecideI", "TakeOverI")
    result = move(runtime, ADMIN, case.id, "TakeOverI", "DecideI")
    [again] = result.open_tasks
    assert again.element_id == "DecideI" and again.id != decide.id
    with runtime.unit_of_work(write=False) as uow:
        assert [j.kind for j in timers.pending_jobs(uow, case.id)] == ["timer"]  # its boundary timer again


def test_move_errors_name_the_element(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval")
    with pytest.raises(Invalid) as unknown:
        move(runtime, ADMIN, case.id, "Nope", "Alsonope")
    assert set(unknown.value.errors) == {"from", "to"} and "'Nope'" in unknown.value.errors["from"][0]
    with pytest.raises(Conflict, match="'Close' has no token.*Approve_fgj, Approve_sthjj, Approve_zrzyj"):
        move(runtime, ADMIN, case.id, "Close", "EndEvent")
    with pytest.raises(Invalid, match="start or boundary event"):
        move(runtime, ADMIN, case.id, "Approve_fgj", "StartEvent")
    with pytest.raises(Forbidden):
        move(runtime, agent, case.id, "Approve_fgj", "Close")
    assert len(ready(runtime, case.id)) == 3


def test_move_one_parallel_branch_leaves_the_others(runtime, agent):
    deploy_file(runtime, "parallel_approval.bpmn")
    case = start(runtime, agent, "parallel_approval")
    fgj = next(t for t in ready(runtime, case.id) if t.department == "county.fgj")
    move(runtime, ADMIN, case.id, "Approve_fgj", "Approve_fgj")  # restart one body's step
    now = {t.element_id: t for t in ready(runtime, case.id)}
    assert set(now) == {"Approve_fgj", "Approve_zrzyj", "Approve_sthjj"} and now["Approve_fgj"].id != fgj.id
    for task in now.values():
        complete(runtime, staff(task.department), task.id, {"decision": "approve"})
    [close] = ready(runtime, case.id)
    assert close.element_id == "Close"


# --------------------------------------------------------------------------- timers and the worker


def test_a_bad_timer_value_in_the_data_is_an_incident_repaired_by_variables_and_retry(runtime, agent, clock):
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "timer_from_data")
    [ask] = ready(runtime, case.id)
    complete(runtime, agent, ask.id, {"wait": "garbage"})
    [incident] = incidents_of(runtime, case.id)
    assert incident.element_id == "WaitD" and incident.state == "open"
    assert spiff_states(runtime, case.id)["WaitD"] == "ERROR"
    patch(runtime, ADMIN, case.id, {"wait": "PT30M"})
    result = retry(runtime, ADMIN, case.id)
    assert result.incidents == [] and result.open_tasks == []
    assert spiff_states(runtime, case.id)["WaitD"] == "WAITING"
    with runtime.unit_of_work(write=False) as uow:
        [job] = timers.pending_jobs(uow, case.id)
    assert job.kind == "timer" and job.due_at > clock.now
    clock.advance(minutes=31)
    timers.run_due(runtime)
    [after] = ready(runtime, case.id)
    assert after.element_id == "AfterD"
    assert "WaitD" not in {r.element_id for r in rows(runtime, case.id)}  # the failed attempt's row went


def test_a_step_failing_in_the_worker_is_an_incident_from_the_worker(runtime, agent, clock):
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "timer_then_script", variables={"divisor": 0})
    clock.advance(minutes=11)
    timers.run_due(runtime)
    [incident] = incidents_of(runtime, case.id)
    assert (incident.element_id, incident.source, incident.created_by) == ("ShareT", "worker", "system")
    with runtime.unit_of_work(write=False) as uow:
        assert timers.pending_jobs(uow, case.id) == []  # the timer fired; nothing to run again
    patch(runtime, ADMIN, case.id, {"divisor": 5})
    [report] = retry(runtime, ADMIN, case.id).open_tasks
    assert report.element_id == "ReportT"


def test_a_case_the_worker_cannot_process_gets_a_job_incident_and_waits_for_a_retry(runtime, agent, clock, tmp_path):
    """The overdue item's department left the organisation: escalating it to that department's
    leaders (level 2) fails on every tick. After three tries the case gets an incident and its
    job is parked; once the department is back, a retry escalates it."""
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent, "time_limits")
    clock.set(datetime(2026, 3, 9, 17, 31, tzinfo=BEIJING))
    timers.run_due(runtime)  # overdue: level 1 at the window

    def remove_fgj(data):
        for region in data["regions"]:
            region["bodies"] = [body for body in region["bodies"] if body["code"] != "county.fgj"]
    rt = restarted_with_organisation(runtime, clock, tmp_path, remove_fgj)  # the worker restarted
    try:
        clock.set(datetime(2026, 3, 10, 17, 31, tzinfo=BEIJING))
        for _ in range(incidents.JOB_ATTEMPTS):
            timers.run_due(rt, max_rounds=1)
            assert the_case(rt, case.id).status == "running"
            clock.advance(minutes=10)  # past the back-off
        [incident] = incidents_of(rt, case.id)
        assert (incident.kind, incident.source, incident.state) == ("job", "worker", "open")
        assert "county.fgj" in incident.message and incident.department == "county.fgj"
        with rt.unit_of_work(write=False) as uow:
            [job] = uow.session.query(TimerJob).filter_by(case_id=case.id, kind="escalation").all()
        assert job.claimed_by == incidents.PARKED
        assert timers.run_due(rt) == 0  # parked: not claimed again
        result = retry(rt, ADMIN, case.id)  # still gone: the retry fails again
        assert [i.retries for i in result.incidents] == [1] and "retry failed" in result.incidents[0].message
        result = retry(runtime, ADMIN, case.id)  # the department is back (restarted with the shipped file)
        assert result.incidents == [] and the_case(rt, case.id).error is None
        with rt.unit_of_work(write=False) as uow:
            from engine.services import escalation
            levels = escalation.list_escalations(uow, ADMIN, case_id=case.id)
        assert sorted(e.level for e in levels) == [1, 2]
        with rt.unit_of_work(write=False) as uow:
            assert all(j.claimed_by != incidents.PARKED for j in timers.pending_jobs(uow, case.id))
    finally:
        rt.close()


# --------------------------------------------------------------------------- listing


def test_list_incidents_filters_and_scopes(runtime, agent, clock):
    deploy_file(runtime, "incidents.bpmn")
    first = failed_divide(runtime, agent)
    clock.advance(hours=1)
    second = start(runtime, Actor("bob", "agent"), "routed_review", "2026-510117-34-01-000002",
                   variables={"department": "county.nowhere"})
    with runtime.unit_of_work(write=False) as uow:
        listed = incidents.list_incidents(uow, ADMIN)
        assert [i.case_id for i in listed.items] == [second.id, first.id] and listed.total == 2
        assert [i.case_id for i in incidents.list_incidents(uow, ADMIN, process_key="failing_script").items] == [
            first.id]
        assert incidents.list_incidents(uow, ADMIN, element_id="ReviewR").total == 1
        assert incidents.list_incidents(uow, ADMIN, department="county.nowhere").total == 1
        assert incidents.list_incidents(uow, ADMIN, since=clock.now - timedelta(minutes=1)).total == 1
        assert [i.case_id for i in incidents.list_incidents(uow, agent).items] == [first.id]
        assert incidents.list_incidents(uow, staff("county.fgj")).total == 0
        assert incidents.list_incidents(uow, Actor("gov", "government")).total == 2
        with pytest.raises(Forbidden):
            incidents.list_incidents(uow, staff("county.fgj"), department="county.nowhere")
        with pytest.raises(Forbidden):
            incidents.list_incidents(uow, Actor("d", "designer"))
    move(runtime, ADMIN, first.id, "Divide", "EndEvent")
    with runtime.unit_of_work(write=False) as uow:
        assert incidents.list_incidents(uow, ADMIN).total == 1
        assert incidents.list_incidents(uow, ADMIN, state="resolved").items[0].case_id == first.id
        assert incidents.list_incidents(uow, ADMIN, state="all").total == 2


def test_reload_gives_the_same_incident_state(runtime, agent):
    """A failed step's state survives a reload (no cached workflow): retry works from the database."""
    from engine.adapters.serializer import LIVE_WORKFLOWS
    case = failed_divide(runtime, agent)
    LIVE_WORKFLOWS.clear()
    runtime.specs = type(runtime.specs)()
    patch(runtime, ADMIN, case.id, {"divisor": 2})
    LIVE_WORKFLOWS.clear()
    assert retry(runtime, ADMIN, case.id).case.status == "completed"
    assert isinstance(incidents_of(runtime, case.id)[0], Incident)


def test_a_failed_step_inside_an_embedded_subprocess_is_retried_there(runtime, agent):
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "nested_script", variables={"divisor": 0})
    [incident] = incidents_of(runtime, case.id)
    assert incident.element_id == "DivideS"
    assert spiff_states(runtime, case.id)["DivideS"] == "ERROR"
    patch(runtime, ADMIN, case.id, {"divisor": 10})
    result = retry(runtime, ADMIN, case.id)
    assert result.incidents == [] and [t.element_id for t in result.open_tasks] == ["AfterS"]
    complete(runtime, agent, result.open_tasks[0].id)
    with runtime.unit_of_work(write=False) as uow:
        from engine.adapters import queries
        case_now = uow.session.get(Case, case.id)
        assert case_now.status == "completed" and queries.case_variables(uow, case_now)["share"] == 10


def test_a_form_whose_completion_fails_stays_with_its_department_until_retried(runtime, agent):
    deploy_file(runtime, "incidents.bpmn")
    case = start(runtime, agent, "form_output")
    [answer] = ready(runtime, case.id)
    complete(runtime, agent, answer.id, {"note": "no answer given"})
    [incident] = incidents_of(runtime, case.id)
    assert incident.element_id == "AnswerF" and "answer" in incident.message
    [row] = rows(runtime, case.id)
    assert row.state == "error" and row.completed_at is None
    assert "task_completed" not in [e.type for e in events(runtime, case.id)]
    [again] = retry(runtime, agent, case.id).open_tasks  # the step is the person's again
    assert again.id == answer.id and again.state == "ready" and again.assignee == "alice"
    complete(runtime, agent, again.id, {"answer": "yes"})
    assert the_case(runtime, case.id).status == "completed"
    assert incidents_of(runtime, case.id)[0].resolution == "retried"


def test_a_due_date_no_calendar_can_count_is_an_incident_until_the_limit_is_fixed(runtime, agent):
    deploy_file(runtime, "incidents.bpmn")
    # 3000 working days: about twelve years, past any official or provisional calendar year
    case = start(runtime, agent, "limited_review", variables={"limit": "3000 working days"})
    [incident] = incidents_of(runtime, case.id)
    assert incident.element_id == "ReviewL" and incident.department == "county.fgj"
    assert "calendar" in incident.message
    [row] = rows(runtime, case.id)
    assert row.state == "error" and row.due_at is None
    patch(runtime, ADMIN, case.id, {"limit": "20 working days"})
    [review] = retry(runtime, ADMIN, case.id).open_tasks
    assert review.department == "county.fgj" and review.time_limit == "20 working days"
    assert review.due_at is not None and review.due_at.year == 2026
