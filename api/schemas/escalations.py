"""Escalations (三级协调): list and resolve."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.services.escalation import STATUSES


class EscalationSchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.String(required=True)
    task_id = fields.String(required=True)
    level = fields.Integer(required=True)
    department = fields.String(required=True, metadata={"description": "the body that must act"})
    role = fields.String(required=True)
    item_department = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    reason = fields.String(allow_none=True)
    raised_at = fields.DateTime(required=True)
    next_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class EscalationListSchema(Schema):
    items = fields.List(fields.Nested(EscalationSchema), required=True)
    total = fields.Integer(required=True)


class EscalationQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    level = fields.Integer(validate=validate.Range(min=1, max=9))
    department = fields.String(validate=validate.Length(min=1, max=120))
    case_id = fields.String(validate=validate.Length(min=1, max=36))
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "escalations of the cases of this region or a region below it (code, "
                                                    "division code or name, e.g. chengdu, 510100, 成都市)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class ResolveBodySchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))
