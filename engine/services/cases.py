"""The case verbs: start, complete, claim, unclaim, suspend, resume, cancel, message."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import IntegrityError

from engine.adapters import history
from engine.adapters import project_store
from engine.adapters.models import Case, Task
from engine.adapters.uow import UnitOfWork
from engine.domain import access, batch_rules
from engine.domain import business_key as business_key_rule
from engine.domain import form_binding
from engine.domain.access import Actor
from engine.domain.events import TimersChanged
from engine.domain.states import OPEN_CASE_STATUSES, CaseStatus, TaskStatus, case_move
from engine.errors import Conflict, Invalid, NotFound
from engine.services import timer_jobs
from engine.services.definitions import find_definition
from engine.services.workflow import CaseWorkflow, load_definition, waiting_message_names
from engine.services import event_catalogue
from engine.services import fees as fee_payment
from engine.services.case_access import case_departments, get_case
from engine.services.use_case import use_case



@dataclass
class Started:
    case: Case
    created: bool  # False: an open case for this process and project existed and is returned
    open_tasks: list[Task] | None = None  # the new case's ready task rows (None: read them)


def _open_key(process_key: str, business_key: str) -> str:
    return f"{process_key}\x1f{business_key}"


def _check_variables(variables: Any, project: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(variables, dict):
        errors["variables"] = ["must be an object"]
    if not isinstance(project, dict):
        errors["project"] = ["must be an object"]
    if errors:
        raise Invalid("invalid case input", errors=errors)


@use_case
def start_case(uow: UnitOfWork, actor: Actor, process_key: str, business_key: str,
               project: dict[str, Any] | None = None, variables: dict[str, Any] | None = None,
               version: int | None = None, fired_start_event: str | None = None,
               region: str | None = None) -> Started:
    """Start a case and run it to its first wait; idempotent per open (process, business key).

    The case belongs to the region of the window that accepts it: the agent's department's
    region (`region` may name another only for admins and the system; default: the
    organisation's default region).
    `fired_start_event`: the timer start event that opened this case (the worker's start
    timers); it counts as fired instead of waiting for its timer once more."""
    access.require_role(actor, "agent")
    case_region = access.case_region(actor, uow.organisation, region)
    project, variables = project or {}, variables or {}
    _check_variables(variables, project)
    if not business_key or not business_key.strip():
        raise Invalid("business_key is required", errors={"business_key": ["required"]})
    definition = find_definition(uow, process_key, version)
    key_problem = business_key_rule.problem(definition.elements, definition.key, business_key)
    if key_problem:
        raise Invalid(f"business_key {key_problem}", errors={"business_key": [key_problem]})
    existing = uow.cases.by_open_key(_open_key(process_key, business_key))
    if existing is not None:
        return Started(existing, created=False)
    now = uow.runtime.clock()
    case = Case(
        id=str(uuid.uuid4()), definition_id=definition.id, process_key=definition.key,
        process_version=definition.version, business_key=business_key,
        open_key=_open_key(definition.key, business_key),
        name=project.get("project_name") or project.get("name"), status=CaseStatus.RUNNING, project=project,
        started_by=actor.name, started_at=now, updated_at=now, version=0, state="", region=case_region,
    )
    uow.cases.add(case)
    try:
        # Nothing is written until the workflow has run: the case, its events and task rows go
        # in one flush with the final state (no INSERT then UPDATE of the case). The queries
        # meanwhile (calendar, an error row's look-up) need none of it, so autoflush is off.
        with uow.no_autoflush():
            flow = CaseWorkflow.new(uow, case, definition)
            flow.actor = actor.name
            initial = {"project": project, "business_key": business_key, **variables}
            for task in flow.workflow.get_tasks(end_at_spec="Start"):
                task.data.update(initial)
            if fired_start_event is not None:
                for task in flow.workflow.get_tasks(spec_name=fired_start_event):
                    timer_jobs.mark_fired(task, now)
            history.record(uow, case.id, "started", actor.name,
                           data={"process_key": definition.key, "version": definition.version,
                                 "business_key": business_key, "variables": variables,
                                 "region": case_region})
            event_catalogue.case_changed(uow, case, "case.started", actor.name)
            flow.run()
            created = flow.sync()
            case.state = ""  # written by save(); the first flush happens in its timer scheduling
        flow.save()
        uow.flush()
    except IntegrityError:
        # Another command opened the same case a moment ago: return that one.
        uow.rollback()
        uow.begin()
        existing = uow.cases.by_open_key(case.open_key)
        if existing is None:
            raise
        return Started(existing, created=False)
    ready = sorted((row for row in created if row.state == TaskStatus.READY), key=lambda r: (r.created_at, r.id))
    return Started(case, created=True, open_tasks=ready)


def case_tasks(uow: UnitOfWork, case_id: str) -> list[Task]:
    return uow.tasks.of_case(case_id)


def _task_for_update(uow: UnitOfWork, task_id: str) -> tuple[Task, Case]:
    """Lock the task's case, then read the task: two statements (a task's case never changes,
    so the lock can find it by sub-query; the task is read only once the lock is held, so it is
    never a version from before a concurrent command on the same case committed)."""
    case = uow.lock_case_of_task(task_id)
    if case is None:
        raise NotFound(f"task {task_id} does not exist")
    row = uow.tasks.fresh(task_id)
    return row, case


def _require_task_access(actor: Actor, row: Task, case: Case, uow: UnitOfWork | None = None) -> None:
    if actor.role == "agent" and row.department is None and case.started_by == actor.name:
        return
    if actor.role == "enterprise" and uow is not None:  # its project's 补正 requests (issue 13)
        if _enterprise_may_answer(uow, actor, case, row):
            return
    access.require_task(actor, row.department, row.assignee)


def get_task(uow: UnitOfWork, actor: Actor, task_id: str) -> Task:
    row = uow.tasks.get(task_id)
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    case = uow.cases.get(row.case_id)
    if access.sees_everything(actor) or (actor.role == "agent" and case.started_by == actor.name):
        return row
    if access.is_department_member(actor) and actor.department != row.department:
        watch = access.oversight(actor, uow.organisation)
        if watch is not None and watch.sees_task(case.region or uow.organisation.default_region, row.department):
            return row  # the window or government overseeing the case reads it (works only its own)
    _require_task_access(actor, row, case)
    return row


@use_case
def complete_task(uow: UnitOfWork, actor: Actor, task_id: str, data: dict[str, Any] | None = None) -> Task:
    """Complete a ready task with the form's data, then run the case to its next waits."""
    data = data or {}
    if not isinstance(data, dict):
        raise Invalid("data must be an object", errors={"data": ["must be an object"]})
    row, case = _task_for_update(uow, task_id)
    _require_task_access(actor, row, case, uow)
    if row.state != TaskStatus.READY:
        raise Conflict(f"task {task_id} is already {row.state}")
    if case.status == CaseStatus.SUSPENDED:
        raise Conflict(f"case {case.id} is suspended; resume it first")
    if case.status not in OPEN_CASE_STATUSES:
        raise Conflict(f"case {case.id} is {case.status}")
    if row.assignee and row.assignee != actor.name and row.department is not None and not actor.is_admin:
        raise Conflict(f"task {task_id} is claimed by {row.assignee}")
    meta = load_definition(uow, case.definition_id).elements.get(row.element_id)
    fee_payment.require_fee_paid(uow, row, meta)  # a body's decision may wait for its fee (一窗缴费)
    data = form_binding.bind(actor, case, row, meta, data)
    if row.form_key and row.form_key in uow.runtime.forms:
        data = uow.runtime.forms.validate(row.form_key, data)
    # else: a key naming no deployed form is opaque, the client's business (as in Camunda)
    flow = CaseWorkflow.load(uow, case)
    flow.actor = actor.name
    task = flow.complete(task_id, data)
    now = uow.runtime.clock()
    row.data = data
    if task.state != TaskState.ERROR:  # else completing it failed: its row is `error`, an incident open
        row.state, row.completed_at, row.completed_by = TaskStatus.COMPLETED, now, actor.name
        form_binding.update_project(case, meta, data)
        history.record(uow, case.id, "task_completed", actor.name, task_id=row.id,
                       element_id=row.element_id, data=data)
    flow.sync()
    flow.save()
    return row


