"""Use cases of work-group questions and the 24-hour rule (issue 13).

The enterprise contact, the project's agent or a member body asks; each addressed body answers on
its own clock (natural hours from the question, the region's `question_hours`). The background
worker (`run_due`, called from `engine.services.timers.Worker.run_once`) turns an unanswered body yellow,
then red, then raises the region's coordination levels one after another, as for approval items:
level 1 at red, each next level once the policy's `escalation_after` has passed without an
answer. Any number of questions may be open at once; answering closes only that body's clock.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain import access
from engine.domain.access import Actor
from engine.adapters import project_store as store
from engine.adapters.models import Project, Question, QuestionAddressee
from engine.services import project_events as events
from engine.domain import projects as rules
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import projects as project_service
from engine.services.question_views import addressee_dict, one, question_dict, thread
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.adapters.uow import UnitOfWork

BATCH = 200


def _asked_as(uow: "UnitOfWork", actor: Actor, project: Project) -> str:
    if actor.is_admin:
        return "admin"
    if actor.role == "enterprise" and store.is_contact(uow, project.code, actor.name):
        return "enterprise"
    if actor.role == "agent" and project.agent == actor.name:
        return "agent"
    if access.is_department_member(actor) and store.is_member(uow, project.code, actor.department):
        return "member"
    raise Forbidden(f"{actor.name} may not ask questions on {project.code}: its enterprise contact, its agent "
                    "or a member body does")


@use_case
def ask(uow: "UnitOfWork", actor: Actor, code: str, data: dict[str, Any]) -> Question:
    """A question to one or more member bodies; each gets its own clock from now."""
    project = project_service.visible(uow, code, actor, lock=True)
    asked_as = _asked_as(uow, actor, project)
    errors: dict[str, list[str]] = {}
    text = rules.required_text(data, "text", errors)
    departments: list[str] = []
    raw = data.get("departments")
    if not isinstance(raw, list) or not raw or not all(isinstance(d, str) for d in raw):
        errors["departments"] = ["required: one or more body codes of the work group"]
    else:
        members = store.member_codes(uow, code)
        departments = list(dict.fromkeys(raw))
        outside = [d for d in departments if d not in members]
        if outside:
            errors["departments"] = [f"{d!r} is not in the work group of {code}" for d in outside]
        elif access.is_department_member(actor) and actor.department in departments and len(departments) == 1:
            errors["departments"] = ["a body does not ask itself"]
    if errors:
        raise Invalid("invalid question", errors=errors)
    project_service._require_active(project)  # noqa: SLF001 - one rule, one place
    now = uow.runtime.clock()
    hours = uow.organisation.region(project.region).question_hours
    question = Question(project_code=code, text=text, asked_by=actor.name, asked_as=asked_as, asked_at=now,
                        state="open")
    clock = rules.QuestionClock(now, hours)
    store.add_question(uow, question, [
        dict(project_code=code, department=department, state="open", limit_hours=hours, warn_at=clock.warn_at,
             due_at=clock.due_at, sla="normal", level=0, next_at=clock.warn_at) for department in departments])
    events.raise_event(uow, events.QUESTION_ASKED,
                       {"question_id": question.id, "project_code": code, "text": text, "asked_by": actor.name,
                        "asked_as": asked_as, "departments": departments, "due_at": clock.due_at.isoformat()},
                       project_code=code, actor=actor.name, question_id=question.id, departments=departments)
    return question


@use_case
def answer(uow: "UnitOfWork", actor: Actor, question_id: int, data: dict[str, Any]) -> QuestionAddressee:
    """The addressed body answers: a concrete answer and a preliminary opinion, both required.
    `department` chooses the body for an admin (staff answer for their own)."""
    question = store.get_question(uow, question_id)
    project = project_service.visible(uow, question.project_code, actor, lock=True)
    store.reload_question(uow, question)
    department = data.get("department") if actor.is_admin else actor.department
    if not actor.is_admin and actor.role not in ("staff", "leader"):
        raise Forbidden(f"{actor.name} may not answer questions: the addressed body's staff do")
    rows = {a.department: a for a in store.addressees(uow, [question.id], lock=True)}
    row = rows.get(department) if isinstance(department, str) else None
    if row is None:
        if actor.is_admin:
            raise Invalid("which body answers?", errors={"department": [
                f"one of the addressed bodies: {', '.join(sorted(rows))}"]})
        raise Forbidden(f"question {question_id} is not addressed to {department}")
    answer_text, opinion = rules.answer_fields(data)
    if row.state == "answered":
        raise Conflict(f"{department} answered question {question_id} already")
    if row.state == "closed" or question.state == "closed":
        raise Conflict(f"question {question_id} is closed ({question.closed_reason or 'project removed'})")
    now = uow.runtime.clock()
    row.state, row.answer, row.preliminary_opinion = "answered", answer_text, opinion
    row.answered_by, row.answered_at, row.on_time, row.next_at = actor.name, now, now <= row.due_at, None
    if all(r.state != "open" for r in rows.values()):
        question.state = "answered"
    events.raise_event(uow, events.QUESTION_ANSWERED,
                       {"question_id": question.id, "project_code": project.code, "department": department,
                        "answer": answer_text, "preliminary_opinion": opinion, "on_time": row.on_time,
                        "answered_by": actor.name},
                       project_code=project.code, actor=actor.name, question_id=question.id,
                       users=[question.asked_by])
    return row


@use_case
def coordinate(uow: "UnitOfWork", actor: Actor, question_id: int, department: Any, note: str = "") -> QuestionAddressee:
    """The body handling an overdue answer's current level records it as coordinated (as for
    approval items): no further level is raised; the addressed body still owes its answer."""
    question = store.get_question(uow, question_id)
    project = project_service.visible(uow, question.project_code, actor, lock=True)
    rows = {a.department: a for a in store.addressees(uow, [question.id], lock=True)}
    row = rows.get(department) if isinstance(department, str) else None
    if row is None:
        raise Invalid("which addressed body?", errors={"department": [f"one of {', '.join(sorted(rows))}"]})
    if not row.level:
        raise Conflict(f"the answer of {department} to question {question_id} is not escalated")
    if not (actor.is_admin or (actor.department == row.level_department
                               and access.can_see_escalation(actor, row.level_department, row.level_role or ""))):
        raise Forbidden(f"{actor.name} does not coordinate level {row.level} of question {question_id}")
    if row.state != "open" or row.next_at is None:
        raise Conflict(f"the answer of {department} to question {question_id} is "
                       f"{'coordinated already' if row.state == 'open' else row.state}")
    row.next_at = None
    events.raise_event(uow, events.QUESTION_COORDINATED,
                       {"question_id": question.id, "project_code": project.code, "department": department,
                        "level": row.level, "note": note[:2000]},
                       project_code=project.code, actor=actor.name, question_id=question.id,
                       users=[question.asked_by], departments=[department])
    return row


def list_for_project(uow: "UnitOfWork", actor: Actor, code: str) -> list[dict[str, Any]]:
    return thread(uow, project_service.visible(uow, code, actor))


def inbox(uow: "UnitOfWork", actor: Actor, state: str | None = "open") -> list[dict[str, Any]]:
    """Questions the caller's body must answer, or coordinates (levels addressed to it)."""
    if not access.is_department_member(actor):
        raise Forbidden(f"role {actor.role} has no question inbox: the bodies answer")
    if state is not None and state not in rules.ADDRESSEE_STATES:
        raise Invalid("unknown state", errors={"state": [f"must be one of {', '.join(rules.ADDRESSEE_STATES)}"]})
    rows = store.addressed_to(uow, actor.department, leader=actor.role == "leader", state=state)
    questions = {q.id: q for q in (store.get_question(uow, i) for i in {r.question_id for r in rows})}
    return [{**addressee_dict(r, uow.organisation), "question": question_dict(questions[r.question_id])}
            for r in rows]


