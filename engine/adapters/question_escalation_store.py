"""SQL of the escalated questions for the escalation board: the addressed bodies' rows that
reached a coordination level, with their question and project, and which of them were recorded
as coordinated at their current level (no rules here: who may see what is the service's)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, select

from engine.adapters.models import Project, ProjectEvent, Question, QuestionAddressee

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

COORDINATED = "question.coordinated"


def escalated(uow: "UnitOfWork", *, coordinator: str | None = None, leader: bool = False,
              agent: str | None = None, open_only: bool = False,
              limit: int = 500) -> list[tuple[QuestionAddressee, Question, Project]]:
    """Rows with a coordination level, newest due first; `coordinator`: only levels addressed to
    that body (a leaders' level only when `leader`); `agent`: only that agent's projects."""
    query = (select(QuestionAddressee, Question, Project)
             .join(Question, Question.id == QuestionAddressee.question_id)
             .join(Project, Project.code == QuestionAddressee.project_code)
             .where(QuestionAddressee.level > 0))
    if coordinator is not None:
        clause: ColumnElement[bool] = QuestionAddressee.level_department == coordinator
        if not leader:
            clause = and_(clause, QuestionAddressee.level_role != "leaders")
        query = query.where(clause)
    if agent is not None:
        query = query.where(Project.agent == agent)
    if open_only:
        query = query.where(QuestionAddressee.state == "open")
    query = query.order_by(QuestionAddressee.due_at.desc(), QuestionAddressee.id.desc()).limit(limit)
    return [(a, q, p) for a, q, p in uow.session.execute(query)]


def coordinated_levels(uow: "UnitOfWork", question_ids: list[int]) -> set[tuple[int, str, int]]:
    """(question id, addressed body, level) of every level recorded as coordinated."""
    if not question_ids:
        return set()
    rows = uow.session.scalars(select(ProjectEvent).where(ProjectEvent.type == COORDINATED,
                                                          ProjectEvent.question_id.in_(question_ids)))
    return {(e.question_id, (e.data or {}).get("department"), (e.data or {}).get("level")) for e in rows
            if e.question_id is not None}
