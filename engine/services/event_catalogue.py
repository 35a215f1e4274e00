"""The event catalogue: every event type the outbox carries, its payload and who is told.

One function per kind of change, called at the single place the engine makes that change
(workflow sync, the worker's warning pass, escalation, clock stops, case verbs). Each builds
the payload integrators see in webhook bodies (documented in docs/api.md, "Event catalogue")
and names the recipients of the in-app notification.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.adapters import project_store
from engine.services.outbox import publish
from engine.adapters.models import Case, Escalation, Task

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

#: Every event type, with what it means (the webhook subscription checks names against these).
EVENT_TYPES: dict[str, str] = {
    "case.started": "a case was opened for a project (for integrators; the agent started it)",
    "case.suspended": "a case was suspended (中止); told to its agent",
    "case.resumed": "a suspended case goes on (续办); told to its agent",
    "case.closed": "a case ended: completed (办结) or cancelled (终止); told to its agent",
    "task.ready": "a task is waiting in a department's inbox (or the agent's own task)",
    "task.yellow": "a task's deadline is near (预警); told to whoever claimed it, else its department",
    "task.red": "a task is overdue (超期); told to whoever claimed it, else its department",
    "escalation.raised": "an overdue task was escalated to a coordination level (三级协调)",
    "correction.requested": "materials must be corrected (补正): the enterprise, through its agent, must act",
    "question.asked": "an enterprise question addressed to a body (24-hour rule)",
    "question.answered": "a body answered a question",
    "question.yellow": "a question's answer is due soon (18 of its 24 hours gone); told to the addressed body",
    "question.red": "a question was not answered in time; told to the addressed body",
    "question.escalated": "an unanswered question went to a coordination level; told to the coordinating body",
    "question.coordinated": "a coordinating body recorded its coordination; told to the addressed body and the asker",
    "project.removed": "a work group was removed (办结 / 停滞 / 企业放弃); told to its members and agent",
    "project.restored": "a removed work group was restored; told to its members and agent",
}


def case_summary(case: Case) -> dict[str, Any]:
    """The case part of every case event: enough to show it without another call."""
    return {"id": case.id, "business_key": case.business_key, "name": case.name,
            "process_key": case.process_key, "status": case.status, "region": case.region,
            "agent": case.started_by}


def task_summary(row: Task) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "element_id": row.element_id, "department": row.department,
            "assignee": row.assignee, "item": row.item, "due_at": row.due_at, "sla": row.sla}


def _case(uow: "UnitOfWork", case_id: str) -> Case | None:
    """The case, also when it is being opened in this unit of work (added, not flushed yet)."""
    return uow.cases.current(case_id)


def _publish_case(uow: "UnitOfWork", event_type: str, case: Case, data: dict[str, Any], *,
                  users: tuple[str, ...] = (), departments: tuple[str, ...] = ()) -> None:
    publish(uow, event_type, {"case": case_summary(case), **data}, case_id=case.id,
            project_code=case.business_key, users=users, departments=departments)


def task_ready(uow: "UnitOfWork", case: Case, row: Task) -> None:
    """A new task row: its department's staff (or, for the agent's own task, the agent)."""
    users = (row.assignee,) if row.assignee and not row.department else ()
    _publish_case(uow, "task.ready", case, {"task": task_summary(row)},
                  users=users, departments=(row.department,) if row.department else ())


def task_warning(uow: "UnitOfWork", row: Task, level: str) -> None:
    """A task turned yellow or red: whoever claimed it; nobody has: its department."""
    case = _case(uow, row.case_id)
    if case is None or level not in ("yellow", "red"):
        return
    if row.assignee:
        users, departments = (row.assignee,), ()
    else:
        users, departments = (), ((row.department,) if row.department else ())
    _publish_case(uow, f"task.{level}", case, {"task": task_summary(row)}, users=users, departments=departments)


def escalation_raised(uow: "UnitOfWork", escalation: Escalation, row: Task) -> None:
    """A coordination level was raised: the body it is addressed to (level 2: its leaders only),
    and the case's agent, who drives the case."""
    case = _case(uow, row.case_id)
    if case is None:
        return
    _publish_case(uow, "escalation.raised", case, {
        "escalation": {"id": escalation.id, "level": escalation.level, "department": escalation.department,
                       "role": escalation.role, "item_department": escalation.item_department,
                       "reason": escalation.reason, "next_at": escalation.next_at},
        "task": task_summary(row)}, departments=(escalation.department,))


def correction_requested(uow: "UnitOfWork", case_id: str, row: Task | None, reason: str | None,
                         requested_by: str | None) -> None:
    """补正: the enterprise must correct its materials; its agent and the project's enterprise
    contacts (the work group's sign-ins, issue 13) are told."""
    case = _case(uow, case_id)
    if case is None:
        return
    contacts = [c.user_name for c in project_store.contacts(uow, case.business_key)]
    _publish_case(uow, "correction.requested", case, {
        "task": task_summary(row) if row is not None else None, "reason": reason,
        "requested_by": requested_by}, users=(case.started_by, *contacts))


def case_changed(uow: "UnitOfWork", case: Case, event_type: str, actor: str | None,
                 reason: str | None = None) -> None:
    """A case's state changed: its agent is told (not when the agent did it: they know)."""
    users = (case.started_by,) if actor != case.started_by else ()
    _publish_case(uow, event_type, case, {"status": case.status, "by": actor, "reason": reason or None},
                  users=users)
