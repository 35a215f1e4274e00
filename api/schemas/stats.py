"""Supervision statistics (issue 14): query parameters and the JSON shapes of the figures."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.domain.organisation import LEVELS

FORMATS = ("json", "csv")
_REGION = {"description": "a region (code, division code or name: chengdu, 510100, 成都市); default: the "
                          "caller's region (province-wide users: all)"}


class PeriodQuerySchema(Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "first day (Beijing), default 1 January of `to`'s year"})
    to = fields.Date(metadata={"description": "last day included (Beijing), default today"})
    region = fields.String(validate=validate.Length(min=1, max=120), metadata=_REGION)
    format = fields.String(validate=validate.OneOf(FORMATS),
                           metadata={"description": "csv: the table as UTF-8 CSV with a BOM (also `Accept: text/csv`)"})


class DepartmentQuerySchema(PeriodQuerySchema):
    level = fields.String(validate=validate.OneOf(LEVELS), metadata={"description": "bodies of this level only"})
    lower = fields.Boolean(load_default=True, metadata={"description": "include the regions below `region` (default true)"})


class YearQuerySchema(Schema):
    region = fields.String(validate=validate.Length(min=1, max=120), metadata=_REGION)
    from_year = fields.Integer(validate=validate.Range(1900, 2200))
    to_year = fields.Integer(validate=validate.Range(1900, 2200))
    by_region = fields.Boolean(load_default=False, metadata={"description": "one row per year and region"})
    format = fields.String(validate=validate.OneOf(FORMATS))


class DepartmentRowSchema(Schema):
    department = fields.String(required=True)
    name = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    received = fields.Integer(required=True, metadata={"description": "items (and steps) received in the period"})
    decided = fields.Integer(required=True, metadata={"description": "decided in the period"})
    approved = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    sent_to_correction = fields.Integer(required=True, metadata={"description": "of those received, sent to 补正"})
    days_median = fields.Float(allow_none=True, metadata={"description": "working days used per decided item (补正 not counted)"})
    days_p90 = fields.Float(allow_none=True)
    limit_median = fields.Float(allow_none=True, metadata={"description": "the limits, in working days"})
    on_time_share = fields.Float(allow_none=True, metadata={"description": "decided within the due date (0-1)"})
    overdue_now = fields.Integer(required=True)
    escalations = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                              metadata={"description": "levels raised in the period: {\"1\": n, \"2\": n, \"3\": n}"})
    deemed_consents = fields.Integer(required=True)
    questions = fields.Integer(allow_none=True)
    questions_answered_24h = fields.Integer(allow_none=True)
    questions_answered_24h_share = fields.Float(allow_none=True)


class DepartmentTotalsSchema(Schema):
    received = fields.Integer()
    decided = fields.Integer()
    approved = fields.Integer()
    refused = fields.Integer()
    sent_to_correction = fields.Integer()
    overdue_now = fields.Integer()
    deemed_consents = fields.Integer()
    days_median = fields.Float(allow_none=True)
    days_p90 = fields.Float(allow_none=True)
    limit_median = fields.Float(allow_none=True)
    on_time_share = fields.Float(allow_none=True)
    escalations = fields.Dict(keys=fields.String(), values=fields.Integer())


class PeriodSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", required=True)
    to = fields.String(required=True)


class DepartmentReportSchema(Schema):
    period = fields.Nested(PeriodSchema, required=True)
    region = fields.String(allow_none=True)
    lower_regions = fields.Boolean()
    level = fields.String(allow_none=True)
    departments = fields.List(fields.Nested(DepartmentRowSchema), required=True)
    totals = fields.Nested(DepartmentTotalsSchema, required=True)


class SavingFiguresSchema(Schema):
    cases = fields.Integer(required=True, metadata={"description": "cases closed (办结) in the period"})
    elapsed_days = fields.Integer(required=True, metadata={"description": "working days from acceptance to 办结, summed"})
    elapsed_days_median = fields.Float(allow_none=True)
    serial_limit_days = fields.Integer(required=True, metadata={"description": "baseline: the items' limits, summed"})
    serial_actual_days = fields.Integer(required=True,
                                        metadata={"description": "baseline: the items' actual durations one after another"})
    body_days = fields.Integer(required=True, metadata={"description": "working days the bodies held the items"})
    critical_path_days = fields.Integer(required=True)
    clock_stop_days = fields.Integer(required=True, metadata={"description": "补正 and special procedures, shown apart"})
    saving_vs_limits_days = fields.Float(allow_none=True)
    saving_vs_limits_percent = fields.Float(allow_none=True)
    saving_vs_serial_days = fields.Float(allow_none=True)
    saving_vs_serial_percent = fields.Float(allow_none=True)
    headline = fields.String(allow_none=True, metadata={"description": "e.g. 并联审批节省 71%"})


class SavingRegionSchema(SavingFiguresSchema):
    region = fields.String(required=True)
    name = fields.String(allow_none=True)


class SavingsReportSchema(SavingFiguresSchema):
    period = fields.Nested(PeriodSchema, required=True)
    region = fields.String(allow_none=True)
    regions = fields.List(fields.Nested(SavingRegionSchema), required=True)


class TimingItemSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(allow_none=True)
    stage = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    outcome = fields.String(required=True)
    days_used = fields.Integer(allow_none=True)
    elapsed_days = fields.Integer(allow_none=True)
    limit_days = fields.Integer(allow_none=True)
    clock_stop_days = fields.Integer(required=True)


class CaseTimingSchema(Schema):
    case_id = fields.String(required=True)
    business_key = fields.String(required=True)
    name = fields.String(allow_none=True)
    state = fields.String(required=True, metadata={"enum": ["open", "completed", "terminated"]})
    accepted_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    elapsed_days = fields.Integer(allow_none=True)
    elapsed_days_so_far = fields.Integer(allow_none=True)
    serial_limit_days = fields.Integer(allow_none=True)
    serial_actual_days = fields.Integer(allow_none=True)
    body_days = fields.Integer(allow_none=True)
    clock_stop_days = fields.Integer(required=True)
    critical_path_days = fields.Integer(allow_none=True)
    saving_vs_limits_days = fields.Float(allow_none=True)
    saving_vs_limits_percent = fields.Float(allow_none=True)
    saving_vs_serial_days = fields.Float(allow_none=True)
    saving_vs_serial_percent = fields.Float(allow_none=True)
    headline = fields.String(allow_none=True)
    critical_path = fields.List(fields.Nested(TimingItemSchema), required=True)
    items = fields.List(fields.Nested(TimingItemSchema), required=True)


class YearRowSchema(Schema):
    year = fields.Integer(required=True)
    region = fields.String(allow_none=True)
    accepted = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    investment_total = fields.Float(required=True, metadata={"description": "万元, cases accepted that year"})
    investment_median = fields.Float(allow_none=True)
    phased_share = fields.Float(allow_none=True, metadata={"description": "share of cases accepted with 分期报建 batches"})
    days_median = fields.Float(allow_none=True, metadata={"description": "working days from acceptance to 办结"})
    days_median_by_type = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), required=True)
    items_by_stage = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class YearReportSchema(Schema):
    region = fields.String(allow_none=True)
    years = fields.List(fields.Nested(YearRowSchema), required=True)
