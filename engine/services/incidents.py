"""Incidents: failed steps of a case that wait for an operator (Camunda's and Flowable's term).

A step that fails — a script error, a department the organisation does not know, a due date the
calendar cannot compute, a bad timer value, a case the background worker cannot process — does
not undo the command that reached it. The rest of the case goes on; the failed step keeps its
token (SpiffWorkflow task state ERROR, task row state `error`) and an open incident says what
failed, where, when and how often it was retried. It is resolved when the step runs on a retry,
when an operator moves the token away, or when the case ends. The repairs themselves (retry,
variables, move) are in `engine/services/repair.py`.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task as SpiffTask
from sqlalchemy import select

from engine.adapters import history
from engine.adapters.models import Case, Incident
from engine.adapters.queries import _paged
from engine.domain import access
from engine.domain.access import Actor
from engine.errors import Forbidden

if TYPE_CHECKING:
    from engine.adapters.queries import Page
    from engine.adapters.uow import UnitOfWork
    from engine.services.workflow import CaseWorkflow

STATES = ("open", "resolved")
KINDS = ("step", "job")
RESOLUTIONS = ("retried", "moved", "cancelled")
MAX_MESSAGE = 2000
#: A case the worker failed to process this many times running gets a `job` incident, and its
#: jobs wait for an operator's retry instead of failing every few minutes forever.
JOB_ATTEMPTS = 3
PARKED = "incident"  # `timer_jobs.claimed_by` of a job held back by an open job incident

_source: contextvars.ContextVar[str] = contextvars.ContextVar("onewindow_incident_source", default="command")


@contextlib.contextmanager
def raised_by(source: str) -> Iterator[None]:
    """Within the block, new incidents say they came from `source` (`worker`; default `command`)."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def message_of(error: BaseException) -> str:
    """The first line of an error, as operators read it in lists (the full text is in the log)."""
    text = str(error).strip()
    detail = getattr(error, "detail", None)
    if isinstance(detail, str) and detail:
        text = detail
    line = text.splitlines()[0].strip().rstrip(". ") if text else type(error).__name__
    for attribute, what in (("data_input", "data input"), ("data_output", "data output")):
        variable = getattr(getattr(error, attribute, None), "bpmn_id", None)
        if variable:  # SpiffWorkflow's "Missing data output" does not say which
            line += f" ({what} {variable!r})"
    return line[:MAX_MESSAGE]


def error_type_of(error: BaseException) -> str:
    """SpiffWorkflow wraps a script's exception and names it in `error_type`."""
    wrapped = getattr(error, "error_type", None)
    if isinstance(wrapped, str) and wrapped and wrapped != "unknown":
        return wrapped[:120]
    return type(error).__name__[:120]


def failed_task(error: BaseException) -> "SpiffTask | None":
    """The SpiffWorkflow task an error belongs to: the one SpiffWorkflow names, else the innermost
    `my_task` on the traceback (an error raised while a task was being updated, e.g. a timer
    whose value in the case data is not a duration, carries no task)."""
    task = getattr(error, "task", None)
    if isinstance(task, SpiffTask):
        return task
    found = None
    trace = error.__traceback__
    while trace is not None:
        candidate = trace.tb_frame.f_locals.get("my_task")
        if isinstance(candidate, SpiffTask):
            found = candidate
        trace = trace.tb_next
    return found


# --------------------------------------------------------------------------- recording


def _open_by_task(flow: "CaseWorkflow") -> dict[str | None, Incident]:
    """The case's open incidents by task id, read once per command (the flow keeps them, so
    incidents added in this command are found before they are flushed)."""
    cached = getattr(flow, "_open_incidents", None)
    if cached is None:
        cached = {}
        if flow.case.error is not None:  # no open incident without an error text on the case
            for row in flow.uow.incidents.open_by_id(flow.case.id):
                cached.setdefault(row.task_id, row)
        flow._open_incidents = cached
    return cached


def open_incident(flow: "CaseWorkflow", task: "SpiffTask | None", error: BaseException,
                  department: str | None = None, kind: str = "step") -> Incident:
    """Record that `task` (or the case, for a job) failed: a new open incident, or the one
    already open for the same step, updated with the newest error. Keeps `case.error`."""
    uow, case = flow.uow, flow.case
    now = uow.runtime.clock()
    message, error_type = message_of(error), error_type_of(error)
    task_id = str(task.id) if task is not None else None
    element = task.task_spec.bpmn_id if task is not None else None
    opened = _open_by_task(flow)
    incident = opened.get(task_id)
    if incident is None:
        incident = Incident(
            case_id=case.id, process_key=case.process_key, business_key=case.business_key, kind=kind,
            task_id=task_id, element_id=element or (task.task_spec.name if task is not None else None),
            element_name=(task.task_spec.bpmn_name or element) if task is not None else None,
            department=department, error_type=error_type, message=message, source=_source.get(),
            created_at=now, created_by=flow.actor, last_failed_at=now, retries=0, state="open")
        uow.incidents.add(incident)
        opened[task_id] = incident
    else:
        incident.message, incident.error_type, incident.last_failed_at = message, error_type, now
        if department is not None:
            incident.department = department
    case.error = f"{element}: {message}" if element else message
    history.record(uow, case.id, "error", flow.actor, task_id=task_id, element_id=element,
                   data={"message": message, "error_type": error_type, "retries": incident.retries,
                         "source": incident.source})
    return incident