# --------------------------------------------------------------------------- the clock (worker)


def _raise_level(uow: "UnitOfWork", row: QuestionAddressee, project: Project, level: int, now: datetime) -> bool:
    """Raise coordination `level` for an unanswered body; False when the region has no such level."""
    organisation = uow.organisation
    levels = {c.level for c in organisation.coordination_levels}
    if level not in levels:
        return False
    body, role = organisation.coordinator_for(level, row.department, project.region)
    row.level, row.level_department, row.level_role = level, body.code, role
    row.next_at = (uow.runtime.calendars.calendar(uow).add(now, uow.runtime.time_policy.escalation_after)
                   if level + 1 in levels else None)
    events.raise_event(uow, events.QUESTION_ESCALATED,
                       {"question_id": row.question_id, "project_code": project.code, "department": row.department,
                        "level": level, "coordinator": body.code, "coordinator_name": body.name_zh, "role": role,
                        "due_at": row.due_at.isoformat()},
                       project_code=project.code, actor="system", question_id=row.question_id,
                       departments=[body.code])
    return True


def tick(uow: "UnitOfWork", row: QuestionAddressee, now: datetime) -> None:
    """Bring one unanswered body's clock up to `now`: yellow, red + level 1, next levels. Idempotent."""
    if row.state != "open":
        row.next_at = None
        return
    project = store.get(uow, row.project_code)
    payload = {"question_id": row.question_id, "project_code": project.code, "department": row.department,
               "due_at": row.due_at.isoformat()}
    if row.sla == "normal" and now >= row.warn_at:
        row.sla = "yellow"
        events.raise_event(uow, events.QUESTION_YELLOW, payload, project_code=project.code, actor="system",
                           question_id=row.question_id, departments=[row.department])
    if row.sla == "yellow" and now >= row.due_at:
        row.sla = "red"
        events.raise_event(uow, events.QUESTION_RED, payload, project_code=project.code, actor="system",
                           question_id=row.question_id, departments=[row.department])
        if not _raise_level(uow, row, project, 1, now):
            row.next_at = None
        return
    if row.sla == "normal":
        row.next_at = row.warn_at
    elif row.sla == "yellow":
        row.next_at = row.due_at
    elif row.next_at is not None and now >= row.next_at:
        if not _raise_level(uow, row, project, row.level + 1, now):
            row.next_at = None


