"""BPMN messages delivered to waiting cases."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class CaseMessageSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    payload = fields.Raw(load_default=None, allow_none=True,
                         metadata={"description": "any JSON; lands in the process under the message's name"})


class CorrelatedMessageSchema(CaseMessageSchema):
    business_key = fields.String(required=True, validate=validate.Length(min=1, max=120))