@dataclass
class Completed:
    """A completion and what it left open: the case's open tasks the actor may see (the agent all
    of them, a department's staff their department's), so nobody lists tasks to find the next one."""

    task: Task
    case: Case
    open_tasks: list[Task]


@use_case
def complete_and_follow(uow: UnitOfWork, actor: Actor, task_id: str,
                        data: dict[str, Any] | None = None) -> Completed:
    """`complete_task`, then the case's open tasks after it, in one unit of work."""
    row = complete_task(uow, actor, task_id, data)
    case = uow.cases.get(row.case_id)
    return Completed(row, case, open_tasks_for(uow, actor, case))


def open_tasks_for(uow: UnitOfWork, actor: Actor, case: Case) -> list[Task]:
    """The case's open tasks as the actor may see them, oldest first."""
    if actor.role in ("staff", "leader"):
        return uow.tasks.ready_of_department(case.id, actor.department)
    if actor.role == "enterprise":  # the 补正 requests it answers, nothing else
        return uow.tasks.ready_corrections(case.id)
    return uow.tasks.of_case(case.id, TaskStatus.READY)


@use_case
def claim_task(uow: UnitOfWork, actor: Actor, task_id: str) -> Task:
    row, case = _task_for_update(uow, task_id)
    _require_task_access(actor, row, case)
    if row.state != TaskStatus.READY:
        raise Conflict(f"task {task_id} is already {row.state}")
    if row.assignee and row.assignee != actor.name:
        raise Conflict(f"task {task_id} is claimed by {row.assignee}")
    row.assignee = actor.name
    history.record(uow, case.id, "task_claimed", actor.name, task_id=row.id, element_id=row.element_id)
    return row


