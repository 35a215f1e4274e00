"""Moving running cases to a new version (engine/services/case_migration.py): dry run, batches,
what open tasks keep, history, and that a migrated case runs to the end the same after reloads."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.services import cases
from engine.adapters import history
from engine.services import timers
from engine.domain.access import Actor
from engine.services.definitions import deploy_files
from engine.errors import Forbidden, Invalid, NotFound
from engine.services import case_migration
from engine.services.case_migration import Plan
from engine.adapters.models import Case, Event, Task
from tests import modeler_corpus
from tests.differential.harness import empty_caches
from tests.engine.test_cases import open_tasks
from tests.engine.test_modeler_corpus import ADMIN, AGENT, set_aliases

V1, V2 = (modeler_corpus.MIGRATION_DIR / f"permit_review_v{v}.bpmn" for v in (1, 2))
RENAME = {"Activity_review": "Activity_technical_review"}


def deploy_version(runtime, path) -> None:
    with runtime.unit_of_work() as uow:
        deploy_files(uow, Actor("dora", "designer"), [(path.read_bytes(), path.name)])
        uow.commit()


def start(runtime, number: int) -> str:
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, AGENT, "permit_review", f"2026-510117-34-01-{number:06d}")
        uow.commit()
    return started.case.id


def complete(runtime, task_id: str, data: dict | None = None) -> None:
    with runtime.unit_of_work() as uow:
        cases.complete_task(uow, ADMIN, task_id, data or {})
        uow.commit()


def task_at(runtime, case_id: str, element: str) -> Task:
    [task] = [t for t in open_tasks(runtime, case_id) if t.element_id == element]
    return task


def migrate(runtime, mapping=None, batch_size=50) -> dict:
    with runtime.unit_of_work() as uow:
        migration = case_migration.start(uow, ADMIN, Plan("permit_review", 1, 2, mapping or {}), batch_size)
        uow.commit()
        migration_id = migration.id
    while case_migration.run_batch(runtime, migration_id):
        pass
    with runtime.unit_of_work(write=False) as uow:
        return case_migration.progress(uow, ADMIN, migration_id)


@pytest.fixture
def two_versions(runtime):
    set_aliases(runtime)
    deploy_version(runtime, V1)
    return runtime


def test_a_dry_run_says_per_case_whether_it_can_move_and_why_not(two_versions, clock):
    runtime = two_versions
    at_check = start(runtime, 1)
    at_review = start(runtime, 2)
    complete(runtime, task_at(runtime, at_review, "Activity_check").id)
    at_notify = start(runtime, 3)
    complete(runtime, task_at(runtime, at_notify, "Activity_check").id)
    complete(runtime, task_at(runtime, at_notify, "Activity_review").id, {"approved": False})
    deploy_version(runtime, V2)
    with runtime.unit_of_work(write=False) as uow:
        report = case_migration.dry_run(uow, ADMIN, Plan("permit_review", 1, 2, {}))
    by_case = {c["case_id"]: c for c in report["cases"]}
    assert report["total"] == 3 and report["can_migrate"] == 1
    assert by_case[at_check]["can_migrate"] is True
    assert by_case[at_review]["can_migrate"] is False
    assert "Activity_review" in by_case[at_review]["reasons"][0] and "--map" in by_case[at_review]["reasons"][0]
    assert "Activity_notify" in by_case[at_notify]["reasons"][0]
    with runtime.unit_of_work(write=False) as uow:
        mapped = case_migration.dry_run(uow, ADMIN, Plan("permit_review", 1, 2, RENAME))
    by_case = {c["case_id"]: c for c in mapped["cases"]}
    assert by_case[at_review]["can_migrate"] is True
    assert {"from": "Activity_review", "to": "Activity_technical_review"} in [
        {k: t[k] for k in ("from", "to")} for t in by_case[at_review]["tokens"]]
    with runtime.unit_of_work(write=False) as uow:  # a dry run changed nothing
        assert {c.process_version for c in uow.session.query(Case)} == {1}


def test_the_plan_is_checked_before_anything_moves(two_versions):
    runtime = two_versions
    deploy_version(runtime, V2)
    with runtime.unit_of_work() as uow:
        with pytest.raises(Invalid) as bad:
            case_migration.dry_run(uow, ADMIN, Plan("permit_review", 1, 2, {"Activity_nope": "Activity_sign"}))
        assert "version 1 has no element 'Activity_nope'" in bad.value.detail
        with pytest.raises(NotFound):
            case_migration.dry_run(uow, ADMIN, Plan("permit_review", 1, 7, {}))
        with pytest.raises(Invalid):
            case_migration.dry_run(uow, ADMIN, Plan("permit_review", 2, 2, {}))
        with pytest.raises(Forbidden):
            case_migration.dry_run(uow, Actor("dora", "designer"), Plan("permit_review", 1, 2, {}))
        with pytest.raises(Invalid):
            case_migration.parse_pairs(["Activity_review"])
        with pytest.raises(Invalid) as not_open:
            case_migration.dry_run(uow, ADMIN, Plan("permit_review", 1, 2, {}), ["no-such-case"])
        assert "no-such-case" in not_open.value.detail


def test_open_tasks_keep_id_assignee_due_date_and_clock_and_the_history_says_so(two_versions, clock):
    runtime = two_versions
    case_id = start(runtime, 1)
    check = task_at(runtime, case_id, "Activity_check")
    complete(runtime, check.id)
    review = task_at(runtime, case_id, "Activity_review")
    with runtime.unit_of_work() as uow:
        cases.claim_task(uow, Actor("li", "staff", review.department), review.id)
        row = uow.session.get(Task, review.id)
        row.due_at, row.time_limit = clock() + timedelta(days=10), "10 working days"
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        before = uow.session.get(Task, review.id)
        kept = (before.assignee, before.due_at, before.department, before.created_at, before.time_limit)
    deploy_version(runtime, V2)
    result = migrate(runtime, RENAME)
    assert (result["status"], result["migrated"], result["skipped"], result["failed"]) == ("completed", 1, 0, 0)
    assert result["progress"] == 1.0
    moved = task_at(runtime, case_id, "Activity_technical_review")
    assert moved.id == review.id
    assert (moved.assignee, moved.due_at, moved.department, moved.created_at, moved.time_limit) == kept
    with runtime.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, case_id)
        assert case.process_version == 2
        [event] = [e for e in history.case_history(uow, case_id) if e.type == "migrated"]
    assert event.data["from_version"] == 1 and event.data["to_version"] == 2
    assert {"task_id": review.id, "from": "Activity_review", "to": "Activity_technical_review"} in event.data["tokens"]
    complete(runtime, moved.id, {"approved": True})
    sign = task_at(runtime, case_id, "Activity_sign")  # the new version's step
    assert sign.department == "county.zf"
    complete(runtime, sign.id)
    complete(runtime, task_at(runtime, case_id, "Activity_issue").id)
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.get(Case, case_id).status == "completed"


def test_a_waiting_timer_keeps_its_instant_and_a_case_that_cannot_move_is_skipped(two_versions, clock):
    runtime = two_versions
    waiting = start(runtime, 1)  # at Activity_check with its 3-day reminder armed
    stuck = start(runtime, 2)
    complete(runtime, task_at(runtime, stuck, "Activity_check").id)
    with runtime.unit_of_work(write=False) as uow:
        [job] = timers.pending_jobs(uow, waiting)
        due = job.due_at
    deploy_version(runtime, V2)
    clock.advance(hours=1)
    result = migrate(runtime, batch_size=1)
    assert (result["migrated"], result["skipped"]) == (1, 1)
    assert result["cases"][0]["case_id"] == stuck and "Activity_review" in result["cases"][0]["reason"]
    with runtime.unit_of_work(write=False) as uow:
        [job] = timers.pending_jobs(uow, waiting)
        assert job.due_at == due  # the reminder fires when it would have (its clock was not restarted)
        assert uow.session.get(Case, stuck).process_version == 1
    clock.set(due)
    timers.run_due(runtime)
    assert {t.element_id for t in open_tasks(runtime, waiting)} == {"Activity_check", "Activity_remind"}


def test_a_migrated_case_runs_the_same_with_every_cache_emptied(runtime, clock):
    """Reload equivalence: the migrated case, driven once with warm caches and once reloading
    everything before every command, ends the same way."""
    outcomes = []
    for cold in (False, True):
        from tests.conftest import _empty_tables
        _empty_tables(runtime)
        empty_caches(runtime)
        set_aliases(runtime)
        deploy_version(runtime, V1)
        case_id = start(runtime, 1)
        complete(runtime, task_at(runtime, case_id, "Activity_check").id)
        deploy_version(runtime, V2)
        migrate(runtime, RENAME)
        trail = []
        for element, data in (("Activity_technical_review", {"approved": True}), ("Activity_sign", {}),
                              ("Activity_issue", {})):
            if cold:
                empty_caches(runtime)
            complete(runtime, task_at(runtime, case_id, element).id, data)
            trail.append(sorted(t.element_id for t in open_tasks(runtime, case_id)))
        with runtime.unit_of_work(write=False) as uow:
            case = uow.session.get(Case, case_id)
            trail.append((case.status, case.process_version))
            trail.append([(e.type, e.element_id) for e in history.case_history(uow, case_id)
                          if e.type.startswith("task_")])
        outcomes.append(trail)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][-2] == ("completed", 2)


def test_a_multi_instance_in_progress_cannot_move(runtime):
    set_aliases(runtime)
    path = modeler_corpus.DIR / "reviewers_multi_instance.bpmn"
    deploy_version(runtime, path)
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, AGENT, "reviewers_multi_instance", "2026-510117-34-01-000001",
                                   variables={"reviewers": [{"name": "li", "dept": "planning"}]})
        uow.commit()
    changed = path.read_text(encoding="utf-8").replace('name="Summarise reviews"', 'name="Summarise"')
    with runtime.unit_of_work() as uow:
        deploy_files(uow, Actor("dora", "designer"), [(changed.encode(), path.name)])
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        report = case_migration.dry_run(uow, ADMIN, Plan("reviewers_multi_instance", 1, 2, {}))
    [entry] = report["cases"]
    assert entry["case_id"] == started.case.id and not entry["can_migrate"]
    assert "multi-instance is in progress" in entry["reasons"][0]


def test_other_tables_follow_through_a_hook(two_versions):
    runtime = two_versions
    case_id = start(runtime, 1)
    complete(runtime, task_at(runtime, case_id, "Activity_check").id)
    deploy_version(runtime, V2)
    seen = []

    def hook(uow, case, source, target, tokens):
        seen.append((case.id, source.version, target.version, dict(tokens)))
    case_migration.register_hook(hook)
    try:
        migrate(runtime, RENAME)
    finally:
        case_migration.HOOKS.remove(hook)
    [(hooked_case, v1, v2, tokens)] = seen
    assert (hooked_case, v1, v2) == (case_id, 1, 2)
    assert ("Activity_review", "Activity_technical_review") in tokens.values()


def test_two_movers_and_a_busy_inbox_at_once_move_each_case_once_and_lose_no_completion(two_versions):
    """Two workers run the same migration while staff complete tasks of the same cases: every
    case moves exactly once, and every completion is kept (the case lock orders them)."""
    import threading
    runtime = two_versions
    ids = [start(runtime, n) for n in range(1, 9)]
    checks = {case_id: task_at(runtime, case_id, "Activity_check").id for case_id in ids}
    deploy_version(runtime, V2)
    with runtime.unit_of_work() as uow:
        migration_id = case_migration.start(uow, ADMIN, Plan("permit_review", 1, 2, {}), 2).id
        uow.commit()
    errors: list[BaseException] = []

    def mover() -> None:
        try:
            while case_migration.run_batch(runtime, migration_id, 2):
                pass
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    def staff() -> None:
        try:
            for case_id in ids[::2]:
                complete(runtime, checks[case_id])
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
    threads = [threading.Thread(target=mover), threading.Thread(target=mover), threading.Thread(target=staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with runtime.unit_of_work(write=False) as uow:
        result = case_migration.progress(uow, ADMIN, migration_id)
        migrated = [e.case_id for e in uow.session.query(Event).filter_by(type="migrated")]
        assert sorted(migrated) == sorted(c.id for c in uow.session.query(Case) if c.process_version == 2)
        assert len(migrated) == len(set(migrated))
        for case_id in ids[::2]:
            assert uow.session.get(Task, checks[case_id]).state == "completed"
    # a case completed before its move is at the renamed review: it cannot move without a pair
    assert result["migrated"] + result["skipped"] == 8 and result["failed"] == 0
    for case_id in ids[1::2]:
        assert task_at(runtime, case_id, "Activity_check").id == checks[case_id]


def test_a_case_inside_a_call_activity_waits_and_one_past_it_moves_and_ends(runtime):
    set_aliases(runtime)
    names = ["permit_with_inspection.bpmn", "site_inspection.bpmn"]
    files = [((modeler_corpus.DIR / n).read_bytes(), n) for n in names]
    with runtime.unit_of_work() as uow:
        deploy_files(uow, Actor("dora", "designer"), files)
        inside = cases.start_case(uow, AGENT, "permit_with_inspection", "2026-510117-34-01-000001").case.id
        past = cases.start_case(uow, AGENT, "permit_with_inspection", "2026-510117-34-01-000002").case.id
        uow.commit()
    complete(runtime, task_at(runtime, past, "Activity_visit").id)
    changed = files[0][0].replace(b'name="Issue permit"', b'name="Issue the permit"')
    with runtime.unit_of_work() as uow:
        deploy_files(uow, Actor("dora", "designer"), [(changed, names[0]), files[1]])
        uow.commit()
    with runtime.unit_of_work() as uow:
        migration = case_migration.start(uow, ADMIN, Plan("permit_with_inspection", 1, 2, {}))
        uow.commit()
        migration_id = migration.id
    case_migration.run_batch(runtime, migration_id)
    with runtime.unit_of_work(write=False) as uow:
        result = case_migration.progress(uow, ADMIN, migration_id)
    [skipped] = result["cases"]
    assert skipped["case_id"] == inside and "inside sub-process or call activity 'site_inspection'" in skipped["reason"]
    issue = task_at(runtime, past, "Activity_issue")
    assert issue.name == "Issue the permit"  # the open task reads as the new version names it
    complete(runtime, issue.id)
    with runtime.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, past)
        assert (case.status, case.process_version) == ("completed", 2)


def test_variables_survive_when_a_finished_step_the_new_version_lacks_is_cut_out(two_versions):
    """The review a case already passed is gone from version 2 (no pair maps it): the step is cut
    out of the case's tree, and what the case knows (its variables) stays whole."""
    from engine.adapters import queries
    runtime = two_versions
    case_id = start(runtime, 1)
    complete(runtime, task_at(runtime, case_id, "Activity_check").id, {"documents": ["plan.pdf"]})
    complete(runtime, task_at(runtime, case_id, "Activity_review").id, {"approved": True, "note": "fine"})
    issue = task_at(runtime, case_id, "Activity_issue")
    with runtime.unit_of_work(write=False) as uow:
        before = queries.case_variables(uow, uow.session.get(Case, case_id))
    deploy_version(runtime, V2)
    result = migrate(runtime)
    assert result["migrated"] == 1, result
    with runtime.unit_of_work(write=False) as uow:
        after = queries.case_variables(uow, uow.session.get(Case, case_id))
    assert after == before and after["note"] == "fine" and after["documents"] == ["plan.pdf"]
    assert task_at(runtime, case_id, "Activity_issue").id == issue.id
    complete(runtime, issue.id)
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.get(Case, case_id).status == "completed"


