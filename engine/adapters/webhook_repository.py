"""Webhooks and their deliveries (`webhooks`, `webhook_deliveries`) as `uow.webhooks`: the SQL of
`engine.services.webhooks` — registrations, the per-case ordered claim of due deliveries, dead
letters. Back-off, leases and who may are the service's rules; here is only what is read and
written."""
from __future__ import annotations

from datetime import datetime
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from engine.adapters.models import OutboxEvent, Webhook, WebhookDelivery
from engine.adapters.repositories import Repository


class WebhookRepository(Repository[Webhook]):
    """Registered hooks (`get`, `add`, `delete`) and their delivery rows."""

    model = Webhook

    def all(self) -> list[Webhook]:
        return list(self.session.scalars(select(Webhook).order_by(Webhook.id)))

    def active(self) -> list[Webhook]:
        return list(self.session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)))

    def remove_deliveries(self, hook_id: int) -> None:
        """Delete a hook's deliveries, whatever their state."""
        self.session.execute(WebhookDelivery.__table__.delete().where(WebhookDelivery.webhook_id == hook_id))

    def delivery_counts(self, hook_ids: list[int]) -> list[tuple[int, str, int]]:
        """(hook id, state, how many) of these hooks' deliveries."""
        if not hook_ids:
            return []
        return [(hook_id, state, count) for hook_id, state, count in self.session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.state, func.count())
            .where(WebhookDelivery.webhook_id.in_(hook_ids))
            .group_by(WebhookDelivery.webhook_id, WebhookDelivery.state))]

    def delivery(self, delivery_id: int, *, for_update: bool = False) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id, with_for_update=True if for_update else None)

    def load_deliveries(self, delivery_ids: list[int]) -> list[WebhookDelivery]:
        """Read these deliveries in one query (then `delivery(id)` finds them without another)."""
        return list(self.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))))

    def due(self, now: datetime, limit: int, skip_locked: bool) -> list[tuple[WebhookDelivery, Webhook, OutboxEvent]]:
        """(delivery, hook, event) of pending deliveries due by `now`, not leased, to active hooks,
        whose ordering key (the case) has nothing earlier pending or dead to the same hook and no
        earlier event not yet fanned out; oldest due first. `skip_locked` (PostgreSQL): rows another
        worker is claiming are passed over, not waited for."""
        earlier = aliased(WebhookDelivery)
        blocked = exists().where(and_(earlier.webhook_id == WebhookDelivery.webhook_id,
                                      earlier.ordering_key == WebhookDelivery.ordering_key,
                                      earlier.event_pk < WebhookDelivery.event_pk,
                                      earlier.state.in_(("pending", "dead"))))
        # An earlier event of the case that no worker has fanned out yet (another worker may be
        # dispatching it right now) has no delivery row to wait for: wait for the event itself.
        this, before = aliased(OutboxEvent), aliased(OutboxEvent)
        undispatched = exists().where(and_(this.id == WebhookDelivery.event_pk, before.case_id == this.case_id,
                                           before.id < this.id, before.dispatched_at.is_(None)))
        query = (select(WebhookDelivery, Webhook, OutboxEvent)
                 .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                 .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_pk)
                 .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now,
                        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
                        Webhook.active.is_(True), ~blocked, ~undispatched)
                 .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.event_pk).limit(limit))
        if skip_locked:
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        return [(row, hook, event) for row, hook, event in self.session.execute(query).all()]

    def deliveries_with_events(self, *, webhook_id: int | None = None, state: str | None = None,
                               newest_first: bool = False, limit: int = 50,
                               offset: int = 0) -> tuple[list[tuple[WebhookDelivery, OutboxEvent]], int]:
        """A page of (delivery, event) by event order (`newest_first`: the other way), of one hook
        and/or one state, and how many there are in all."""
        query = select(WebhookDelivery, OutboxEvent).join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_pk)
        if state is not None:
            query = query.where(WebhookDelivery.state == state)
        if webhook_id is not None:
            query = query.where(WebhookDelivery.webhook_id == webhook_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = WebhookDelivery.event_pk.desc() if newest_first else WebhookDelivery.event_pk
        rows = [(d, e) for d, e in self.session.execute(query.order_by(order).limit(limit).offset(offset)).all()]
        return rows, total

    def pending_after(self, delivery: WebhookDelivery) -> int:
        """How many later deliveries with the same hook and ordering key are pending."""
        return self.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.webhook_id == delivery.webhook_id, WebhookDelivery.ordering_key == delivery.ordering_key,
            WebhookDelivery.event_pk > delivery.event_pk, WebhookDelivery.state == "pending")) or 0
