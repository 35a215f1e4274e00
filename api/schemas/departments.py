"""Government bodies from the organisation file."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.domain.organisation import LEVELS


class DepartmentSchema(Schema):
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    level = fields.String(required=True, metadata={"enum": list(LEVELS)})
    region = fields.String(required=True, metadata={"description": "the region's code, e.g. pidu"})
    parent = fields.String(allow_none=True)
    kind = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    function = fields.String(required=True, metadata={"description": "what kind of body (generic codes "
                                                                     "LEVEL.FUNCTION name it), e.g. fgw"})
    region_name = fields.String(required=True, metadata={"example": "四川省成都市郫都区"})


class DepartmentListSchema(Schema):
    items = fields.List(fields.Nested(DepartmentSchema), required=True)
    total = fields.Integer(required=True)


class DepartmentQuerySchema(Schema):
    level = fields.String(validate=validate.OneOf(LEVELS))
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "one region's bodies: code, division code or name"})
