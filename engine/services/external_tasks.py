"""External task use cases: fetch and lock, complete, failure, BPMN error, extend lock, unlock.

A service, send or business rule task with `camunda:type="external"` waits in the workflow
(`engine.domain.bpmn.external_task_spec`); `sync` keeps one `external_tasks` row per waiting task,
which workers fetch by topic. Every verb that changes a case (complete, failure without
retries, BPMN error) locks the case like any other command and ends with `sync` and `save`,
so task rows, incidents, timers and history stay consistent with the workflow.

- A failure with retries left makes the task fetchable again after its retry timeout; with 0
  retries the task is a failed step (SpiffWorkflow state ERROR) with an open incident
  (`engine.services.incidents`), listed at `GET /incidents`. An operator's retry (`engine.services.repair`)
  re-arms it: it waits again, fetchable, with a fresh retry budget.
- A BPMN error is caught by an error boundary event of the task whose code matches (or one
  without a code), else of an enclosing subprocess; uncaught, it is an incident.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy.exc import SQLAlchemyError
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from engine.domain import expressions
from engine.adapters import history
from engine.adapters.spiff_clock import clock_scope
from engine.domain.access import Actor, require_role
from engine.domain import external_tasks as rules
from engine.errors import Conflict, NotFound
from engine.adapters.models import Case, ExternalTaskRow

from engine.services.workflow import CaseWorkflow
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task as SpiffTask

    from engine.runtime import Runtime
    from engine.adapters.uow import UnitOfWork

WORKER_ROLES = ("worker",)  # admins and the system too (`require_role`)


class ExternalTaskFailed(Exception):
    """A worker's failure with no retries left, or an uncaught BPMN error: the step's incident."""

    def __init__(self, message: str, task: "SpiffTask", error_type: str) -> None:
        super().__init__(message)
        self.task = task
        self.error_type = error_type


@dataclass
class Fetched:
    """A locked task and the variables the worker asked for."""

    row: ExternalTaskRow
    variables: dict[str, Any]


# --------------------------------------------------------------------------- fetching


def fetch_and_lock(uow: "UnitOfWork", actor: Actor, worker: Any, topics: Any, max_tasks: Any) -> list[Fetched]:
    """Lock up to `max_tasks` fetchable tasks of the given topics for `worker`, each for its
    topic's lock duration; never a task another worker holds. The caller commits."""
    require_role(actor, *WORKER_ROLES)
    worker = rules.worker_id(worker)
    wanted = rules.topic_requests(topics)
    count = rules.max_tasks(max_tasks)
    by_name = {topic.name: topic for topic in reversed(wanted)}  # the first mention wins
    now = uow.runtime.clock()
    fetched = []
    for row in uow.external_tasks.fetchable(list(by_name), now, count):
        if not rules.is_fetchable(row, now):  # the query's rule, stated once more where it is defined
            continue
        topic = by_name[row.topic]
        row.worker, row.lock_expires_at = worker, now + timedelta(milliseconds=topic.lock_ms)
        fetched.append(Fetched(row, rules.pick_variables(row.variables or {}, topic.variables)))
    uow.external_tasks.flush()
    return fetched


#: The longest a fetch waits for work (Camunda's `asyncResponseTimeout`, long polling). Short:
#: a waiting fetch holds one of the server's synchronous gunicorn workers; it is long enough
#: that an idle worker polling in a loop (the Python client does not sleep between empty
#: answers) asks about once a second instead of hundreds of times.
MAX_WAIT_MS = 1000
POLL_MS = 200


def fetch_and_lock_waiting(runtime: "Runtime", actor: Actor, worker: Any, topics: Any, max_tasks: Any,
                           wait_ms: Any = 0, sleep: Callable[[float], None] = time.sleep) -> list[Fetched]:
    """`fetch_and_lock`, each attempt its own committed unit of work; when nothing is there,
    tries again every `POLL_MS` for up to `wait_ms` (at most `MAX_WAIT_MS`, real time)."""
    wait = wait_ms if isinstance(wait_ms, int) and not isinstance(wait_ms, bool) and wait_ms > 0 else 0
    deadline = time.monotonic() + min(wait, MAX_WAIT_MS) / 1000
    while True:
        with runtime.unit_of_work() as uow:
            fetched = fetch_and_lock(uow, actor, worker, topics, max_tasks)
            uow.commit()
        if fetched or time.monotonic() + POLL_MS / 1000 > deadline:
            return fetched
        sleep(POLL_MS / 1000)


