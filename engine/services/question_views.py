"""How a work group's questions read: the thread of a project, one question, their rows as
dicts (shared by the project's page and the questions' own use cases)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.adapters import project_store as store
from engine.adapters.models import Project, Question, QuestionAddressee

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


def thread(uow: "UnitOfWork", project: Project) -> list[dict[str, Any]]:
    """The questions of a project with every addressed body's clock and answer, oldest first."""
    organisation = uow.organisation
    questions = store.questions(uow, project.code)
    by_question: dict[int, list[QuestionAddressee]] = {}
    for row in store.addressees(uow, [q.id for q in questions]):
        by_question.setdefault(row.question_id, []).append(row)
    return [{**question_dict(q), "addressees": [addressee_dict(a, organisation) for a in by_question.get(q.id, [])]}
            for q in questions]


def one(uow: "UnitOfWork", question_id: int) -> dict[str, Any]:
    """One question with its addressed bodies, as in the thread (after ask or answer)."""
    question = store.get_question(uow, question_id)
    rows = store.addressees(uow, [question.id])
    return {**question_dict(question), "addressees": [addressee_dict(a, uow.organisation) for a in rows]}


def question_dict(question: Question) -> dict[str, Any]:
    return {c: getattr(question, c) for c in ("id", "project_code", "text", "asked_by", "asked_as", "asked_at",
                                              "state", "closed_at", "closed_reason")}


def addressee_dict(row: QuestionAddressee, organisation: Any) -> dict[str, Any]:
    out = {c: getattr(row, c) for c in (
        "question_id", "department", "state", "limit_hours", "warn_at", "due_at", "sla", "level",
        "level_department", "level_role", "answer", "preliminary_opinion", "answered_by", "answered_at", "on_time")}
    out["next_level_at"] = row.next_at if row.level and row.state == "open" else None
    out["department_name"] = organisation.get(row.department).name_zh if row.department in organisation else None
    out["level_department_name"] = (organisation.get(row.level_department).name_zh
                                    if row.level_department in organisation else None)
    return out
