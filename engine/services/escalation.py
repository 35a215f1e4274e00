"""Three-level coordination (三级协调) of overdue tasks, following the case's region.

A task turning red raises level 1 (the window of the case's region: county.zwfw for a 郫都区
case, jingyang.zwfw for a 旌阳区 one). Unresolved after the policy's `escalation_after`
(1 working day by default), level 2 goes to the leaders (only the leaders) of the item's own
body, wherever it sits (a city body for a county case's city item); after as long again, level
3 to the government of the case's region. Levels and bodies come from `coordination` in the
organisation. Each level is a row in `escalations` and an `escalated` event in the case
history; completing the task resolves them, and so may the body handling the current level.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any


from engine.services import event_catalogue
from engine.adapters import history
from engine.adapters.models import Escalation, Task
from engine.domain import access
from engine.domain.events import TimersChanged
from engine.domain.states import TaskStatus
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.domain.access import Actor
    from engine.adapters.uow import UnitOfWork

OPEN = "open"
STATUSES = ("open", "escalated", "resolved")


def open_escalation(uow: "UnitOfWork", task_id: str) -> Escalation | None:
    return uow.escalations.open_of_task(task_id)


def raise_level(uow: "UnitOfWork", row: Task, level: int, reason: str) -> Escalation | None:
    """Raise `level` for an overdue task (idempotent: an existing level is returned as is)."""
    existing = uow.escalations.at_level(row.id, level)
    if existing is not None:
        return existing
    organisation = uow.organisation
    levels = {c.level for c in organisation.coordination_levels}
    if level not in levels:
        return None
    now = uow.runtime.clock()
    case = uow.cases.get(row.case_id)
    region = (case.region if case is not None else None) or organisation.default_region
    # A task with no department (the agent's own) escalates to its window at level 2 as well.
    body, role = organisation.coordinator_for(level, row.department, region)
    next_at = None
    if level + 1 in levels:
        calendar = uow.runtime.calendars.calendar(uow)
        next_at = calendar.add(now, uow.runtime.time_policy.escalation_after)
    previous = open_escalation(uow, row.id)
    if previous is not None:
        previous.status, previous.next_at = "escalated", None
    escalation = Escalation(case_id=row.case_id, task_id=row.id, level=level, department=body.code,
                            role=role, item_department=row.department, status=OPEN, reason=reason,
                            raised_at=now, next_at=next_at)
    uow.escalations.add_now(escalation)
    history.record(uow, row.case_id, "escalated", "system", task_id=row.id, element_id=row.element_id,
                   data={"escalation_id": escalation.id, "level": level, "department": body.code,
                         "department_name": body.name_zh, "role": role, "reason": reason,
                         "item_department": row.department,
                         "due_at": row.due_at.isoformat() if row.due_at else None})
    event_catalogue.escalation_raised(uow, escalation, row)  # the outbox (issue 13)
    return escalation


def advance_due(uow: "UnitOfWork", case_id: str, now: datetime) -> list[Escalation]:
    """Raise the next level for every open escalation of the case whose time is up."""
    raised = []
    for escalation in uow.escalations.due_of_case(case_id, now):
        row = uow.tasks.get(escalation.task_id)
        if row is None or row.state != TaskStatus.READY:
            continue
        new = raise_level(uow, row, escalation.level + 1,
                          f"level {escalation.level} unresolved since {escalation.raised_at.isoformat()}")
        if new is not None:
            raised.append(new)
    return raised


def resolve_for_closed_tasks(uow: "UnitOfWork", case_id: str, now: datetime) -> None:
    """Close the escalations of tasks that are no longer open (answered, cancelled, consented)."""
    if uow.cases.is_new(case_id):
        return  # a case being started in this unit of work has no escalations (saves a query)
    for escalation in uow.escalations.of_case(case_id, OPEN, "escalated"):
        row = uow.tasks.get(escalation.task_id)
        if row is not None and row.state == TaskStatus.READY:
            continue
        if escalation.status == OPEN:
            history.record(uow, case_id, "escalation_resolved", row.completed_by if row else None,
                           task_id=escalation.task_id,
                           data={"escalation_id": escalation.id, "level": escalation.level,
                                 "reason": f"task {row.state if row else 'gone'}"})
        escalation.status, escalation.next_at = "resolved", None
        escalation.resolved_at = now
        escalation.resolved_by = (row.completed_by if row else None) or "system"


@use_case
def resolve(uow: "UnitOfWork", actor: "Actor", escalation_id: int, note: str = "") -> Escalation:
    """The body handling an open level records it as coordinated; no further level is raised."""
    escalation = uow.escalations.get(escalation_id)
    if escalation is None:
        raise NotFound(f"escalation {escalation_id} does not exist")
    uow.lock_case(escalation.case_id)
    uow.escalations.reload(escalation)
    if not (actor.is_admin or (actor.department == escalation.department
                               and access.can_see_escalation(actor, escalation.department, escalation.role))):
        who = "the leaders of " if escalation.role == "leaders" else ""
        raise Forbidden(f"{actor.name} may not resolve an escalation addressed to {who}{escalation.department}")
    if escalation.status != OPEN:
        raise Conflict(f"escalation {escalation_id} is {escalation.status}")
    now = uow.runtime.clock()
    escalation.status, escalation.next_at = "resolved", None
    escalation.resolved_at, escalation.resolved_by = now, actor.name
    history.record(uow, escalation.case_id, "escalation_resolved", actor.name, task_id=escalation.task_id,
                   data={"escalation_id": escalation.id, "level": escalation.level, "note": note})
    uow.publish(TimersChanged(escalation.case_id))
    return escalation


def list_escalations(uow: "UnitOfWork", actor: "Actor", *, status: str | None = None,
                     level: int | None = None, department: str | None = None,
                     case_id: str | None = None, region: str | None = None,
                     limit: int = 100, offset: int = 0) -> list[Escalation]:
    """Escalations the actor may see: admins all; government, staff and leaders those addressed
    to their own body — a `leaders` level (level 2) only its leaders (government with no
    department: all); agents those of their own cases. `region`: cases of that region or a
    region below it."""
    scope = access.scope(actor, "escalations")
    if status is not None and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", {"status": ["unknown status"]})
    return uow.escalations.listing(
        body=scope.department, leaders=actor.role == "leader", agent=scope.agent,
        organisation=uow.organisation if region is not None else None, region=region,
        status=status, level=level, department=department, case_id=case_id, limit=limit, offset=offset)


def as_dict(escalation: Escalation) -> dict[str, Any]:
    return {c: getattr(escalation, c) for c in (
        "id", "case_id", "task_id", "level", "department", "role", "item_department", "status",
        "reason", "raised_at", "next_at", "resolved_at", "resolved_by")}


__all__ = ["raise_level", "advance_due", "resolve", "list_escalations", "as_dict", "access"]
