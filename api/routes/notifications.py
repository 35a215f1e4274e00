"""In-app notifications of the caller: GET /notifications, GET /notifications/unread-count,
POST /notifications/{id}/read, POST /notifications/read-all."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.notifications import (NotificationPageSchema, NotificationQuerySchema, NotificationSchema,
                                       ReadAllBodySchema, ReadAllSchema, UnreadCountSchema)
from engine.services import notifications

blueprint = Blueprint("notifications", __name__)
TAGS = ["notifications"]


@blueprint.get("/notifications")
@operation("The caller's notifications, newest first", tags=TAGS, query=NotificationQuerySchema,
           response=NotificationPageSchema, forbidden=False,
           description="Every signed-in user has their own: tasks ready in their department, their claimed "
                       "tasks turning yellow or red, escalations raised to their body, 补正 requests and state "
                       "changes of their cases. `unread=true` lists only unread ones; `unread` counts them all.")
def list_notifications(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        page = notifications.list_for(uow, actor, **query)
        items = [notifications.as_dict(n) for n in page.items]
    return NotificationPageSchema().dump({"items": items, "total": page.total, "page": page.page,
                                          "per_page": page.per_page, "unread": page.unread})


@blueprint.get("/notifications/unread-count")
@operation("How many of the caller's notifications are unread", tags=TAGS, response=UnreadCountSchema,
           forbidden=False)
def unread_count(actor):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return UnreadCountSchema().dump({"unread": notifications.unread_count(uow, actor)})


@blueprint.post("/notifications/<int:notification_id>/read")
@operation("Mark one of the caller's notifications read", tags=TAGS, response=NotificationSchema,
           forbidden=False, description="Idempotent. Another user's notification is 404, as if it did not exist.")
def mark_read(actor, notification_id):  # type: ignore[no-untyped-def]
    row = notifications.mark_read(runtime().unit_of_work(), actor, notification_id)
    return NotificationSchema().dump(notifications.as_dict(row))


@blueprint.post("/notifications/read-all")
@operation("Mark all the caller's notifications read", tags=TAGS, body=ReadAllBodySchema, body_required=False,
           response=ReadAllSchema, forbidden=False,
           description="With `up_to`, only those with an id up to it: one that arrived after the list was "
                       "shown stays unread.")
def mark_all_read(actor, body):  # type: ignore[no-untyped-def]
    marked, unread = notifications.read_all(runtime().unit_of_work(), actor, body.get("up_to"))
    return ReadAllSchema().dump({"marked": marked, "unread": unread})
