"""Cases: one process instance per project."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import PageQuerySchema, page_schema
from api.schemas.tasks import TaskSchema
from engine.adapters.queries import CASE_STATUSES


class CaseSchema(Schema):
    id = fields.String(required=True)
    process_key = fields.String(required=True)
    process_version = fields.Integer(required=True)
    business_key = fields.String(required=True, metadata={"description": "the project code (项目代码)"})
    name = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(CASE_STATUSES)})
    stage = fields.String(allow_none=True)
    project = fields.Dict(required=True)
    started_by = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    region = fields.String(allow_none=True, metadata={"description": "the region whose window accepted the "
                                                                     "case (the agent's), e.g. pidu"})


class CaseDetailSchema(CaseSchema):
    variables = fields.Dict(required=True)
    open_tasks = fields.List(fields.Nested(TaskSchema), required=True)
    completed_tasks = fields.List(fields.Nested(TaskSchema), required=True)


class StartedCaseSchema(CaseSchema):
    created = fields.Boolean(required=True, metadata={
        "description": "false: an open case of this process for this project existed and is returned"})
    open_tasks = fields.List(fields.Nested(TaskSchema), required=True)


CasePageSchema = page_schema(CaseSchema, "CasePage")


class CaseStartSchema(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=255))
    business_key = fields.String(required=True, validate=validate.Length(min=1, max=120),
                                 metadata={"description": "the project code, e.g. 2026-510117-34-01-000001"})
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "a definition version; default the latest"})
    project = fields.Dict(keys=fields.String(), load_default=dict)
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "admins only: the region the case belongs to; default the "
                                                    "agent's window's region"})

    @validates_schema
    def _project_name(self, data: dict, **_: object) -> None:
        if not data.get("business_key", "x").strip():
            raise ValidationError("must not be blank", "business_key")
        for key in ("project_name", "name"):
            value = data.get("project", {}).get(key)
            if value is not None and (not isinstance(value, str) or len(value) > 255):
                raise ValidationError({key: ["must be a string of at most 255 characters"]}, "project")


class CaseQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    business_key = fields.String(validate=validate.Length(min=1, max=120))
    process_key = fields.String(validate=validate.Length(min=1, max=255))
    agent = fields.String(validate=validate.Length(min=1, max=120),
                          metadata={"description": "the agent who started it, or `me`"})
    department = fields.String(validate=validate.Length(min=1, max=120),
                               metadata={"description": "cases with an open task in this department"})
    overdue = fields.Boolean(metadata={"description": "true: cases with an open task past its due date; "
                                                      "false: cases without"})
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "cases of this region or a region below it (code, "
                                                    "division code or name, e.g. chengdu, 510100, 成都市)"})


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class EventSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    type = fields.String(required=True)
    actor = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True, metadata={"type": "object"})


class HistorySchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    total = fields.Integer(required=True)
