"""The outbox: events people must act on, written in the same transaction as their change.

`publish` adds one `outbox_events` row to the unit of work's session; it commits or rolls back
with the change that caused it, so there is never a notification for a change that did not
happen, nor a change whose notification is lost. Nothing is sent here: the worker
(`engine.services.notifications.dispatch`, `engine.services.webhooks.deliver_due`) reads the
rows later, so a slow receiver can never slow the command that published.

Recipients are given as user names and department codes and resolved to people only when the
worker dispatches (whoever sits in the department then is told).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.adapters.models import OutboxEvent

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

_SEQ_CACHE = "_outbox_case_seq"


def publish(uow: "UnitOfWork", event_type: str, payload: dict, *, case_id: str | None = None,
            project_code: str | None = None, users: Iterable[str] = (),
            departments: Iterable[str] = ()) -> None:
    """Record that `event_type` happened, for `users` and the members of `departments`.

    Call it inside the unit of work that makes the change, holding the case lock when there is
    a case (every case command does): the case's events are numbered 1, 2, 3, ... in commit
    order (`case_seq`), which webhook deliveries keep per case.
    """
    occurred_at = uow.runtime.clock()
    seq = _next_case_seq(uow, case_id) if case_id is not None else None
    uow.session.add(OutboxEvent(
        event_id=str(uuid.uuid4()), type=event_type, occurred_at=occurred_at, case_id=case_id,
        project_code=project_code, case_seq=seq, payload=_jsonable(payload),
        recipient_users=sorted({u for u in users if u}) or None,
        recipient_departments=sorted({d for d in departments if d}) or None))


def _next_case_seq(uow: "UnitOfWork", case_id: str) -> int:
    """The case's next event number: one query per case per unit of work, then counted here."""
    # Kept per transaction: after a rollback the numbers counted in it are void.
    transaction = uow.session.get_transaction()
    held = uow.__dict__.get(_SEQ_CACHE)
    if held is None or held[0] is not transaction:
        held = uow.__dict__[_SEQ_CACHE] = (transaction, {})
    cache: dict[str, int] = held[1]
    if case_id not in cache:
        with uow.session.no_autoflush:
            cache[case_id] = uow.session.scalar(
                select(func.coalesce(func.max(OutboxEvent.case_seq), 0)).where(OutboxEvent.case_id == case_id)) or 0
        # rows of this unit of work not flushed yet are not in the database: count them too
        pending = [o.case_seq or 0 for o in uow.session.new
                   if isinstance(o, OutboxEvent) and o.case_id == case_id]
        cache[case_id] = max([cache[case_id], *pending])
    cache[case_id] += 1
    return cache[case_id]


def _jsonable(value: Any) -> Any:
    """Payloads hold plain JSON: datetimes become ISO 8601 text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
