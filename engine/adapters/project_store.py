"""SQL of work groups and questions: reads, locks and the timeline (no rules here)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select

from engine.adapters.models import (Project, ProjectContact, ProjectEvent, ProjectMember, Question,
                                            QuestionAddressee)
from engine.errors import NotFound
from engine.adapters.models import Case, Task

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


def record(uow: "UnitOfWork", project_code: str, type: str, actor: str | None = None, *,
           question_id: int | None = None, data: dict[str, Any] | None = None) -> None:
    """Append a row to the project's timeline."""
    uow.session.add(ProjectEvent(project_code=project_code, at=uow.runtime.clock(), type=type, actor=actor,
                                 question_id=question_id, data=data))


def get(uow: "UnitOfWork", code: str, *, lock: bool = False) -> Project:
    """A project by code; `lock`: for update, so commands on one project run one after another."""
    query = select(Project).where(Project.code == code)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    project = uow.session.scalar(query)
    if project is None:
        raise NotFound(f"project {code} has no work group")
    return project


def find(uow: "UnitOfWork", code: str) -> Project | None:
    return uow.session.get(Project, code)


def add(uow: "UnitOfWork", project: Project) -> Project:
    """Write a new project at once (its members and timeline rows refer to it)."""
    uow.session.add(project)
    uow.session.flush()
    return project


def add_members(uow: "UnitOfWork", code: str, departments: list[str], at: datetime, by: str) -> None:
    for department in departments:
        uow.session.add(ProjectMember(project_code=code, department=department, added_at=at, added_by=by))


def remove_member(uow: "UnitOfWork", member: ProjectMember) -> None:
    uow.session.delete(member)


def add_contact(uow: "UnitOfWork", code: str, user_name: str, at: datetime, by: str) -> None:
    """An enterprise user becomes a contact of the project (sees it, is told of its events)."""
    uow.session.add(ProjectContact(project_code=code, user_name=user_name, created_at=at, created_by=by))


def agent_started_case(uow: "UnitOfWork", code: str, agent: str) -> bool:
    """Whether the agent started a case of the project (business key = project code)."""
    return uow.session.scalar(select(Case.id).where(Case.business_key == code, Case.started_by == agent)
                              .limit(1)) is not None


def members(uow: "UnitOfWork", code: str) -> list[ProjectMember]:
    return list(uow.session.scalars(select(ProjectMember).where(ProjectMember.project_code == code)
                                    .order_by(ProjectMember.department)))


def member_codes(uow: "UnitOfWork", code: str) -> set[str]:
    return set(uow.session.scalars(select(ProjectMember.department).where(ProjectMember.project_code == code)))


def is_member(uow: "UnitOfWork", code: str, department: str | None) -> bool:
    if not department:
        return False
    return uow.session.scalar(select(ProjectMember.id).where(
        ProjectMember.project_code == code, ProjectMember.department == department)) is not None


def is_contact(uow: "UnitOfWork", code: str, user_name: str) -> bool:
    return uow.session.scalar(select(ProjectContact.id).where(
        ProjectContact.project_code == code, ProjectContact.user_name == user_name)) is not None


def contacts(uow: "UnitOfWork", code: str) -> list[ProjectContact]:
    return list(uow.session.scalars(select(ProjectContact).where(ProjectContact.project_code == code)
                                    .order_by(ProjectContact.user_name)))


def contact_projects(uow: "UnitOfWork", user_name: str) -> list[str]:
    return list(uow.session.scalars(select(ProjectContact.project_code).where(ProjectContact.user_name == user_name)))


def visible_clause(*, everything: bool = False, user: str | None = None, agent: str | None = None,
                   department: str | None = None, regions: tuple[str, ...] = ()) -> ColumnElement[bool]:
    """Projects someone may see (as `engine.services.projects.can_see` says one by one): an
    enterprise contact's, an agent's, a member body's, or those of
    `regions` (where the actor's body promotes, owns groups or oversees)."""
    if everything:
        return Project.code.is_not(None)
    clauses: list[ColumnElement[bool]] = []
    if user is not None:
        clauses.append(Project.code.in_(select(ProjectContact.project_code).where(ProjectContact.user_name == user)))
    if agent is not None:  # assigned, or driving one of its cases
        clauses.append(or_(Project.agent == agent,
                           Project.code.in_(select(Case.business_key).where(Case.started_by == agent))))
    if department is not None:
        clauses.append(exists().where(ProjectMember.project_code == Project.code,
                                      ProjectMember.department == department))
    if regions:
        clauses.append(Project.region.in_(regions))
    return or_(*clauses) if clauses else false()


