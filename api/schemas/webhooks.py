"""Webhooks for integrators (admins): hooks, and dead letters."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import PageQuerySchema
from engine.services.event_catalogue import EVENT_TYPES
from engine.services.webhooks import STATES

_EVENTS_DESCRIPTION = (f"event types ({', '.join(EVENT_TYPES)}), a family such as `task.*`, or `*` for all")


class DeliveryCountsSchema(Schema):
    pending = fields.Integer(required=True)
    delivered = fields.Integer(required=True)
    discarded = fields.Integer(required=True, metadata={"description": "dead letters an admin gave up"})
    dead = fields.Integer(required=True)


class WebhookSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True, metadata={"description": _EVENTS_DESCRIPTION})
    active = fields.Boolean(required=True)
    description = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)
    secret_hint = fields.String(required=True, metadata={"description": "the secret's first characters"})
    deliveries = fields.Nested(DeliveryCountsSchema, required=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(required=True, metadata={
        "description": "the HMAC-SHA256 key of `X-Onewindow-Signature`; shown only here (and on rotation)"})


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema), required=True)
    total = fields.Integer(required=True)


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                        metadata={"description": "http(s) URL the events are POSTed to", "example": "https://example.org/hook"})
    events = fields.List(fields.String(validate=validate.Length(min=1, max=60)), required=True,
                         validate=validate.Length(min=1, max=50), metadata={"description": _EVENTS_DESCRIPTION})
    secret = fields.String(validate=validate.Length(min=16, max=200),
                           metadata={"description": "the signing key; omitted: a random one is made and returned"})
    description = fields.String(validate=validate.Length(max=500))


class WebhookUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    events = fields.List(fields.String(validate=validate.Length(min=1, max=60)), validate=validate.Length(min=1, max=50))
    active = fields.Boolean(metadata={"description": "false: nothing is sent (deliveries wait) until true again"})
    description = fields.String(validate=validate.Length(max=500))
    rotate_secret = fields.Boolean(load_default=False, metadata={"description": "make a new secret (returned)"})


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    webhook_id = fields.Integer(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    case_id = fields.String(allow_none=True)
    sequence = fields.Integer(allow_none=True, metadata={"description": "the event's number within its case"})
    occurred_at = fields.DateTime(required=True)
    state = fields.String(required=True, metadata={"enum": list(STATES)})
    attempts = fields.Integer(required=True)
    first_attempt_at = fields.DateTime(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    last_status = fields.Integer(allow_none=True, metadata={"description": "the receiver's last HTTP status"})
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    dead_at = fields.DateTime(allow_none=True)
    held_back = fields.Integer(required=True, metadata={
        "description": "later events of the same case to this hook waiting behind this dead letter"})


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class DeliveryQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf(STATES))


class DeadLetterQuerySchema(PageQuerySchema):
    webhook_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
