"""Events of work groups that a person must act on, raised in one place each (issue 13).

Every place in the services that changes something a person must hear about calls `raise_event`
in the same unit of work as the change. It writes the project's timeline row (visible on the
project page) and publishes the event to the notifications outbox (`engine/services/outbox.py`):
in-app notifications for the people told, webhooks for integrators.

Who is told:
- QUESTION_ASKED: the addressed bodies (`departments`).
- QUESTION_ANSWERED: the person who asked (`users`).
- QUESTION_YELLOW / QUESTION_RED: the addressed body that has not answered.
- QUESTION_ESCALATED: the body coordinating at the new level (its leaders only at a `leaders` level).
- QUESTION_COORDINATED: the addressed body that still owes the answer, and the asker.
- PROJECT_REMOVED / PROJECT_RESTORED: the member bodies and the project's agent.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from engine.adapters import project_store
from engine.services import outbox

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

QUESTION_ASKED = "question.asked"
QUESTION_ANSWERED = "question.answered"
QUESTION_YELLOW = "question.yellow"
QUESTION_RED = "question.red"
QUESTION_ESCALATED = "question.escalated"
QUESTION_COORDINATED = "question.coordinated"
PROJECT_REMOVED = "project.removed"
PROJECT_RESTORED = "project.restored"

NOTIFIED = (QUESTION_ASKED, QUESTION_ANSWERED, QUESTION_YELLOW, QUESTION_RED, QUESTION_ESCALATED, QUESTION_COORDINATED,
            PROJECT_REMOVED, PROJECT_RESTORED)


def raise_event(uow: "UnitOfWork", event_type: str, payload: dict[str, Any], *, project_code: str,
                actor: str | None = None, question_id: int | None = None, users: Iterable[str] = (),
                departments: Iterable[str] = ()) -> None:
    """Record an event someone must act on, in the caller's transaction, and publish it."""
    project_store.record(uow, project_code, event_type, actor, question_id=question_id,
                         data={**payload, "notify": {"users": sorted(set(users)),
                                                     "departments": sorted(set(departments))}})
    outbox.publish(uow, event_type, {**payload, "project_code": project_code, "by": actor},
                   project_code=project_code, users=users, departments=departments)
