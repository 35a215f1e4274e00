"""In-app notifications: the worker fans outbox events out to people; people read and mark them.

`dispatch` takes undispatched outbox rows in order (locked, `SKIP LOCKED` on PostgreSQL, so
several workers share them), resolves their recipients as the organisation stands now (the
users named, the members of the departments named), writes one `notifications` row per person
and one pending `webhook_deliveries` row per subscribed hook, and marks the event dispatched —
all in one transaction, so a worker killed midway leaves the event to the next one, whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.services import webhooks
from engine.domain import access
from engine.domain.access import Actor
from engine.errors import NotFound
from engine.adapters.models import Notification, OutboxEvent
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

_LEVEL_NAMES = {1: "一级协调（窗口）", 2: "二级协调（部门领导）", 3: "三级协调（政府）"}
_CASE_STATES = {"completed": "已办结", "cancelled": "已终止", "suspended": "已中止", "running": "续办中"}


def title_of(event: OutboxEvent) -> str:
    """What the console's bell says about an event, in the console's language."""
    payload = event.payload or {}
    case = payload.get("case") or {}
    task = payload.get("task") or {}
    subject = case.get("name") or case.get("business_key") or ""
    what = f"{task.get('name') or task.get('element_id') or ''}（{subject}）" if task else subject
    if event.type == "task.ready":
        return f"新待办：{what}"
    if event.type == "task.yellow":
        return f"即将到期：{what}"
    if event.type == "task.red":
        return f"已超期：{what}"
    if event.type == "escalation.raised":
        level = (payload.get("escalation") or {}).get("level")
        return f"督办 {_LEVEL_NAMES.get(level, f'{level}级协调')}：{what}"
    if event.type == "correction.requested":
        return f"补正通知：{what}"
    if event.type.startswith("case."):
        return f"案件{_CASE_STATES.get(payload.get('status'), payload.get('status') or '')}：{subject}"
    if event.type.startswith("question."):
        question = payload.get("question") or payload
        verb = {"question.asked": "新问题", "question.answered": "问题已答复",
                "question.yellow": "问题即将超时", "question.red": "问题超时未答复",
                "question.escalated": "问题督办", "question.coordinated": "问题已协调"}.get(event.type, event.type)
        return f"{verb}：{question.get('title') or question.get('text') or subject}"[:500]
    if event.type.startswith("project."):
        verb = {"project.removed": "项目工作群已移出", "project.restored": "项目工作群已恢复"}[event.type]
        return f"{verb}：{payload.get('project_code') or subject}"
    return event.type


class _People:
    """The active users a dispatch round resolves recipients from, read once per round."""

    def __init__(self, uow: "UnitOfWork") -> None:
        self.uow = uow
        self.active: set[str] | None = None
        self.members: dict[str, list[Actor]] = {}

    def exists(self, names: set[str]) -> set[str]:
        if self.active is None:
            self.active = self.uow.users.active_names()
        return names & self.active

    def of(self, department: str) -> list[Actor]:
        if department not in self.members:
            self.members[department] = [
                a for a in (Actor(n, r, d) for n, r, d in self.uow.users.active_of_department(department))
                if access.is_department_member(a)]
        return self.members[department]


def recipients(uow: "UnitOfWork", event: OutboxEvent, people: _People | None = None) -> list[str]:
    """The users to tell: those named (if not revoked), and the members (staff, leaders, bound
    government users) of the departments named; an escalation's `leaders` level only its leaders."""
    people = people or _People(uow)
    found = people.exists(set(event.recipient_users or ()))
    escalation = (event.payload or {}).get("escalation") if event.type == "escalation.raised" else None
    for department in event.recipient_departments or ():
        for actor in people.of(department):
            if escalation and not access.can_see_escalation(actor, escalation["department"], escalation["role"]):
                continue
            found.add(actor.name)
    return sorted(found)


def dispatch(uow: "UnitOfWork", limit: int = 200) -> int:
    """Fan out up to `limit` undispatched events (in order); returns how many. The caller commits."""

    events = uow.outbox.undispatched(limit, skip_locked=uow.runtime.database.kind == "postgresql")
    if not events:
        return 0
    now = uow.runtime.clock()
    hooks = webhooks.active_hooks(uow)
    people = _People(uow)
    for event in events:
        for name in recipients(uow, event, people):
            uow.notifications.add(Notification(
                user_name=name, event_id=event.event_id, type=event.type, title=title_of(event)[:500],
                case_id=event.case_id, task_id=((event.payload or {}).get("task") or {}).get("id"),
                data=event.payload, created_at=now))
        webhooks.enqueue(uow, event, hooks, now)
        event.dispatched_at = now
    return len(events)


@dataclass
class Page:
    items: list[Notification]
    total: int
    page: int
    per_page: int
    unread: int


def list_for(uow: "UnitOfWork", actor: Actor, unread: bool = False, page: int = 1,
             per_page: int = 50) -> Page:
    """The actor's own notifications, newest first (`unread`: only those not read yet)."""
    items, total = uow.notifications.of_user(actor.name, unread=unread, limit=per_page, offset=(page - 1) * per_page)
    return Page(items, total, page, per_page, unread_count(uow, actor))


def unread_count(uow: "UnitOfWork", actor: Actor) -> int:
    return uow.notifications.unread_count(actor.name)


@use_case
def mark_read(uow: "UnitOfWork", actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (again: no change). Another's: 404, as if absent."""
    row = uow.notifications.get(notification_id)
    if row is None or row.user_name != actor.name:
        raise NotFound(f"notification {notification_id} does not exist")
    if row.read_at is None:
        row.read_at = uow.runtime.clock()
    return row


@use_case
def mark_all_read(uow: "UnitOfWork", actor: Actor, up_to: int | None = None) -> int:
    """Mark every unread notification of the actor read (only up to id `up_to`, when given, so a
    notification that arrived after the page was shown stays unread). Returns how many."""
    return uow.notifications.mark_all_read(actor.name, uow.runtime.clock(), up_to)


def as_dict(row: Notification) -> dict[str, Any]:
    return {"id": row.id, "event_id": row.event_id, "type": row.type, "title": row.title,
            "case_id": row.case_id, "task_id": row.task_id, "data": row.data,
            "created_at": row.created_at, "read_at": row.read_at, "read": row.read_at is not None}


@use_case
def read_all(uow: "UnitOfWork", actor: Actor, up_to: int | None = None) -> tuple[int, int]:
    """`mark_all_read`, answered with (how many were marked, how many stay unread)."""
    marked = mark_all_read(uow, actor, up_to)
    return marked, unread_count(uow, actor)