@use_case
def unclaim_task(uow: UnitOfWork, actor: Actor, task_id: str) -> Task:
    row, case = _task_for_update(uow, task_id)
    _require_task_access(actor, row, case)
    if row.state != TaskStatus.READY:
        raise Conflict(f"task {task_id} is already {row.state}")
    if row.assignee and row.assignee != actor.name and actor.role not in ("leader", "admin"):
        raise Conflict(f"task {task_id} is claimed by {row.assignee}")
    row.assignee = None
    history.record(uow, case.id, "task_unclaimed", actor.name, task_id=row.id, element_id=row.element_id)
    return row


def _case_for_change(uow: UnitOfWork, actor: Actor, case_id: str) -> Case:
    case = uow.lock_case(case_id)
    access.require_case_driver(actor, case.started_by)
    return case


def _move_case(uow: UnitOfWork, actor: Actor, case_id: str, target: CaseStatus, event: str,
               reason: str) -> Case:
    case = _case_for_change(uow, actor, case_id)
    case.status = case_move(case_id, case.status, target)
    case.updated_at = uow.runtime.clock()
    history.record(uow, case.id, event, actor.name, data={"reason": reason})
    event_catalogue.case_changed(uow, case, f"case.{event}", actor.name, reason)
    return case


@use_case
def suspend_case(uow: UnitOfWork, actor: Actor, case_id: str, reason: str = "") -> Case:
    """Pause a case (中止): nothing can be completed until it is resumed."""
    return _move_case(uow, actor, case_id, CaseStatus.SUSPENDED, "suspended", reason)


@use_case
def resume_case(uow: UnitOfWork, actor: Actor, case_id: str, reason: str = "") -> Case:
    """Go on with a suspended case (续办); timers that came due meanwhile fire now."""
    case = _move_case(uow, actor, case_id, CaseStatus.RUNNING, "resumed", reason)
    uow.publish(TimersChanged(case.id))
    return case


