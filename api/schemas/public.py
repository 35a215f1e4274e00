"""What the public may see of a project's progress (公开监督): no variables, no personal data."""
from __future__ import annotations

from marshmallow import Schema, fields


class PublicDepartmentSchema(Schema):
    code = fields.String(required=True)
    name_zh = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class PublicItemSchema(Schema):
    name = fields.String(allow_none=True)
    department = fields.Nested(PublicDepartmentSchema, required=True)
    state = fields.String(required=True, metadata={"enum": ["in_progress", "completed", "cancelled"]})
    stage = fields.String(allow_none=True)
    started_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    due_provisional = fields.Boolean(metadata={
        "description": "预计: the due date was counted before its year's official schedule"})


class PublicProjectSchema(Schema):
    business_key = fields.String(required=True)
    name = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={
        "enum": ["running", "suspended", "completed", "cancelled", "error"],
        "description": "`error`: a step failed and waits for the centre to repair it (处理异常)"})
    status_name = fields.String(required=True, metadata={"description": "the status as the page shows it, "
                                                                         "e.g. 办理中, 处理异常"})
    stage = fields.String(allow_none=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(PublicItemSchema), required=True)