def list_projects(uow: "UnitOfWork", visible: ColumnElement[bool], *, state: str | None = None,
                  regions: list[str] | None = None, department: str | None = None,
                  limit: int = 100, offset: int = 0) -> tuple[list[Project], int]:
    query = select(Project).where(visible)
    if state is not None:
        query = query.where(Project.state == state)
    if regions is not None:
        query = query.where(Project.region.in_(regions))
    if department is not None:
        query = query.where(exists().where(ProjectMember.project_code == Project.code,
                                           ProjectMember.department == department))
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(uow.session.scalars(query.order_by(Project.created_at.desc(), Project.code)
                                    .limit(limit).offset(offset)))
    return rows, int(total)


def counts_by_project(uow: "UnitOfWork", codes: list[str]) -> dict[str, dict[str, int]]:
    """Per project: members, open questions (addressed bodies yet to answer), overdue ones, cases."""
    out: dict[str, dict[str, int]] = {c: {"member_count": 0, "open_questions": 0, "overdue": 0, "case_count": 0}
                                      for c in codes}
    if not codes:
        return out
    for code, n in uow.session.execute(select(ProjectMember.project_code, func.count())
                                       .where(ProjectMember.project_code.in_(codes))
                                       .group_by(ProjectMember.project_code)):
        out[code]["member_count"] = n
    for code, sla, n in uow.session.execute(
            select(QuestionAddressee.project_code, QuestionAddressee.sla, func.count())
            .where(QuestionAddressee.project_code.in_(codes), QuestionAddressee.state == "open")
            .group_by(QuestionAddressee.project_code, QuestionAddressee.sla)):
        out[code]["open_questions"] += n
        if sla == "red":
            out[code]["overdue"] += n
    for code, n in uow.session.execute(select(Case.business_key, func.count()).where(Case.business_key.in_(codes))
                                       .group_by(Case.business_key)):
        out[code]["case_count"] = n
    return out


def cases_of(uow: "UnitOfWork", code: str) -> list[Case]:
    """Every case of the project: cases carry the project code as their business key."""
    return list(uow.session.scalars(select(Case).where(Case.business_key == code).order_by(Case.started_at)))


def tasks_of(uow: "UnitOfWork", case_ids: list[str]) -> list[Task]:
    if not case_ids:
        return []
    return list(uow.session.scalars(select(Task).where(Task.case_id.in_(case_ids))
                                    .order_by(Task.created_at, Task.id)))


def questions(uow: "UnitOfWork", code: str) -> list[Question]:
    return list(uow.session.scalars(select(Question).where(Question.project_code == code)
                                    .order_by(Question.asked_at, Question.id)))


def addressees(uow: "UnitOfWork", question_ids: list[int], *, lock: bool = False) -> list[QuestionAddressee]:
    """The addressed bodies' rows; `lock`: for update (an answer racing the worker's clock)."""
    if not question_ids:
        return []
    query = (select(QuestionAddressee).where(QuestionAddressee.question_id.in_(question_ids))
             .order_by(QuestionAddressee.question_id, QuestionAddressee.department))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(uow.session.scalars(query))


def add_question(uow: "UnitOfWork", question: Question, addressees: list[dict[str, Any]]) -> Question:
    """Write a question at once (it gets its id) and a row per addressed body (`addressees`: the
    rows' columns besides the question's id)."""
    uow.session.add(question)
    uow.session.flush()
    for values in addressees:
        uow.session.add(QuestionAddressee(question_id=question.id, **values))
    return question


def reload_question(uow: "UnitOfWork", question: Question) -> Question:
    """Read the question again (after its project was locked: what another command committed)."""
    uow.session.refresh(question)
    return question


