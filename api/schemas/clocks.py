"""Task clocks: stop them (补正, special procedures) and start them again."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.services.deadlines import STOP_KINDS


class ClockStopBodySchema(Schema):
    kind = fields.String(load_default="correction", validate=validate.OneOf(STOP_KINDS))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    task_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=None)


class ClockStartBodySchema(Schema):
    mode = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("resume", "restart")))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    task_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=None)


class TaskClockSchema(Schema):
    task_id = fields.String(required=True)
    due_at = fields.DateTime(allow_none=True)
    due_provisional = fields.Boolean(metadata={"description": "counted on a provisional year (预计)"})
    sla = fields.String(allow_none=True)
    clock_stopped_at = fields.DateTime(allow_none=True)


class TaskClockListSchema(Schema):
    items = fields.List(fields.Nested(TaskClockSchema), required=True)
