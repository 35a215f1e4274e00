"""External tasks (camunda:type="external"): a case waits on them; workers fetch, lock, complete,
fail and report BPMN errors; locks expire; no task goes to two workers; state survives reload."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.services import cases
from engine.services import incidents
from engine.services import repair
from engine.domain.access import Actor
from engine.adapters.serializer import LIVE_WORKFLOWS
from engine.config import Settings
from engine.services.definitions import deploy
from engine.errors import Conflict, Forbidden, Invalid, InvalidDefinition, NotFound
from engine.runtime import Runtime
from engine.services import case_migration
from engine.services import external_tasks as ext
from engine.services.case_migration import Plan
from engine.adapters.models import Case, Event, ExternalTaskRow, Task
from tests.bpmn_text import around
from tests.conftest import BPMN, deploy_file

AGENT = Actor("alice", "agent")
WORKER = Actor("credit-bot", "worker")
ADMIN = Actor("root", "admin")
CREDIT = [{"topicName": "credit-check", "lockDuration": 60_000}]


@pytest.fixture
def deployed(runtime):
    deploy_file(runtime, "external_tasks.bpmn")
    return runtime


def _start(runtime, key="P-1", **variables) -> str:
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, AGENT, "credit_check", key, variables=variables)
        uow.commit()
        return started.case.id


def _fetch(runtime, worker="w1", topics=CREDIT, max_tasks=10, actor=WORKER) -> list[ext.Fetched]:
    with runtime.unit_of_work() as uow:
        fetched = ext.fetch_and_lock(uow, actor, worker, topics, max_tasks)
        uow.commit()
    return fetched


def _do(runtime, verb, *args):
    with runtime.unit_of_work() as uow:
        result = verb(uow, WORKER, *args)
        uow.commit()
    return result


def _rows(runtime) -> list[ExternalTaskRow]:
    with runtime.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(ExternalTaskRow).order_by(ExternalTaskRow.created_at)))


def _case(runtime, case_id) -> Case:
    with runtime.unit_of_work(write=False) as uow:
        return uow.session.get(Case, case_id)


def test_a_case_waits_on_its_external_task_and_a_worker_completes_it(deployed):
    case_id = _start(deployed, amount=5)
    [row] = _rows(deployed)
    assert (row.case_id, row.topic, row.priority, row.element_id, row.worker) == (
        case_id, "credit-check", 5, "Check_credit", None)
    assert _case(deployed, case_id).status == "running"
    [got] = _fetch(deployed)
    assert got.row.id == row.id and got.variables["amount"] == 5 and got.row.worker == "w1"
    _do(deployed, ext.complete, row.id, "w1", {"score": 3}, {"trace": "abc"})
    [notify] = _rows(deployed)
    assert (notify.topic, notify.element_id, notify.variables["score"]) == ("notify", "Notify", 3)
    [sent] = _fetch(deployed, "mailer", [{"topicName": "notify", "lockDuration": 1000, "variables": ["score"]}])
    assert sent.variables == {"score": 3}  # only the variables asked for
    _do(deployed, ext.complete, sent.row.id, "mailer", {})
    [rating] = _fetch(deployed, "rater", [{"topicName": "rating", "lockDuration": 1000}])
    assert rating.row.element_id == "Score_rule"  # a business rule task without decisionRef
    _do(deployed, ext.complete, rating.row.id, "rater", {"rating": "A"})
    assert _case(deployed, case_id).status == "completed" and _rows(deployed) == []
    with deployed.unit_of_work(write=False) as uow:
        types = [e.type for e in uow.session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.id))]
        completed = uow.session.scalar(select(Event).where(Event.type == "external_task_completed")
                                       .order_by(Event.id).limit(1))
    assert types.count("external_task_created") == 3 and types.count("external_task_completed") == 3
    assert completed.data["local_variables"] == {"trace": "abc"} and completed.actor == "credit-bot"


def test_a_locked_task_goes_to_nobody_else_until_its_lock_expires(deployed, clock):
    _start(deployed)
    [first] = _fetch(deployed, "w1", [{"topicName": "credit-check", "lockDuration": 5000}])
    assert _fetch(deployed, "w2") == []
    with pytest.raises(Conflict, match="locked by worker 'w1'"):
        _do(deployed, ext.complete, first.row.id, "w2", {})
    clock.advance(seconds=6)
    [again] = _fetch(deployed, "w2")
    assert again.row.id == first.row.id and again.row.worker == "w2"
    with pytest.raises(Conflict, match="cannot be finished by worker 'w1': it is locked by worker 'w2'"):
        _do(deployed, ext.complete, first.row.id, "w1", {})
    _do(deployed, ext.complete, first.row.id, "w2", {})


def test_the_holder_may_finish_after_its_lock_expired_if_nobody_fetched_it(deployed, clock):
    _start(deployed)
    [got] = _fetch(deployed, "w1", [{"topicName": "credit-check", "lockDuration": 1000}])
    clock.advance(seconds=5)
    _do(deployed, ext.complete, got.row.id, "w1", {})
    assert [r.topic for r in _rows(deployed)] == ["notify"]


def test_extend_lock_and_unlock(deployed, clock):
    _start(deployed)
    [got] = _fetch(deployed, "w1", [{"topicName": "credit-check", "lockDuration": 1000}])
    with pytest.raises(Conflict, match="locked by worker 'w1'"):
        _do(deployed, ext.extend_lock, got.row.id, "w2", 60_000)
    row = _do(deployed, ext.extend_lock, got.row.id, "w1", 60_000)
    assert row.lock_expires_at == clock.now + __import__("datetime").timedelta(seconds=60)
    clock.advance(seconds=30)
    assert _fetch(deployed, "w2") == []  # still held after the first second
    clock.advance(seconds=31)
    with pytest.raises(Conflict, match="expired"):
        _do(deployed, ext.extend_lock, got.row.id, "w1", 1000)
    [taken] = _fetch(deployed, "w2")
    _do(deployed, ext.unlock, taken.row.id)
    [back] = _fetch(deployed, "w3")
    assert back.row.worker == "w3"


def test_a_failure_with_retries_waits_for_its_retry_timeout(deployed, clock):
    _start(deployed)
    [got] = _fetch(deployed)
    row = _do(deployed, ext.fail, got.row.id, "w1", "service down", "Traceback ...", 2, 10_000)
    assert (row.retries, row.error_message, row.error_details, row.worker) == (2, "service down", "Traceback ...", None)
    assert _fetch(deployed, "w2") == []
    clock.advance(seconds=11)
    [again] = _fetch(deployed, "w2")
    assert again.row.retries == 2 and again.row.error_message == "service down"


def test_no_retries_left_is_an_incident_an_operator_retries(deployed, clock):
    case_id = _start(deployed)
    [got] = _fetch(deployed)
    _do(deployed, ext.fail, got.row.id, "w1", "certificate expired", None, 0, 0)
    assert _fetch(deployed, "w2") == []
    with deployed.unit_of_work(write=False) as uow:
        [incident] = incidents.case_incidents(uow, case_id)
        task_row = uow.session.get(Task, got.row.id)
    assert (incident.element_id, incident.error_type, incident.state) == ("Check_credit", "ExternalTaskFailure", "open")
    assert "certificate expired" in incident.message and task_row.state == "error"
    assert _case(deployed, case_id).error.startswith("Check_credit: credit-check: certificate expired")
    with deployed.unit_of_work() as uow:
        result = repair.retry_case(uow, ADMIN, case_id, "certificate renewed")
        uow.commit()
    assert result.incidents == []
    [again] = _fetch(deployed, "w2")
    assert again.row.id == got.row.id and again.row.retries is None
    _do(deployed, ext.complete, again.row.id, "w2", {})
    assert _case(deployed, case_id).error is None


def test_a_bpmn_error_is_caught_by_the_error_boundary_event(deployed):
    case_id = _start(deployed)
    [got] = _fetch(deployed)
    _do(deployed, ext.bpmn_error, got.row.id, "w1", "REFUSED", "blacklisted", {"reason": "blacklist"})
    assert _rows(deployed) == []
    with deployed.unit_of_work(write=False) as uow:
        [ready] = [t for t in cases.case_tasks(uow, case_id) if t.state == "ready"]
    assert ready.element_id == "Explain_refusal"
    with deployed.unit_of_work() as uow:
        cases.complete_task(uow, AGENT, ready.id, {})
        uow.commit()
    assert _case(deployed, case_id).status == "completed"


def test_an_uncaught_bpmn_error_is_an_incident(deployed):
    case_id = _start(deployed)
    [got] = _fetch(deployed)
    _do(deployed, ext.bpmn_error, got.row.id, "w1", "UNKNOWN_CODE", "no such project", None)
    with deployed.unit_of_work(write=False) as uow:
        [incident] = incidents.case_incidents(uow, case_id)
    assert incident.error_type == "BpmnError" and "UNKNOWN_CODE" in incident.message
    assert _fetch(deployed, "w2") == []


def test_verbs_refuse_bad_input_and_other_roles(deployed):
    _start(deployed)
    with pytest.raises(Forbidden):
        _fetch(deployed, actor=AGENT)
    with pytest.raises(Invalid) as error:
        _fetch(deployed, topics=[{"topicName": "credit-check", "lockDuration": 0}])
    assert "topics.0.lockDuration" in error.value.errors
    with pytest.raises(Invalid):
        _fetch(deployed, worker="")
    with pytest.raises(NotFound):
        _do(deployed, ext.complete, "no-such-task", "w1", {})
    [got] = _fetch(deployed)
    with pytest.raises(Invalid) as error:
        _do(deployed, ext.fail, got.row.id, "w1", "x", None, -1, 0)
    assert "retries" in error.value.errors
    assert _rows(deployed)[0].retries is None  # nothing changed


def test_a_suspended_case_hides_its_tasks_and_a_cancelled_one_drops_them(deployed):
    case_id = _start(deployed)
    with deployed.unit_of_work() as uow:
        cases.suspend_case(uow, AGENT, case_id, "waiting for documents")
        uow.commit()
    assert _fetch(deployed) == []
    with deployed.unit_of_work() as uow:
        cases.resume_case(uow, AGENT, case_id)
        cases.cancel_case(uow, AGENT, case_id, "withdrawn")
        uow.commit()
    assert _rows(deployed) == []


def test_the_waiting_task_survives_a_reload_from_storage(deployed, database_url, clock):
    case_id = _start(deployed)
    [got] = _fetch(deployed)
    LIVE_WORKFLOWS.clear()
    fresh = Runtime(Settings(database_url=database_url), clock=clock)  # another process: no caches
    try:
        with fresh.unit_of_work() as uow:
            ext.complete(uow, WORKER, got.row.id, "w1", {"score": 1})
            uow.commit()
        assert [r.topic for r in _rows(fresh)] == ["notify"]
    finally:
        fresh.close()
    assert _case(deployed, case_id).status == "running"


def test_concurrent_fetchers_never_share_a_task(deployed):
    ids = {_start(deployed, key=f"P-{i}") for i in range(24)}
    assert len(ids) == 24
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def fetcher(name: str) -> None:
        try:
            while True:
                got = _fetch(deployed, name, max_tasks=3)
                if not got:
                    return
                with lock:
                    taken.extend(f.row.id for f in got)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=fetcher, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(taken) == 24 and len(set(taken)) == 24
    assert {r.worker for r in _rows(deployed)} <= {f"w{i}" for i in range(6)}


@pytest.mark.parametrize("element, message", [
    ('<bpmn:sendTask id="T" camunda:class="com.example.Mail"><bpmn:incoming>F1</bpmn:incoming>'
     '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:sendTask>', "sendTask T: camunda:class (Java code) cannot run here"),
    ('<bpmn:businessRuleTask id="T" camunda:delegateExpression="${rules}"><bpmn:incoming>F1</bpmn:incoming>'
     '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:businessRuleTask>', "businessRuleTask T: camunda:delegateExpression"),
    ('<bpmn:serviceTask id="T"><bpmn:extensionElements><camunda:connector><camunda:connectorId>http-connector'
     '</camunda:connectorId></camunda:connector></bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming>'
     '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>', "serviceTask T: camunda:connector cannot run here"),
], ids=["send-class", "rule-delegate", "connector"])
def test_java_delegates_and_connectors_are_refused_naming_file_line_and_element(runtime, element, message):
    with runtime.unit_of_work() as uow, pytest.raises(InvalidDefinition) as error:
        deploy(uow, Actor("dora", "designer"), around("    " + element), "delegates.bpmn")
    [problem] = [p for p in error.value.problems if "camunda:type" in p]
    assert problem.startswith(f"delegates.bpmn:8: {message}") and 'use camunda:type="external"' in problem


def test_a_fetch_waits_briefly_for_work_that_arrives(deployed):
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        if not calls:
            _start(deployed, key="P-late")  # work arrives while the fetch waits
        calls.append(seconds)

    got = ext.fetch_and_lock_waiting(deployed, WORKER, "w1", CREDIT, 1, 30_000, sleep=sleep)
    assert len(got) == 1 and got[0].row.business_key == "P-late" and len(calls) == 1
    calls.clear()
    counted = []
    empty = ext.fetch_and_lock_waiting(deployed, WORKER, "w1", CREDIT, 1, 60_000,
                                       sleep=lambda s: (counted.append(s), __import__("time").sleep(s)))
    assert empty == [] and len(counted) <= ext.MAX_WAIT_MS // ext.POLL_MS  # capped at a second, not a minute
    assert ext.fetch_and_lock_waiting(deployed, WORKER, "w1", CREDIT, 1, 0,
                                      sleep=lambda s: pytest.fail("no wait was asked for")) == []


def _ready(runtime, case_id) -> list[str]:
    with runtime.unit_of_work(write=False) as uow:
        return [t.element_id for t in cases.case_tasks(uow, case_id) if t.state == "ready"]


@pytest.fixture
def structures(runtime):
    deploy_file(runtime, "external_tasks_structures.bpmn")
    return runtime


def _start_records(runtime, records) -> str:
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, AGENT, "record_exchange", "R-1", variables={"records": records})
        uow.commit()
        return started.case.id


def test_a_multi_instance_external_task_has_one_task_per_item(structures):
    case_id = _start_records(structures, ["land", "tax", "credit"])
    fetched = _fetch(structures, topics=[{"topicName": "fetch-record", "lockDuration": 1000}])
    assert sorted(f.variables["record"] for f in fetched) == ["credit", "land", "tax"]
    for f in fetched:
        _do(structures, ext.complete, f.row.id, "w1", {"found": True})
    [verify] = _fetch(structures, topics=[{"topicName": "verify", "lockDuration": 1000}])
    assert verify.row.element_id == "Verify" and verify.row.case_id == case_id


def test_a_bpmn_error_inside_a_subprocess_is_caught_at_the_subprocess(structures):
    case_id = _start_records(structures, ["land"])
    [record] = _fetch(structures, topics=[{"topicName": "fetch-record", "lockDuration": 1000}])
    _do(structures, ext.complete, record.row.id, "w1", {})
    [verify] = _fetch(structures, topics=[{"topicName": "verify", "lockDuration": 1000}])
    _do(structures, ext.bpmn_error, verify.row.id, "w1", "INVALID", "tax record missing", None)
    assert _rows(structures) == [] and _ready(structures, case_id) == ["Fix_records"]


def test_a_boundary_timer_takes_the_token_from_a_slow_worker(structures, clock):
    from engine.services import timers
    case_id = _start_records(structures, ["land"])
    [record] = _fetch(structures, topics=[{"topicName": "fetch-record", "lockDuration": 1000}])
    _do(structures, ext.complete, record.row.id, "w1", {})
    [verify] = _fetch(structures, topics=[{"topicName": "verify", "lockDuration": 1000}])
    _do(structures, ext.complete, verify.row.id, "w1", {})
    [archive] = _fetch(structures, "slow", [{"topicName": "archive", "lockDuration": 7_200_000}])
    clock.advance(hours=1, minutes=1)
    timers.run_due(structures)
    assert _rows(structures) == [] and _ready(structures, case_id) == ["Archive_by_hand"]
    with pytest.raises(NotFound):
        _do(structures, ext.complete, archive.row.id, "slow", {})


def test_a_waiting_external_task_follows_its_case_to_a_new_version(deployed):
    """Case migration (issue 12): the row keeps its id and lock, names the new version and the
    mapped element, and the worker that holds it completes it on the new version."""
    case_id = _start(deployed, amount=5)
    [got] = _fetch(deployed, "w1")
    renamed = (BPMN / "external_tasks.bpmn").read_text().replace('"Check_credit"', '"Check_credit_v2"') \
        .replace('targetRef="Check_credit"', 'targetRef="Check_credit_v2"') \
        .replace('sourceRef="Check_credit"', 'sourceRef="Check_credit_v2"') \
        .replace('attachedToRef="Check_credit"', 'attachedToRef="Check_credit_v2"')
    with deployed.unit_of_work() as uow:
        deploy(uow, Actor("dora", "designer"), renamed.encode(), "external_tasks.bpmn")
        uow.commit()
    with deployed.unit_of_work() as uow:
        migration = case_migration.start(uow, ADMIN, Plan("credit_check", 1, 2, {"Check_credit": "Check_credit_v2"}), 10)
        uow.commit()
    while case_migration.run_batch(deployed, migration.id):
        pass
    [row] = _rows(deployed)
    assert (row.id, row.worker, row.element_id) == (got.row.id, "w1", "Check_credit_v2")
    assert row.definition_id == _case(deployed, case_id).definition_id != got.row.definition_id
    _do(deployed, ext.complete, row.id, "w1", {"score": 7})
    [row] = _rows(deployed)
    assert row.topic == "notify"