def get_question(uow: "UnitOfWork", question_id: int) -> Question:
    found = uow.session.get(Question, question_id)
    if found is None:
        raise NotFound(f"question {question_id} does not exist")
    return found


def open_addressees(uow: "UnitOfWork", code: str) -> list[QuestionAddressee]:
    return list(uow.session.scalars(select(QuestionAddressee).where(
        QuestionAddressee.project_code == code, QuestionAddressee.state == "open")))


def open_questions(uow: "UnitOfWork", code: str) -> list[Question]:
    return list(uow.session.scalars(select(Question).where(Question.project_code == code, Question.state == "open")))


def addressed_to(uow: "UnitOfWork", department: str, *, leader: bool, state: str | None = "open",
                 limit: int = 100) -> list[QuestionAddressee]:
    """Answers a body owes, and questions whose coordination sits with it (leaders' levels for
    leaders only)."""
    coordinating: ColumnElement[bool] = QuestionAddressee.level_department == department
    if not leader:
        coordinating = and_(coordinating, QuestionAddressee.level_role != "leaders")
    query = select(QuestionAddressee).where(or_(QuestionAddressee.department == department, coordinating))
    if state is not None:
        query = query.where(QuestionAddressee.state == state)
    return list(uow.session.scalars(query.order_by(QuestionAddressee.due_at, QuestionAddressee.id).limit(limit)))


def due_projects(uow: "UnitOfWork", now: datetime, limit: int) -> list[str]:
    """Projects with an open answer whose clock has something to do now, most overdue first."""
    soonest = func.min(QuestionAddressee.next_at)
    return list(uow.session.scalars(
        select(QuestionAddressee.project_code).where(QuestionAddressee.state == "open", QuestionAddressee.next_at <= now)
        .group_by(QuestionAddressee.project_code).order_by(soonest).limit(limit)))


def lock_for_clock(uow: "UnitOfWork", code: str) -> Project | None:
    """The project's lock for the worker, taken before its answers' rows as every command takes
    it (a different order deadlocks with an answer); None when another worker or a command holds
    it now (its clocks are looked at on the next round)."""
    query = select(Project).where(Project.code == code).with_for_update(skip_locked=True)
    return uow.session.scalar(query.execution_options(populate_existing=True))


def due_addressees(uow: "UnitOfWork", code: str, now: datetime) -> list[QuestionAddressee]:
    """A project's open answers whose clock has something to do now, locked."""
    return list(uow.session.scalars(
        select(QuestionAddressee).where(QuestionAddressee.project_code == code, QuestionAddressee.state == "open",
                                        QuestionAddressee.next_at <= now)
        .order_by(QuestionAddressee.next_at, QuestionAddressee.id)
        .with_for_update().execution_options(populate_existing=True)))


def timeline(uow: "UnitOfWork", code: str, limit: int = 500) -> list[ProjectEvent]:
    return list(uow.session.scalars(select(ProjectEvent).where(ProjectEvent.project_code == code)
                                    .order_by(ProjectEvent.id.desc()).limit(limit)))


def question_counts(uow: "UnitOfWork", code: str) -> dict[str, int]:
    """The public counts: questions asked, answers given, answers on time, answers owed, overdue."""
    asked = uow.session.scalar(select(func.count()).select_from(Question).where(Question.project_code == code)) or 0
    rows = uow.session.execute(select(QuestionAddressee.state, QuestionAddressee.on_time, QuestionAddressee.sla,
                                      func.count()).where(QuestionAddressee.project_code == code)
                               .group_by(QuestionAddressee.state, QuestionAddressee.on_time, QuestionAddressee.sla))
    out = {"asked": int(asked), "answers": 0, "answered": 0, "answered_on_time": 0, "open": 0, "overdue": 0}
    for state, on_time, sla, n in rows:
        out["answers"] += n
        if state == "answered":
            out["answered"] += n
            out["answered_on_time"] += n if on_time else 0
        elif state == "open":
            out["open"] += n
            out["overdue"] += n if sla == "red" else 0
    return out