def resolve(uow: "UnitOfWork", incident: Incident, by: str | None, how: str) -> None:
    """Close an incident (`how`: retried, moved, cancelled) and say so in the case's history."""
    if incident.state != "open":
        return
    incident.state, incident.resolution = "resolved", how
    incident.resolved_at, incident.resolved_by = uow.runtime.clock(), by
    history.record(uow, incident.case_id, "incident_resolved", by, task_id=incident.task_id,
                   element_id=incident.element_id,
                   data={"incident": incident.id, "resolution": how, "retries": incident.retries})


def resolve_step(flow: "CaseWorkflow", task_id: str, how: str) -> None:
    """The failed step `task_id` ran, was moved away from or went away: close its incident."""
    incident = _open_by_task(flow).pop(task_id, None)
    if incident is not None:
        resolve(flow.uow, incident, flow.actor, how)


def resolve_jobs(flow: "CaseWorkflow", how: str) -> None:
    """Close the case's incidents that name no failed step (the worker's), e.g. after a retry ran."""
    opened = _open_by_task(flow)
    for task_id, incident in list(opened.items()):
        if incident.kind == "job" or task_id is None:
            opened.pop(task_id)
            resolve(flow.uow, incident, flow.actor, how)


def open_incidents(flow: "CaseWorkflow") -> list[Incident]:
    """The case's open incidents, oldest first."""
    return sorted(_open_by_task(flow).values(), key=lambda i: (i.created_at, i.id or 0))


def refresh_case_error(flow: "CaseWorkflow") -> None:
    """`case.error` is the newest open incident's text, or None once none is open."""
    if getattr(flow, "_open_incidents", None) is None and flow.case.error is None:
        return
    remaining = open_incidents(flow)
    if not remaining:
        flow.case.error = None
        return
    newest = max(remaining, key=lambda i: (i.last_failed_at, i.id or 0))
    flow.case.error = f"{newest.element_id}: {newest.message}" if newest.element_id else newest.message


# --------------------------------------------------------------------------- the worker's own failures


def job_failed(uow: "UnitOfWork", case_id: str, job_ids: list[int], error: BaseException,
               worker: str) -> Incident | None:
    """The worker could not process a case (its tick raised and was rolled back).

    After `JOB_ATTEMPTS` failures in a row of one of the case's jobs, the case gets a `job`
    incident and its failing jobs are parked until an operator retries (no endless retries
    every five minutes, as a Camunda job whose retries ran out). Returns the incident, if any.
    """
    jobs = uow.jobs.by_ids(job_ids)
    exhausted = [job for job in jobs if (job.attempts or 0) >= JOB_ATTEMPTS]
    if not exhausted:
        return None
    case = uow.cases.get(case_id)
    if case is None:
        return None
    case = uow.lock_case(case_id)
    far = uow.runtime.clock() + timedelta(days=365 * 100)
    for job in exhausted:
        job.claimed_by, job.lease_until = PARKED, far
    row = uow.tasks.get(exhausted[0].task_id) if exhausted[0].kind != "timer" else None
    flow = _RecordOnly(uow, case)
    with raised_by("worker"):
        incident = open_incident(flow, None, error, department=row.department if row else None, kind="job")
    incident.element_id = incident.element_id or (row.element_id if row else None)
    incident.element_name = incident.element_name or (row.name if row else None)
    incident.message = f"worker ({exhausted[0].kind} job, {exhausted[0].attempts} attempts): {incident.message}"[
        :MAX_MESSAGE]
    case.error = incident.message
    return incident


class _RecordOnly:
    """What `open_incident` needs of a flow, for a case whose workflow could not be processed."""

    def __init__(self, uow: "UnitOfWork", case: Case) -> None:
        self.uow, self.case, self.actor = uow, case, "system"


def release_parked_jobs(uow: "UnitOfWork", case_id: str) -> int:
    """Let the worker claim the case's parked jobs again (after a retry). Returns how many."""
    jobs = [job for job in uow.jobs.of_case(case_id) if job.claimed_by == PARKED]
    for job in jobs:
        job.claimed_by, job.lease_until, job.attempts = None, None, 0
    return len(jobs)


# --------------------------------------------------------------------------- listing


def list_incidents(uow: "UnitOfWork", actor: Actor, *, state: str = "open", process_key: str | None = None,
                   element_id: str | None = None, department: str | None = None, since: datetime | None = None,
                   case_id: str | None = None, page: int = 1, per_page: int = 50) -> "Page":
    """Incidents the actor may see, newest first (`access.scope`): admins and government bound to
    no body all, an agent those of the cases it started, department members (staff, leaders,
    government of a body) those at their body's steps.
    `state`: open (default), resolved, or all."""
    query = select(Incident)
    scope = access.scope(actor, "incidents")
    if scope.agent is not None:
        query = query.join(Case, Case.id == Incident.case_id).where(Case.started_by == scope.agent)
    elif scope.department is not None:
        if department is not None and department != scope.department:
            raise Forbidden(f"{actor.name} may not see the incidents of department {department}")
        department = scope.department
    if state != "all":
        query = query.where(Incident.state == state)
    if process_key is not None:
        query = query.where(Incident.process_key == process_key)
    if element_id is not None:
        query = query.where(Incident.element_id == element_id)
    if department is not None:
        query = query.where(Incident.department == department)
    if since is not None:
        query = query.where(Incident.created_at >= since)
    if case_id is not None:
        query = query.where(Incident.case_id == case_id)
    return _paged(uow, query, (Incident.created_at.desc(), Incident.id.desc()), page, per_page)


def case_incidents(uow: "UnitOfWork", case_id: str, state: str = "open") -> list[Incident]:
    return uow.incidents.of_case(case_id, state)


def as_row(incident: Incident) -> dict[str, Any]:
    return {column.name: getattr(incident, column.name) for column in Incident.__table__.columns}