def test_a_boundary_timer_the_new_version_adds_to_an_open_task_starts_at_the_move(two_versions, clock):
    runtime = two_versions
    case_id = start(runtime, 1)
    complete(runtime, task_at(runtime, case_id, "Activity_check").id)
    late = ('<bpmn:boundaryEvent id="Event_review_late" attachedToRef="Activity_review" cancelActivity="false">'
            '<bpmn:outgoing>Flow_late</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H'
            '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
            '<bpmn:userTask id="Activity_chase" name="Chase the review" camunda:candidateGroups="management">'
            '<bpmn:incoming>Flow_late</bpmn:incoming><bpmn:outgoing>Flow_chased</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:endEvent id="Event_chased"><bpmn:incoming>Flow_chased</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="Flow_late" sourceRef="Event_review_late" targetRef="Activity_chase" />'
            '<bpmn:sequenceFlow id="Flow_chased" sourceRef="Activity_chase" targetRef="Event_chased" />'
            '</bpmn:process>')
    text = V1.read_text(encoding="utf-8").replace("</bpmn:process>", late)
    with runtime.unit_of_work() as uow:
        deploy_files(uow, Actor("dora", "designer"), [(text.encode(), V1.name)])
        uow.commit()
    clock.advance(hours=5)
    moved_at = clock()
    with runtime.unit_of_work() as uow:
        migration_id = case_migration.start(uow, ADMIN, Plan("permit_review", 1, 2, {})).id
        uow.commit()
    case_migration.run_batch(runtime, migration_id)
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.get(Case, case_id).process_version == 2
        [job] = timers.pending_jobs(uow, case_id)
    assert moved_at + timedelta(hours=1) <= job.due_at < moved_at + timedelta(hours=1, seconds=1)
    clock.advance(hours=2)
    timers.run_due(runtime)
    chase = task_at(runtime, case_id, "Activity_chase")
    complete(runtime, chase.id)
    complete(runtime, task_at(runtime, case_id, "Activity_review").id, {"approved": True})
    complete(runtime, task_at(runtime, case_id, "Activity_issue").id)
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.get(Case, case_id).status == "completed"


