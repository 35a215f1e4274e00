"""The outbox: events people must act on, written in the same transaction as their change.

`publish` adds one `outbox_events` row to the unit of work (`uow.outbox`); it commits or rolls back
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

from engine.adapters.models import OutboxEvent

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

def publish(uow: "UnitOfWork", event_type: str, payload: dict, *, case_id: str | None = None,
            project_code: str | None = None, users: Iterable[str] = (),
            departments: Iterable[str] = ()) -> None:
    """Record that `event_type` happened, for `users` and the members of `departments`.

    Call it inside the unit of work that makes the change, holding the case lock when there is
    a case (every case command does): the case's events are numbered 1, 2, 3, ... in commit
    order (`case_seq`), which webhook deliveries keep per case.
    """
    occurred_at = uow.runtime.clock()
    seq = uow.outbox.next_case_seq(case_id) if case_id is not None else None
    uow.outbox.add(OutboxEvent(
        event_id=str(uuid.uuid4()), type=event_type, occurred_at=occurred_at, case_id=case_id,
        project_code=project_code, case_seq=seq, payload=_jsonable(payload),
        recipient_users=sorted({u for u in users if u}) or None,
        recipient_departments=sorted({d for d in departments if d}) or None))


def _jsonable(value: Any) -> Any:
    """Payloads hold plain JSON: datetimes become ISO 8601 text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
