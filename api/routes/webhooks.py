"""Webhooks for integrators (admins): /webhooks CRUD, /webhooks/dead-letters and redelivery."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.webhooks import (DeliveryPageSchema, DeadLetterQuerySchema, DeliveryQuerySchema, DeliverySchema,
                                  WebhookCreatedSchema, WebhookCreateSchema, WebhookListSchema, WebhookSchema,
                                  WebhookUpdateSchema)
from engine.services import webhooks

blueprint = Blueprint("webhooks", __name__)
TAGS = ["webhooks"]
_ADMINS = "Admins only. "


def _dump(uow, hook, schema=WebhookSchema, with_secret=False):  # type: ignore[no-untyped-def]
    counts = webhooks.stats(uow, [hook.id])[hook.id]
    return schema().dump(webhooks.as_dict(hook, counts, with_secret=with_secret))


@blueprint.get("/webhooks")
@operation("List webhooks", tags=TAGS, response=WebhookListSchema,
           description=_ADMINS + "Each with its deliveries by state (pending, delivered, dead, discarded).")
def list_webhooks(actor):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        hooks = webhooks.list_hooks(uow, actor)
        counts = webhooks.stats(uow, [h.id for h in hooks])
        items = [webhooks.as_dict(h, counts[h.id]) for h in hooks]
    return WebhookListSchema().dump({"items": items, "total": len(items)})


@blueprint.post("/webhooks")
@operation("Register a webhook", tags=TAGS, body=WebhookCreateSchema, response=WebhookCreatedSchema, status=201,
           description=_ADMINS + "Events published from now on whose type matches `events` are POSTed to `url` "
                                 "as JSON, signed with `X-Onewindow-Signature: sha256=<hex HMAC-SHA256 of the raw "
                                 "body>` under the secret, which is returned once, here.")
def create_webhook(actor, body):  # type: ignore[no-untyped-def]
    shown = webhooks.add_hook_shown(runtime().unit_of_work(), actor, body["url"], body["events"], body.get("secret"),
                                    body.get("description"))
    return WebhookCreatedSchema().dump(shown), 201


@blueprint.get("/webhooks/<int:webhook_id>")
@operation("One webhook", tags=TAGS, response=WebhookSchema, description=_ADMINS)
def get_webhook(actor, webhook_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return _dump(uow, webhooks.get_hook(uow, actor, webhook_id))


@blueprint.patch("/webhooks/<int:webhook_id>")
@operation("Change a webhook: URL, events, active, description; rotate its secret", tags=TAGS,
           body=WebhookUpdateSchema, response=WebhookCreatedSchema,
           description=_ADMINS + "The secret is returned (the new one after `rotate_secret`).")
def update_webhook(actor, body, webhook_id):  # type: ignore[no-untyped-def]
    shown = webhooks.update_hook_shown(runtime().unit_of_work(), actor, webhook_id, url=body.get("url"),
                                       events=body.get("events"), active=body.get("active"),
                                       description=body.get("description"),
                                       rotate_secret=body.get("rotate_secret", False))
    return WebhookCreatedSchema().dump(shown)


@blueprint.delete("/webhooks/<int:webhook_id>")
@operation("Remove a webhook and its deliveries", tags=TAGS, status=204, response_description="removed",
           description=_ADMINS + "Pending deliveries are not sent any more.")
def delete_webhook(actor, webhook_id):  # type: ignore[no-untyped-def]
    webhooks.remove_hook(runtime().unit_of_work(), actor, webhook_id)
    return "", 204


@blueprint.get("/webhooks/<int:webhook_id>/deliveries")
@operation("A webhook's deliveries, newest event first", tags=TAGS, query=DeliveryQuerySchema,
           response=DeliveryPageSchema,
           description=_ADMINS + "Filter by `state` (pending, delivered, dead, discarded); each with its attempts and the "
                                 "receiver's last status and error.")
def list_deliveries(actor, query, webhook_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        per_page, page = query["per_page"], query["page"]
        rows, total = webhooks.deliveries(uow, actor, webhook_id, query.get("state"), per_page, (page - 1) * per_page)
        items = [webhooks.delivery_dict(uow, d, e) for d, e in rows]
    return DeliveryPageSchema().dump({"items": items, "total": total, "page": page, "per_page": per_page})


@blueprint.get("/webhooks/dead-letters")
@operation("Dead letters: deliveries that failed for 24 hours", tags=TAGS, query=DeadLetterQuerySchema,
           response=DeliveryPageSchema,
           description=_ADMINS + "Oldest event first. A dead letter holds back its case's later events to the "
                                 "same hook (`held_back`) until it is redelivered or discarded.")
def list_dead_letters(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        per_page, page = query["per_page"], query["page"]
        rows, total = webhooks.dead_letters(uow, actor, query.get("webhook_id"), per_page, (page - 1) * per_page)
        items = [webhooks.delivery_dict(uow, d, e) for d, e in rows]
    return DeliveryPageSchema().dump({"items": items, "total": total, "page": page, "per_page": per_page})


@blueprint.post("/webhooks/dead-letters/<int:delivery_id>/redeliver")
@operation("Send a dead letter again", tags=TAGS, response=DeliverySchema, conflicts=True,
           description=_ADMINS + "It is due at once, with a fresh 24 hours of retries; the events it held back "
                                 "follow it in order.")
def redeliver(actor, delivery_id):  # type: ignore[no-untyped-def]
    return DeliverySchema().dump(webhooks.redeliver_shown(runtime().unit_of_work(), actor, delivery_id))


@blueprint.post("/webhooks/dead-letters/<int:delivery_id>/discard")
@operation("Give up on a dead letter", tags=TAGS, response=DeliverySchema, conflicts=True,
           description=_ADMINS + "It is never sent; the events it held back go on.")
def discard(actor, delivery_id):  # type: ignore[no-untyped-def]
    return DeliverySchema().dump(webhooks.discard_shown(runtime().unit_of_work(), actor, delivery_id))
