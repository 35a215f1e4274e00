"""Deleting what the notification machinery no longer needs, in bounded batches (issue 13's outbox,
webhook deliveries and in-app notifications grow with every command; see engine/services/retention.py).

Each method deletes at most `limit` rows older than `cutoff` and returns how many it deleted, so a
caller commits between batches and never holds long locks on a large table.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.adapters.models import Notification, OutboxEvent, WebhookDelivery

FINISHED_DELIVERIES = ("delivered", "discarded")


class RetentionStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _delete_ids(self, model, ids: list[int]) -> int:  # type: ignore[no-untyped-def]
        if not ids:
            return 0
        # rowcount, not len(ids): another worker purging at the same time may have deleted some
        result = self.session.execute(delete(model).where(model.id.in_(ids)),
                                      execution_options={"synchronize_session": False})
        return int(result.rowcount)

    def purge_deliveries(self, cutoff: datetime, limit: int) -> int:
        """Delivered or discarded webhook deliveries created before `cutoff` (pending and dead letters stay:
        an administrator still has to act on a dead letter, and a pending one holds its case's order)."""
        ids = list(self.session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.state.in_(FINISHED_DELIVERIES),
                                             WebhookDelivery.created_at < cutoff)
            .order_by(WebhookDelivery.id).limit(limit)))
        return self._delete_ids(WebhookDelivery, ids)

    def purge_events(self, cutoff: datetime, limit: int) -> int:
        """Outbox events that occurred before `cutoff`, were fanned out and have no delivery left.

        A case's newest event stays whatever its age: the case's next event is numbered from it
        (`OutboxRepository.next_case_seq`), and integrators rely on `sequence` growing per case."""
        newer = aliased(OutboxEvent)
        ids = list(self.session.scalars(
            select(OutboxEvent.id).where(
                OutboxEvent.dispatched_at.is_not(None), OutboxEvent.occurred_at < cutoff,
                ~exists().where(WebhookDelivery.event_pk == OutboxEvent.id),
                or_(OutboxEvent.case_id.is_(None),
                    exists().where(and_(newer.case_id == OutboxEvent.case_id,
                                        newer.case_seq > func.coalesce(OutboxEvent.case_seq, 0)))))
            .order_by(OutboxEvent.id).limit(limit)))
        return self._delete_ids(OutboxEvent, ids)

    def purge_notifications(self, cutoff: datetime, limit: int) -> int:
        """In-app notifications read before `cutoff` (unread ones stay until their reader sees them)."""
        ids = list(self.session.scalars(
            select(Notification.id).where(Notification.read_at.is_not(None), Notification.read_at < cutoff)
            .order_by(Notification.id).limit(limit)))
        return self._delete_ids(Notification, ids)
