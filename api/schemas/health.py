"""GET /health."""
from __future__ import annotations

from marshmallow import Schema, fields


class HealthDefinitionSchema(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(allow_none=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    version = fields.String(required=True)
    database = fields.String(required=True)
    definitions = fields.List(fields.Nested(HealthDefinitionSchema), required=True)
