"""Supervision statistics (issue 14): department performance (考核), the time parallel approval
saves, yearly figures; each table also as CSV (UTF-8 with a BOM, so Excel opens the Chinese)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from api.csv_download import csv_table, wants_csv
from api.operation import operation
from api.runtime import runtime
from api.schemas.stats import (CaseTimingSchema, DepartmentQuerySchema, DepartmentReportSchema, PeriodQuerySchema,
                               SavingsReportSchema, YearQuerySchema, YearReportSchema)
from engine.services import statistics

blueprint = Blueprint("stats", __name__)
CSV_NOTE = ("`?format=csv` or `Accept: text/csv`: the same table as CSV, UTF-8 with a byte-order mark "
            "(Excel opens the Chinese headers correctly). ")
ACCESS = ("Admins and province-wide government users: every region; staff, leaders and government users of a "
          "region's window or government: their region and the regions below it (another region: 403). ")


def _media(schema: type) -> dict[str, Any]:
    """JSON by default; the same table as CSV on request."""
    return {"application/json": {"schema": schema}, "text/csv": {"schema": {"type": "string"}}}


@blueprint.get("/stats/departments")
@operation("Department performance (考核): per body, items received and decided, working days used against "
           "the limit, on time, overdue now, escalations, deemed consents, questions answered within 24 h",
           tags=["statistics"], query=DepartmentQuerySchema, response_media=_media(DepartmentReportSchema),
           description=CSV_NOTE + ACCESS + "Staff and leaders of a body: their own body's row only.")
def departments(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        report = statistics.department_performance(uow, actor, first=query.get("from_"), last=query.get("to"),
                                                   region=query.get("region"), lower=query["lower"],
                                                   level=query.get("level"))
    if wants_csv(query):
        return csv_table(*statistics.department_table(report),
                            f"departments_{report['period']['from']}_{report['period']['to']}.csv")
    return DepartmentReportSchema().dump(report)


@blueprint.get("/stats/savings")
@operation("The time parallel approval saves: cases closed (办结) in the period against the serial baselines",
           tags=["statistics"], query=PeriodQuerySchema, response_media=_media(SavingsReportSchema),
           description=CSV_NOTE + ACCESS)
def savings(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        report = statistics.savings(uow, actor, first=query.get("from_"), last=query.get("to"),
                                    region=query.get("region"))
    if wants_csv(query):
        return csv_table(*statistics.savings_table(report),
                            f"savings_{report['period']['from']}_{report['period']['to']}.csv")
    return SavingsReportSchema().dump(report)


@blueprint.get("/stats/years")
@operation("Yearly figures: projects accepted and closed, investment, median days to 办结 by project type, "
           "items by stage, share with phased submission", tags=["statistics"], query=YearQuerySchema,
           response_media=_media(YearReportSchema), description=CSV_NOTE + ACCESS)
def years(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        report = statistics.years(uow, actor, region=query.get("region"), first=query.get("from_year"),
                                  last=query.get("to_year"), by_region=query["by_region"])
    if wants_csv(query):
        return csv_table(*statistics.years_table(report), "years.csv")
    return YearReportSchema().dump(report)


@blueprint.get("/cases/<case_id>/timing")
@operation("A case's timing: working days from acceptance to 办结, the serial baselines, the critical path "
           "and the saving (so far, for an open case)", tags=["cases", "statistics"], response=CaseTimingSchema,
           description="Who may read the case may read its timing (`GET /cases/{id}` rules).")
def case_timing(actor, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return CaseTimingSchema().dump(statistics.case_timing(uow, actor, case_id))