def test_a_renamed_activity_keeps_its_boundary_timer(two_versions, clock):
    runtime = two_versions
    case_id = start(runtime, 1)
    with runtime.unit_of_work(write=False) as uow:
        [job] = timers.pending_jobs(uow, case_id)
        due = job.due_at
    renamed = V1.read_text(encoding="utf-8").replace("Activity_check", "Activity_check_documents")
    with runtime.unit_of_work() as uow:
        deploy_files(uow, Actor("dora", "designer"), [(renamed.encode(), V1.name)])
        uow.commit()
    migrate(runtime, {"Activity_check": "Activity_check_documents"})
    check = task_at(runtime, case_id, "Activity_check_documents")
    with runtime.unit_of_work(write=False) as uow:
        from engine.services.workflow import CaseWorkflow
        workflow = CaseWorkflow.load(uow, uow.session.get(Case, case_id)).workflow
        splits = [t for t in workflow.get_tasks() if t.task_spec.name.endswith("BoundaryEventSplit")]
        [job] = timers.pending_jobs(uow, case_id)
    assert len(splits) == 1 and job.due_at == due
    clock.set(due)
    timers.run_due(runtime)
    complete(runtime, task_at(runtime, case_id, "Activity_remind").id)
    complete(runtime, check.id)
    complete(runtime, task_at(runtime, case_id, "Activity_review").id, {"approved": True})
    complete(runtime, task_at(runtime, case_id, "Activity_issue").id)
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.get(Case, case_id).status == "completed"