def get(uow: "UnitOfWork", actor: Actor, task_id: str) -> ExternalTaskRow:
    require_role(actor, *WORKER_ROLES)
    row = uow.external_tasks.get(task_id)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist")
    return row


def list_tasks(uow: "UnitOfWork", actor: Actor, **filters: Any) -> list[ExternalTaskRow]:
    require_role(actor, *WORKER_ROLES)
    return uow.external_tasks.listed(now=uow.runtime.clock(), **filters)


# --------------------------------------------------------------------------- the holder's verbs


def _held(uow: "UnitOfWork", actor: Actor, task_id: str, worker: Any) -> tuple[ExternalTaskRow, Case]:
    """Lock the task's case, then its row; the worker must hold it and the case be running."""
    require_role(actor, *WORKER_ROLES)
    worker = rules.worker_id(worker)
    row = uow.external_tasks.get(task_id)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist")
    case = uow.lock_case(row.case_id)
    row = uow.external_tasks.lock(task_id)
    if row is None:  # completed or cancelled while we waited for the case
        raise NotFound(f"external task {task_id} does not exist")
    rules.require_holder(row, worker)
    if case.status == "suspended":
        raise Conflict(f"case {case.id} is suspended; resume it first")
    if case.status != "running":
        raise Conflict(f"case {case.id} is {case.status}")
    return row, case


def _flow(uow: "UnitOfWork", actor: Actor, case: Case, task_id: str) -> tuple["CaseWorkflow", "SpiffTask"]:
    flow = CaseWorkflow.load(uow, case)
    flow.actor = actor.name
    try:
        task = flow.workflow.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        task = None
    if task is None or task._state != TaskState.STARTED:
        raise Conflict(f"external task {task_id} is not waiting in case {case.id}")
    return flow, task


def _steps(flow: "CaseWorkflow", step: Any) -> None:
    """Run `step` and then the case to its next waits; a failing step is an incident, as in
    `CaseWorkflow.complete`."""
    try:
        with clock_scope(flow.uow.runtime.clock), expressions.output_to(flow._script_output):
            step()
    except SQLAlchemyError:
        raise
    except Exception as error:  # noqa: BLE001 - the designer's next step failed: an incident
        flow._record_error(error)
        return
    flow.run()


@use_case
def complete(uow: "UnitOfWork", actor: Actor, task_id: str, worker: Any, variables: Any = None,
             local_variables: Any = None) -> Case:
    """The worker did the task: `variables` go into the case's data, `local_variables` only into
    the history (Camunda keeps them in the task's scope, which ends here); the case runs on."""
    variables = rules.variables_object(variables, "variables")
    local_variables = rules.variables_object(local_variables, "localVariables")
    row, case = _held(uow, actor, task_id, worker)
    flow, task = _flow(uow, actor, case, task_id)
    task.data.update(variables)
    history.record(uow, case.id, "external_task_completed", actor.name, task_id=task_id, element_id=row.element_id,
                   data={"topic": row.topic, "worker": row.worker, "variables": variables,
                         "local_variables": local_variables})
    uow.external_tasks.delete(row)
    _steps(flow, task.complete)
    flow.sync()
    flow.save()
    return case


@use_case
def fail(uow: "UnitOfWork", actor: Actor, task_id: str, worker: Any, message: Any = None, details: Any = None,
         retries: Any = None, retry_timeout: Any = None) -> ExternalTaskRow:
    """The worker could not do the task. Retries left: fetchable again after `retry_timeout`
    (ms). None left: an incident on the step until an operator retries the case."""
    failure = rules.failure(message, details, retries, retry_timeout)
    row, case = _held(uow, actor, task_id, worker)
    now = uow.runtime.clock()
    row.error_message, row.error_details, row.retries = failure.message, failure.details, failure.retries
    row.worker = None
    row.lock_expires_at = now + failure.retry_timeout if failure.retry_timeout else None
    history.record(uow, case.id, "external_task_failed", actor.name, task_id=task_id, element_id=row.element_id,
                   data={"topic": row.topic, "worker": worker, "message": failure.message,
                         "retries": failure.retries,
                         "retry_timeout_ms": int(failure.retry_timeout.total_seconds() * 1000)})
    if failure.retries == 0:
        flow, task = _flow(uow, actor, case, task_id)
        flow._record_error(ExternalTaskFailed(f"{row.topic}: {failure.message}", task, "ExternalTaskFailure"))
        flow.sync()
        flow.save()
    return row


