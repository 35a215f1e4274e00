"""The working-day calendar: one year's holidays and adjusted working weekends, and due dates."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class YearCalendarBodySchema(Schema):
    """A year as an administrator writes it (the engine validates every date)."""

    year = fields.Integer(required=True, metadata={"example": 2027})
    holidays = fields.List(fields.String(), load_default=list,
                           metadata={"description": "weekdays off (YYYY-MM-DD)"})
    workdays = fields.List(fields.String(), load_default=list,
                           metadata={"description": "weekend days worked, 调休 (YYYY-MM-DD)"})
    source = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"example": "国务院办公厅关于2027年部分节假日安排的通知"})


class YearCalendarSchema(Schema):
    year = fields.Integer(required=True)
    version = fields.Integer(required=True)
    holidays = fields.List(fields.String(), required=True)
    workdays = fields.List(fields.String(), required=True)
    source = fields.String(allow_none=True)
    loaded_at = fields.DateTime(required=True)
    loaded_by = fields.String(required=True)


class YearQuerySchema(Schema):
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class YearSummarySchema(Schema):
    year = fields.Integer(required=True)
    version = fields.Integer(required=True)
    source = fields.String(allow_none=True)
    loaded_at = fields.DateTime(required=True)
    loaded_by = fields.String(required=True)


class YearListSchema(Schema):
    items = fields.List(fields.Nested(YearSummarySchema), required=True)


class DueQuerySchema(Schema):
    from_ = fields.String(required=True, data_key="from", validate=validate.Length(min=1, max=64),
                          metadata={"example": "2026-09-30T17:00+08:00"})
    duration = fields.String(required=True, validate=validate.Length(min=1, max=60),
                             metadata={"example": "5 working days"})


class DueSchema(Schema):
    from_ = fields.DateTime(required=True, data_key="from")
    duration = fields.String(required=True)
    unit = fields.String(required=True)
    amount = fields.Integer(required=True)
    due = fields.DateTime(required=True)