@use_case
def cancel_case(uow: UnitOfWork, actor: Actor, case_id: str, reason: str = "") -> Case:
    """End a case early (终止); its open tasks are cancelled and the business key is free again."""
    case = _case_for_change(uow, actor, case_id)
    cancelled = case_move(case_id, case.status, CaseStatus.CANCELLED)
    flow = CaseWorkflow.load(uow, case)
    flow.actor = actor.name
    flow.workflow.cancel()
    case.status, case.ended_at, case.open_key = cancelled, uow.runtime.clock(), None
    history.record(uow, case.id, "cancelled", actor.name, data={"reason": reason})
    event_catalogue.case_changed(uow, case, "case.closed", actor.name, reason)
    flow.sync()
    flow.save()
    return case


@use_case
def deliver_message(uow: UnitOfWork, actor: Actor, case_id: str, name: str,
                    payload: Any = None) -> Case:
    """Deliver a named BPMN message to a case that is waiting for it."""
    if name == batch_rules.MESSAGE:  # a batch of auxiliary items is checked however it comes
        payload = batch_rules.validated(uow.runtime.forms, uow.organisation, payload)
    return deliver(uow, actor, case_id, name, payload)[0]


def deliver(uow: UnitOfWork, actor: Actor, case_id: str, name: str,
            payload: Any = None) -> tuple[Case, list[Task]]:
    """`deliver_message`, also returning the task rows the message made ready."""
    if not name:
        raise Invalid("message name is required", errors={"name": ["required"]})
    case = _case_for_change(uow, actor, case_id)
    if case.status != CaseStatus.RUNNING:
        raise Conflict(f"case {case_id} is {case.status}; messages need a running case")
    flow = CaseWorkflow.load(uow, case)
    flow.actor = actor.name
    waiting = waiting_message_names(flow.workflow)
    if name not in waiting:
        raise Conflict(f"case {case_id} is not waiting for message {name!r}"
                       + (f" (waiting for: {', '.join(sorted(waiting))})" if waiting else ""))
    try:
        # The payload lands in the catching task's data under the message's name.
        flow.workflow.send_event(BpmnEvent(MessageEventDefinition(name),
                                           {"payload": payload, "result_var": name}))
    except WorkflowException as error:
        raise Conflict(str(error)) from error
    history.record(uow, case.id, "message_received", actor.name, data={"name": name, "payload": payload})
    flow.run()
    created = flow.sync()
    flow.save()
    return case, [row for row in created if row.state == TaskStatus.READY]


@use_case
def correlate_message(uow: UnitOfWork, actor: Actor, business_key: str, name: str,
                      payload: Any = None) -> Case:
    """Deliver a message to the open case of a project that waits for it."""
    candidates = uow.cases.running_of_business_key(business_key)
    if not candidates:
        raise NotFound(f"no running case for business key {business_key!r}")
    last_error: Conflict | None = None
    for case in candidates:
        try:
            return deliver_message(uow, actor, case.id, name, payload)
        except Conflict as error:
            last_error = error
    raise Conflict(f"no case of {business_key!r} is waiting for message {name!r}") from last_error


def _enterprise_may_answer(uow: UnitOfWork, actor: Actor, case: Case, task: Task) -> bool:
    """An enterprise contact answers the 补正 requests of its project's cases (correction steps,
    which are the agent's in the shipped process) — and works no other task."""
    return (actor.role == "enterprise" and task.department is None and task.form_key == "correction_response"
            and project_store.is_contact(uow, case.business_key, actor.name))


def with_open_tasks(uow: UnitOfWork, started: Started) -> Started:
    """`started` with its ready task rows read when `start_case` found an existing case."""
    if started.open_tasks is None:
        started.open_tasks = [t for t in case_tasks(uow, started.case.id) if t.state == TaskStatus.READY]
    return started


@use_case
def start(uow: UnitOfWork, actor: Actor, process_key: str, business_key: str, **options: Any) -> Started:
    """`start_case` as a command: its ready tasks are read too when the case existed already."""
    return with_open_tasks(uow, start_case(uow, actor, process_key, business_key, **options))


@use_case
def start_listing_tasks(uow: UnitOfWork, actor: Actor, process_key: str, business_key: str,
                        **options: Any) -> tuple[Started, list[Task]]:
    """`start_case` and every task row of the case (`onewindow cases start` prints the ready ones)."""
    started = start_case(uow, actor, process_key, business_key, **options)
    return started, case_tasks(uow, started.case.id)