@use_case
def extend_lock(uow: "UnitOfWork", actor: Actor, task_id: str, worker: Any, new_duration: Any) -> ExternalTaskRow:
    """The holder needs longer: its lock now ends `new_duration` ms from now."""
    duration = rules.lock_duration(new_duration)
    require_role(actor, *WORKER_ROLES)
    worker = rules.worker_id(worker)
    row = uow.external_tasks.lock(task_id)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist")
    now = uow.runtime.clock()
    rules.require_live_lock(row, worker, now)
    row.lock_expires_at = now + duration
    return row


@use_case
def unlock(uow: "UnitOfWork", actor: Actor, task_id: str) -> ExternalTaskRow:
    """Give the task back: any worker may fetch it now (Camunda's unlock names no worker)."""
    require_role(actor, *WORKER_ROLES)
    row = uow.external_tasks.lock(task_id)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist")
    row.worker, row.lock_expires_at = None, None
    return row


def _error_boundary(flow: "CaseWorkflow", task: "SpiffTask", code: str) -> "SpiffTask | None":
    """The waiting error boundary event that catches `code` thrown by `task`: one on the task
    itself (an exact code before a catch-all), else on each enclosing (sub)process activity."""
    current: "SpiffTask | None" = task
    for _ in range(100):
        if current is None:
            return None
        parent = current.parent
        candidates = [] if parent is None else [
            sibling for sibling in parent.children
            if sibling is not current and isinstance(sibling.task_spec, BoundaryEvent)
            and isinstance(sibling.task_spec.event_definition, ErrorEventDefinition)
            and sibling._state == TaskState.WAITING]
        exact = [c for c in candidates if c.task_spec.event_definition.code == code]
        catch_all = [c for c in candidates if c.task_spec.event_definition.code in (None, "")]
        if exact or catch_all:
            return (exact or catch_all)[0]
        owner = current.workflow.parent_task_id
        try:
            current = flow.workflow.get_task_from_id(owner) if owner is not None else None
        except TaskNotFoundException:
            return None
    return None


@use_case
def bpmn_error(uow: "UnitOfWork", actor: Actor, task_id: str, worker: Any, code: Any, message: Any = None,
               variables: Any = None) -> Case:
    """The worker reports a business error (`errorCode`): an error boundary event catching the
    code takes the token (the task is cancelled, `variables` go into the case's data); with
    none, the step is an incident naming the code."""
    code = rules.error_code(code)
    variables = rules.variables_object(variables, "variables")
    text = message if isinstance(message, str) else ""
    row, case = _held(uow, actor, task_id, worker)
    flow, task = _flow(uow, actor, case, task_id)
    boundary = _error_boundary(flow, task, code)
    history.record(uow, case.id, "external_task_bpmn_error", actor.name, task_id=task_id, element_id=row.element_id,
                   data={"topic": row.topic, "worker": row.worker, "code": code, "message": text[:2000],
                         "variables": variables,
                         "caught_by": boundary.task_spec.bpmn_id if boundary is not None else None})
    if boundary is None:
        task.data.update(variables)
        row.worker, row.lock_expires_at, row.retries = None, None, 0
        row.error_message = f"BPMN error {code}" + (f": {text}" if text else "")
        flow._record_error(ExternalTaskFailed(f"uncaught BPMN error {code}" + (f": {text}" if text else ""),
                                              task, "BpmnError"))
    else:
        task.data.update(variables)
        event = BpmnEvent(ErrorEventDefinition(code, code=code), payload=dict(variables))

        def catch() -> None:
            boundary.task_spec.catch(boundary, event)
            boundary.task_spec._update(boundary)
        _steps(flow, catch)
    flow.sync()
    flow.save()
    return case


def cases_by_id(uow: "UnitOfWork", case_ids: set[str]) -> dict[str, Case]:
    """The cases of some task rows, one query (for listings in Camunda's shape, which name the
    definition and whether the case is suspended)."""
    return uow.external_tasks.cases_by_id(case_ids)
