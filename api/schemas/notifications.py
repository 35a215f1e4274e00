"""In-app notifications: list, unread count, mark read."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import PageQuerySchema
from engine.services.event_catalogue import EVENT_TYPES


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "the outbox event's id (as in webhook bodies)"})
    type = fields.String(required=True, metadata={"enum": list(EVENT_TYPES)})
    title = fields.String(required=True, metadata={"description": "what the console's bell shows"})
    case_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True, metadata={"description": "the event's payload (docs/api.md, event catalogue)"})
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)
    read = fields.Boolean(required=True)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    unread = fields.Integer(required=True, metadata={"description": "the caller's unread notifications in all"})


class NotificationQuerySchema(PageQuerySchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only those not read yet"})


class UnreadCountSchema(Schema):
    unread = fields.Integer(required=True)


class ReadAllBodySchema(Schema):
    up_to = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "only notifications with an id up to this one (those the caller has seen)"})


class ReadAllSchema(Schema):
    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)
