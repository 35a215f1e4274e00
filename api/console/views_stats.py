"""Supervision pages (统计考核): the overview (the time parallel approval saves, yearly figures), the
department league table (sortable by any column, without JavaScript: the column headers are links),
their charts (SVG from pygal, served apart and embedded with <img>) and CSV downloads. The figures
and who may see them are `engine.services.statistics`'s, as in the API."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, redirect, request, url_for

from api.console import charts
from api.console.blueprint import blueprint
from api.console.web import actor, page
from api.csv_download import csv_table
from api.runtime import runtime
from engine.errors import Forbidden, Invalid
from engine.domain.organisation import LEVELS
from engine.services import statistics

SORTABLE = {key for key, _ in statistics.DEPARTMENT_COLUMNS} | {"escalations"}
LOWER_IS_BETTER = {"days_median", "days_p90", "overdue_now", "escalations", "refused", "sent_to_correction"}


def _date(name: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} is not a date", {name: ["写成 YYYY-MM-DD"]}) from None


def _filters() -> dict[str, Any]:
    level = request.args.get("level") or None
    if level is not None and level not in LEVELS:
        raise Invalid("unknown level", {"level": ["unknown level"]})
    return {"first": _date("from"), "last": _date("to"), "region": request.args.get("region") or None,
            "level": level, "lower": request.args.get("lower", "1") != "0"}


def _departments() -> dict[str, Any]:
    f = _filters()
    with runtime().unit_of_work(write=False) as uow:
        report = statistics.department_performance(uow, actor(), first=f["first"], last=f["last"],
                                                   region=f["region"], lower=f["lower"], level=f["level"])
        report["regions"] = [(r.code, r.name_zh) for r in uow.organisation.regions()]
    return report


def _overview() -> tuple[dict[str, Any], dict[str, Any]]:
    f = _filters()
    with runtime().unit_of_work(write=False) as uow:
        saved = statistics.savings(uow, actor(), first=f["first"], last=f["last"], region=f["region"])
        yearly = statistics.years(uow, actor(), region=f["region"])
        saved["regions_known"] = [(r.code, r.name_zh) for r in uow.organisation.regions()]
    return saved, yearly


def _sort_key(column: str):  # type: ignore[no-untyped-def]
    def key(row: dict[str, Any]) -> tuple:
        value = sum(row["escalations"].values()) if column == "escalations" else row.get(column)
        return (value is None, value if value is not None else 0)
    return key


def _svg(body: str) -> Response:
    response = Response(body, mimetype="image/svg+xml")
    # pygal styles its chart inside the SVG; opened on its own it is a document without scripts
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/stats")
def stats_overview() -> Response:
    try:
        saved, yearly = _overview()
    except Forbidden:  # a body's staff: their own body's figures are all they may see
        return redirect(url_for("console.stats_departments", **request.args), code=303)
    query = {k: v for k, v in request.args.items() if k in ("from", "to", "region") and v}
    return page("stats.html", saved=saved, yearly=yearly, query=query)


@blueprint.get("/stats/departments")
def stats_departments() -> Response:
    report = _departments()
    column = request.args.get("sort", "received")
    if column not in SORTABLE:
        raise Invalid("unknown column", {"sort": ["unknown column"]})
    descending = request.args.get("dir", "asc" if column in LOWER_IS_BETTER else "desc") == "desc"
    rows = sorted(report["departments"], key=_sort_key(column))
    if descending:  # empty values stay last either way
        rows = sorted([r for r in rows if _sort_key(column)(r)[0] is False], key=_sort_key(column),
                      reverse=True) + [r for r in rows if _sort_key(column)(r)[0]]
    query = {k: v for k, v in request.args.items() if k in ("from", "to", "region", "level", "lower") and v}
    return page("stats_departments.html", report=report, rows=rows, sort=column, descending=descending,
                query=query, columns=statistics.DEPARTMENT_COLUMNS, levels=LEVELS,
                level_names={"province": "省级", "city": "市级", "county": "县级"})


@blueprint.get("/stats/departments.csv")
def stats_departments_csv() -> Response:
    report = _departments()
    return csv_table(*statistics.department_table(report),
                        f"departments_{report['period']['from']}_{report['period']['to']}.csv")


@blueprint.get("/stats/years.csv")
def stats_years_csv() -> Response:
    _, yearly = _overview()
    return csv_table(*statistics.years_table(yearly), "years.csv")


@blueprint.get("/stats/savings.csv")
def stats_savings_csv() -> Response:
    saved, _ = _overview()
    return csv_table(*statistics.savings_table(saved), "savings.csv")


@blueprint.get("/stats/charts/<name>.svg")
def stats_chart(name: str) -> Response:
    if name in ("department-days", "department-on-time"):
        rows = _departments()["departments"]
        return _svg(charts.department_days(rows) if name == "department-days" else charts.department_on_time(rows))
    if name in ("savings", "years"):
        saved, yearly = _overview()
        return _svg(charts.savings(saved) if name == "savings" else charts.years(yearly))
    raise Invalid("unknown chart", {"name": ["unknown chart"]})


def sort_link(column: str, current: str, descending: bool, query: dict[str, Any]) -> str:
    """The header link that sorts by `column` (again: the other way round)."""
    if column == current:
        direction = "asc" if descending else "desc"
    else:
        direction = "asc" if column in LOWER_IS_BETTER else "desc"
    return url_for("console.stats_departments", **query, sort=column, dir=direction)


blueprint.add_app_template_global(sort_link, "stats_sort_link")
