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


YEAR_STATUSES = ("official", "provisional", "missing")
_STATUS_HELP = ("official: loaded data; provisional: no official schedule yet, counted on the statutory "
                "holidays and 补假 without 调休 (due dates flagged due_provisional, recomputed when the "
                "year is loaded); missing: a due date in this year is an error")


class RecomputedSchema(Schema):
    """What loading a year moved: open due dates counted on it while it was provisional."""

    years = fields.List(fields.Integer(), required=True,
                        metadata={"description": "the years loaded for the first time"})
    tasks_checked = fields.Integer(required=True,
                                   metadata={"description": "open tasks whose dates used a now official year"})
    tasks_changed = fields.Integer(required=True,
                                   metadata={"description": "tasks whose due date, warning or escalation "
                                                            "moved (one due_recomputed event each)"})
    escalations_changed = fields.Integer(required=True)
    cases = fields.Integer(required=True, metadata={"description": "cases with a changed task"})


class YearCalendarSchema(Schema):
    year = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(YEAR_STATUSES), "description": _STATUS_HELP})
    version = fields.Integer(allow_none=True, metadata={"description": "null for a provisional year"})
    holidays = fields.List(fields.String(), required=True)
    workdays = fields.List(fields.String(), required=True)
    source = fields.String(allow_none=True)
    loaded_at = fields.DateTime(allow_none=True)
    loaded_by = fields.String(allow_none=True)
    recomputed = fields.Nested(RecomputedSchema, metadata={"description": "after a load (PUT) only"})


class YearQuerySchema(Schema):
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class YearSummarySchema(Schema):
    year = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(YEAR_STATUSES), "description": _STATUS_HELP})
    version = fields.Integer(allow_none=True)
    source = fields.String(allow_none=True)
    loaded_at = fields.DateTime(allow_none=True)
    loaded_by = fields.String(allow_none=True)


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
    provisional = fields.Boolean(required=True,
                                 metadata={"description": "counted on a year without official data (预计)"})
    provisional_years = fields.List(fields.Integer(), required=True)