def run_due(runtime: "Runtime", batch: int = BATCH) -> int:
    """Tick every unanswered body whose clock has something to do now, one project per unit of
    work under the project's lock (as answers and removals take it); the rows done."""
    with runtime.unit_of_work(write=False) as uow:
        codes = store.due_projects(uow, runtime.clock(), batch)
    done = 0
    for code in codes:
        with runtime.unit_of_work() as uow:
            now = runtime.clock()
            if store.lock_for_clock(uow, code) is None:
                continue
            for row in store.due_addressees(uow, code, now):
                tick(uow, row, now)
                done += 1
            uow.commit()
    return done


@use_case
def ask_shown(uow: "UnitOfWork", actor: Actor, code: str, data: dict[str, Any]) -> dict[str, Any]:
    """`ask` answered with the question as it is shown (`question_views.one`)."""
    return one(uow, ask(uow, actor, code, data).id)


@use_case
def answer_shown(uow: "UnitOfWork", actor: Actor, question_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """`answer` answered with the question as it is shown."""
    answer(uow, actor, question_id, data)
    return one(uow, question_id)


@use_case
def coordinate_shown(uow: "UnitOfWork", actor: Actor, question_id: int, department: Any,
                     note: str = "") -> dict[str, Any]:
    """`coordinate` answered with the question as it is shown."""
    coordinate(uow, actor, question_id, department, note)
    return one(uow, question_id)
