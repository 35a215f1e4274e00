"""Phased submission (分期报建): a batch of auxiliary items sent to a running case."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.cases import CaseSchema
from api.schemas.public import PublicItemSchema
from api.schemas.tasks import TaskSchema

STAGES = ["stage1_project_land", "stage2_works_permit", "stage3_construction_permit", "stage4_completion"]


class BatchItemSchema(Schema):
    code = fields.String(validate=validate.Length(min=1, max=60), metadata={"description": "e.g. gate_permit"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    department = fields.String(required=True, validate=validate.Length(min=1, max=120),
                               metadata={"description": "the body's code, e.g. county.zrzyj"})
    time_limit = fields.String(required=True, validate=validate.Length(min=1, max=60),
                               metadata={"description": "e.g. `10 working days`, `15个工作日`, `30 days`"})
    stage = fields.String(validate=validate.OneOf(STAGES))


class BatchSchema(Schema):
    facility = fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "the auxiliary facility, e.g. 门卫室及围墙"})
    items = fields.List(fields.Nested(BatchItemSchema), required=True, validate=validate.Length(min=1, max=50))
    note = fields.String(validate=validate.Length(min=1, max=2000))


class BatchSummarySchema(Schema):
    number = fields.Integer(allow_none=True, metadata={"description": "1 for the case's first batch, …"})
    facility = fields.String(required=True)
    items = fields.List(fields.Nested(BatchItemSchema), required=True)


class BatchCreatedSchema(Schema):
    case = fields.Nested(CaseSchema, required=True)
    batch = fields.Nested(BatchSummarySchema, required=True)
    open_tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={
        "description": "the batch's items' first tasks, already in their bodies' inboxes"})


class BatchStateSchema(Schema):
    number = fields.Integer(required=True)
    facility = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": ["open", "closed"],
                                                    "description": "closed: every item decided"})
    items = fields.List(fields.Nested(PublicItemSchema), required=True)


class BatchListSchema(Schema):
    items = fields.List(fields.Nested(BatchStateSchema), required=True)
    total = fields.Integer(required=True)
