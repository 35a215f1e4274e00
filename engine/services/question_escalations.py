"""Work-group questions that went past their 24 hours and reached a coordination level (kept on
the question's own rows, not in `escalations`), as the escalation board (督办) shows them beside
the approval items' escalations. Who sees which: as for escalations — admins and province-wide
government all; a body the levels addressed to it (a leaders' level only its leaders); an agent
those of the projects assigned to it; nobody else."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.adapters import question_escalation_store as store
from engine.domain import access
from engine.domain.access import Actor

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

#: The board's filter words, as for approval escalations.
STATUSES = ("open", "escalated", "resolved")


def board(uow: "UnitOfWork", actor: Actor, status: str | None = "open", limit: int = 500) -> list[dict[str, Any]]:
    """The escalated questions the actor may see; `status` as on the board: open (the body still
    owes its answer and the current level is not yet coordinated), resolved (answered, closed or
    coordinated), escalated (none: a question's row keeps only its current level), None: all."""
    if access.sees_everything(actor):
        scope: dict[str, Any] = {}
    elif access.is_department_member(actor):
        scope = {"coordinator": actor.department, "leader": actor.role == "leader"}
    elif actor.role == "agent":
        scope = {"agent": actor.name}
    else:
        return []
    if status == "escalated":
        return []
    rows = store.escalated(uow, open_only=status == "open", limit=limit, **scope)
    coordinated = store.coordinated_levels(uow, sorted({a.question_id for a, _, _ in rows}))
    organisation = uow.organisation
    out = []
    for row, question, project in rows:
        done = (row.question_id, row.department, row.level) in coordinated
        state = "open" if row.state == "open" and not done else "resolved"
        if status is not None and state != status:
            continue
        out.append({
            "question_id": row.question_id, "text": question.text, "asked_at": question.asked_at,
            "project_code": project.code, "project_name": project.name, "department": row.department,
            "department_name": organisation.get(row.department).name_zh if row.department in organisation else None,
            "level": row.level, "level_department": row.level_department, "level_role": row.level_role,
            "due_at": row.due_at, "answer_state": row.state, "answered_at": row.answered_at,
            "coordinated": done, "status": state,
            # as `questions.coordinate` decides: an open level with a next one still to come
            "may_coordinate": state == "open" and row.next_at is not None and (actor.is_admin or (
                actor.department == row.level_department
                and access.can_see_escalation(actor, row.level_department or "", row.level_role or "")))})
    return out

