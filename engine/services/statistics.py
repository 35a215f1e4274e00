"""Supervision statistics (issue 14): department performance (考核), the time parallel approval
saves, yearly figures — read from the summary rows `engine.services.statistics_upkeep` keeps with
the task rows, through `engine.adapters.statistics_queries`.

Who sees what (`scope`): admins and province-wide government users see every region; the staff,
leaders and government users of a region's window or government (coordinators, the centre's
director, the region's government) their region and the regions below it; staff and leaders of a
body only their own body's department figures. Everyone else gets 403.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from engine.domain import access
from engine.adapters import statistics_queries as q
from engine.domain import statistics as figures
from engine.errors import Forbidden, Invalid, NotFound
from engine.services.statistics_upkeep import Tools, spans, state_and_acceptance
from engine.adapters.models import Case

if TYPE_CHECKING:
    from engine.domain.access import Actor
    from engine.adapters.uow import UnitOfWork
    from engine.domain.calendar import WorkCalendar

QUESTION_FORM = "enquiry_answer"
QUESTION_HOURS = 24.0

# --------------------------------------------------------------------------- who sees what


@dataclass(frozen=True)
class Scope:
    """What an actor may see: `regions` None = every region; `department` = only this body's row."""

    regions: tuple[str, ...] | None
    department: str | None = None
    region: str | None = None  # the region the figures are for (None: all)


def scope(uow: "UnitOfWork", actor: "Actor", region: str | None, *, departments_only: bool = False) -> Scope:
    """The regions (and body) whose statistics the actor may read, narrowed to `region`."""
    organisation = uow.organisation
    wanted = organisation.region(region).code if region is not None else None
    if access.sees_everything(actor):
        return Scope(None if wanted is None else tuple(organisation.subtree(wanted)), region=wanted)
    watch = access.oversight(actor, organisation)
    if watch is not None:
        allowed = (watch.region, *watch.below)
        if wanted is not None and wanted not in allowed:
            raise Forbidden(f"{actor.name} may not see the statistics of region {wanted}")
        wanted = wanted or watch.region
        return Scope(tuple(organisation.subtree(wanted)), region=wanted)
    if departments_only and access.is_department_member(actor) and actor.department in organisation:
        own = organisation.get(actor.department)
        if wanted is not None and wanted != own.region:
            raise Forbidden(f"{actor.name} may not see the statistics of region {wanted}")
        return Scope((own.region,), department=actor.department, region=own.region)
    raise Forbidden(f"role {actor.role} may not see statistics")


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last` (dates in Beijing, both included)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, calendar: "WorkCalendar", first: date | None, last: date | None, today: date) -> "Period":
        last = last or today
        first = first or date(last.year, 1, 1)
        if first > last:
            raise Invalid("from is after to", {"from": [f"{first.isoformat()} is after {last.isoformat()}"]})
        tz = calendar.office_hours.tz
        return cls(first, last, datetime.combine(first, time(0), tz),
                   datetime.combine(last + timedelta(days=1), time(0), tz))

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _today(uow: "UnitOfWork") -> date:
    calendar = uow.runtime.calendars.calendar(uow)
    return uow.runtime.clock().astimezone(calendar.office_hours.tz).date()


# --------------------------------------------------------------------------- department performance

DepartmentFigure = Callable[["UnitOfWork", "list[str] | None", Period], "dict[str, dict[str, Any]]"]
DEPARTMENT_FIGURES: dict[str, DepartmentFigure] = {}


def register_department_figure(name: str, provider: DepartmentFigure) -> None:
    """Add (or replace) a per-body figure: `provider(uow, departments, period)` returns, per body
    code, the columns it adds to the league table."""
    DEPARTMENT_FIGURES[name] = provider


def _questions(uow: "UnitOfWork", departments: list[str] | None, period: Period) -> dict[str, dict[str, Any]]:
    """Questions to a body received in the period, and how many it answered within its hours
    (natural hours, 24 by default): the work groups' questions (issue 13) and the questions of
    the enterprise_enquiry process (`enquiry_answer` steps), added together."""
    found: dict[str, dict[str, int]] = {}
    for source in (q.work_group_questions(uow, departments, period.start, period.end),
                   q.questions(uow, departments, period.start, period.end, QUESTION_FORM, QUESTION_HOURS)):
        for department, counts in source.items():
            total = found.setdefault(department, {"questions": 0, "answered_within": 0})
            total["questions"] += counts["questions"]
            total["answered_within"] += counts["answered_within"]
    return {d: {"questions": v["questions"], "questions_answered_24h": v["answered_within"],
                "questions_answered_24h_share": figures.share(v["answered_within"], v["questions"])}
            for d, v in found.items()}


register_department_figure("questions", _questions)

DEPARTMENT_COLUMNS = (
    ("department", "部门代码"), ("name", "部门"), ("region", "地区"), ("level", "层级"),
    ("received", "收件数"), ("decided", "办结数"), ("approved", "准予"), ("refused", "不予许可"),
    ("sent_to_correction", "补正数"), ("days_median", "用时中位数（工作日）"), ("days_p90", "用时P90（工作日）"),
    ("limit_median", "时限中位数（工作日）"), ("on_time_share", "按时办结率"), ("overdue_now", "当前超期"),
    ("escalations_1", "一级协调"), ("escalations_2", "二级协调"), ("escalations_3", "三级协调"),
    ("deemed_consents", "视为同意"), ("questions", "企业诉求数"), ("questions_answered_24h", "24小时内答复"),
    ("questions_answered_24h_share", "24小时答复率"),
)


def _bodies(uow: "UnitOfWork", chosen: Scope, level: str | None) -> list[Any]:
    organisation = uow.organisation
    if chosen.department is not None:
        return [organisation.get(chosen.department)]
    found = organisation.list(level=level)
    if chosen.regions is not None:
        found = [d for d in found if d.region in chosen.regions]
    return found


def department_performance(uow: "UnitOfWork", actor: "Actor", *, first: date | None = None,
                           last: date | None = None, region: str | None = None, lower: bool = True,
                           level: str | None = None) -> dict[str, Any]:
    """Per body of `region` (and the regions below it unless `lower` is False), for the period:
    items received and decided, approved, refused, sent to 补正; working days used (median, p90)
    against the limit; share decided on time; overdue now; escalations by level; deemed
    consents; questions answered within 24 h."""
    chosen = scope(uow, actor, region, departments_only=True)
    if not lower and chosen.region is not None and chosen.department is None:
        chosen = Scope((chosen.region,), region=chosen.region)
    calendar = uow.runtime.calendars.calendar(uow)
    period = Period.of(calendar, first, last, _today(uow))
    bodies = {b.code: b for b in _bodies(uow, chosen, level)}
    codes = list(bodies) if (chosen.regions is not None or level is not None or chosen.department) else None
    got = q.received(uow, codes, period.start, period.end)
    done = q.decided(uow, codes, period.start, period.end)
    raised = q.escalations(uow, codes, period.start, period.end)
    overdue = q.overdue_now(uow, codes, uow.runtime.clock())
    extra = {name: provider(uow, codes, period) for name, provider in DEPARTMENT_FIGURES.items()}
    active = set(got) | set(done) | set(raised) | set(overdue) | set().union(*(set(v) for v in extra.values()))
    organisation = uow.organisation
    rows = []
    total_days: Counter = Counter()
    total_limits: Counter = Counter()
    for code in sorted(active, key=lambda c: (list(bodies).index(c) if c in bodies else len(bodies), c)):
        if codes is not None and code not in bodies:
            continue
        body = bodies.get(code) or (organisation.get(code) if code in organisation else None)
        r, d = got.get(code, {}), done.get(code, {})
        days, limits = d.get("days", Counter()), d.get("limits", Counter())
        total_days.update(days)
        total_limits.update(limits)
        row = {"department": code, "name": body.name_zh if body else None,
               "region": body.region if body else None, "level": body.level if body else None,
               "received": r.get("received", 0), "decided": d.get("decided", 0),
               "approved": d.get("approved", 0), "refused": d.get("refused", 0),
               "sent_to_correction": r.get("sent_to_correction", 0),
               "days_median": figures.median(days), "days_p90": figures.percentile(days, 0.9),
               "limit_median": figures.median(limits),
               "on_time_share": figures.share(d.get("on_time", 0), d.get("timed", 0)),
               "overdue_now": overdue.get(code, 0),
               "escalations": {str(level_): raised.get(code, {}).get(level_, 0) for level_ in (1, 2, 3)},
               "deemed_consents": d.get("deemed", 0),
               "questions": None, "questions_answered_24h": None, "questions_answered_24h_share": None}
        for values in extra.values():
            row.update(values.get(code, {}))
        rows.append(row)
    totals = {key: sum(r[key] or 0 for r in rows) for key in
              ("received", "decided", "approved", "refused", "sent_to_correction", "overdue_now", "deemed_consents")}
    timed = sum(done.get(r["department"], {}).get("timed", 0) for r in rows)
    on_time = sum(done.get(r["department"], {}).get("on_time", 0) for r in rows)
    totals.update(days_median=figures.median(total_days), days_p90=figures.percentile(total_days, 0.9),
                  limit_median=figures.median(total_limits), on_time_share=figures.share(on_time, timed),
                  escalations={str(n): sum(r["escalations"][str(n)] for r in rows) for n in (1, 2, 3)})
    return {"period": period.as_dict(), "region": chosen.region, "lower_regions": lower, "level": level,
            "departments": rows, "totals": totals}


def department_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The league table as CSV columns (Chinese headers) and rows."""
    header = [title for _, title in DEPARTMENT_COLUMNS]
    rows = []
    for r in report["departments"]:
        flat = {**r, **{f"escalations_{n}": r["escalations"][str(n)] for n in (1, 2, 3)}}
        rows.append([flat.get(key) for key, _ in DEPARTMENT_COLUMNS])
    return header, rows


# --------------------------------------------------------------------------- savings


def _saving_figures(f: dict[str, Any]) -> dict[str, Any]:
    vs_limits = figures.saving(f["serial_limits"], f["elapsed_with_limits"])
    vs_serial = figures.saving(f["serial_actual"], f["elapsed_with_actual"])
    return {"cases": f["cases"], "elapsed_days": f["elapsed"], "elapsed_days_median": figures.median(f["histogram"]),
            "serial_limit_days": f["serial_limits"], "serial_actual_days": f["serial_actual"],
            "body_days": f["body"], "critical_path_days": f["critical"], "clock_stop_days": f["stops"],
            "saving_vs_limits_days": vs_limits[0], "saving_vs_limits_percent": vs_limits[1],
            "saving_vs_serial_days": vs_serial[0], "saving_vs_serial_percent": vs_serial[1],
            "headline": (f"并联审批节省 {vs_serial[1]:.0f}%" if vs_serial[1] is not None else None)}


def savings(uow: "UnitOfWork", actor: "Actor", *, first: date | None = None, last: date | None = None,
            region: str | None = None) -> dict[str, Any]:
    """The time saved by parallel approval over the cases closed (办结) in the period: summed
    elapsed working days against the summed serial baselines, in all and per region."""
    chosen = scope(uow, actor, region)
    calendar = uow.runtime.calendars.calendar(uow)
    period = Period.of(calendar, first, last, _today(uow))
    organisation = uow.organisation
    per_region = q.savings(uow, list(chosen.regions) if chosen.regions is not None else None,
                           organisation.default_region, period.start, period.end)
    total = {"cases": 0, "elapsed": 0, "serial_limits": 0, "serial_actual": 0, "body": 0, "critical": 0,
             "stops": 0, "elapsed_with_limits": 0, "elapsed_with_actual": 0, "histogram": Counter()}
    regions = []
    for code in [r.code for r in organisation.regions()] + sorted(set(per_region) - {
            r.code for r in organisation.regions()}):
        if code not in per_region:
            continue
        f = per_region[code]
        for key in total:
            total[key] = total[key] + f[key]
        name = organisation.region(code).name_zh if code in {r.code for r in organisation.regions()} else code
        regions.append({"region": code, "name": name, **_saving_figures(f)})
    return {"period": period.as_dict(), "region": chosen.region, **_saving_figures(total), "regions": regions}


def case_timing(uow: "UnitOfWork", actor: "Actor", case_id: str) -> dict[str, Any]:
    """One case's timing (`GET /cases/{id}/timing`): elapsed working days from acceptance to
    办结, the serial baselines, the critical path and the saving; so far for an open case."""
    case = uow.cases.get(case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    departments = uow.tasks.departments_of_case(case_id)
    access.require_case(actor, case.started_by, departments, case.region or uow.organisation.default_region,
                        uow.organisation)
    tools = Tools(uow)
    items = q.case_items(uow, case_id)
    state, accepted = state_and_acceptance(uow, case)
    closed = case.ended_at if state == "completed" else None
    try:
        timing = figures.case_timing(accepted, closed, spans(items), tools.wd)
        so_far = tools.wd(accepted, tools.now) if accepted and closed is None and state == "open" else None
    except Invalid:
        timing, so_far = figures.case_timing(None, None, spans(items), lambda a, b: 0), None
    names = uow.organisation

    def span(s: figures.Span) -> dict[str, Any]:
        body = names.get(s.department) if s.department and s.department in names else None
        return {"key": s.key, "name": s.name, "stage": s.stage, "department": s.department,
                "department_name": body.name_zh if body else None, "received_at": s.start,
                "decided_at": s.end, "outcome": s.outcome, "days_used": s.days_used,
                "elapsed_days": s.elapsed_days, "limit_days": s.limit_days, "clock_stop_days": s.stop_days}

    saved = timing.savings()
    shown = _visible_departments(uow, actor, case)
    path = [s for s in timing.critical_path if shown is None or s.department in shown]
    items = [s for s in timing.items if shown is None or s.department in shown]
    return {"case_id": case.id, "business_key": case.business_key, "name": case.name, "state": state,
            "accepted_at": accepted, "closed_at": closed, "elapsed_days": timing.elapsed_days,
            "elapsed_days_so_far": so_far, "serial_limit_days": timing.serial_limit_days,
            "serial_actual_days": timing.serial_actual_days, "body_days": timing.body_days,
            "clock_stop_days": timing.stop_days, "critical_path_days": timing.critical_days,
            "saving_vs_limits_days": saved["vs_limits_days"], "saving_vs_limits_percent": saved["vs_limits_percent"],
            "saving_vs_serial_days": saved["vs_serial_days"], "saving_vs_serial_percent": saved["vs_serial_percent"],
            "headline": (f"并联审批节省 {saved['vs_serial_percent']:.0f}%"
                         if saved["vs_serial_percent"] is not None else None),
            "critical_path": [span(s) for s in path], "items": [span(s) for s in items]}


def _visible_departments(uow: "UnitOfWork", actor: "Actor", case: Case) -> set[str] | None:
    """Whose items of the case the actor may see (None: all), as on the case page: staff and
    leaders their own body's; a window or government of the case's region all; one of a region
    above, those at its region's bodies."""
    if not access.is_department_member(actor):
        return None
    watch = access.oversight(actor, uow.organisation)
    region = case.region or uow.organisation.default_region
    if watch is not None and region == watch.region:
        return None
    if watch is not None and region in watch.below:
        return {*watch.bodies, actor.department or ""}
    return {actor.department or ""}


# --------------------------------------------------------------------------- yearly figures

YEAR_COLUMNS = (
    ("year", "年度"), ("region", "地区"), ("accepted", "受理项目数"), ("closed", "办结项目数"),
    ("investment_total", "总投资（万元）"), ("investment_median", "投资中位数（万元）"),
    ("phased_share", "分期报建占比"), ("days_median", "办结用时中位数（工作日）"),
)


def years(uow: "UnitOfWork", actor: "Actor", *, region: str | None = None, first: int | None = None,
          last: int | None = None, by_region: bool = False) -> dict[str, Any]:
    """Per year (in Beijing time) and, with `by_region`, per region: projects accepted and closed
    (办结), total and median investment of those accepted (万元, the registration form's figure),
    median working days to 办结 by project type, items by stage, share of cases with phased
    submission (分期报建)."""
    chosen = scope(uow, actor, region)
    if first is not None and last is not None and first > last:
        raise Invalid("from_year is after to_year", {"from_year": [f"{first} is after {last}"]})
    span = (first or 1900, last or 9999) if (first or last) else None
    organisation = uow.organisation
    regions = list(chosen.regions) if chosen.regions is not None else None
    default = organisation.default_region
    out: dict[tuple[int, str], dict[str, Any]] = {}

    def group(year: int, code: str | None) -> dict[str, Any]:
        key = (year, (code or default) if by_region else (chosen.region or "*"))
        return out.setdefault(key, {"accepted": 0, "closed": 0, "investment": Counter(), "phased": 0,
                                    "days": Counter(), "types": {}, "stages": Counter()})

    for year, code, investment, phased, n in q.accepted_by_year(uow, regions, default, span):
        g = group(year, code)
        g["accepted"] += n
        g["phased"] += n if phased else 0
        if investment is not None:
            g["investment"][investment] += n
    for year, code, kind, days, n in q.closed_by_year(uow, regions, default, span):
        g = group(year, code)
        g["closed"] += n
        if days is not None:
            g["days"][days] += n
            g["types"].setdefault(kind or "其他", Counter())[days] += n
    for year, code, profile, n in q.items_by_stage(uow, regions, default, span):
        if profile:
            for stage, count in json.loads(profile).items():
                group(year, code)["stages"][stage or ""] += count * n
    rows = []
    for (year, code), g in sorted(out.items()):
        invest = g["investment"]
        rows.append({
            "year": year, "region": None if code == "*" else code,
            "accepted": g["accepted"], "closed": g["closed"],
            "investment_total": round(sum(v * n for v, n in invest.items()), 2),
            "investment_median": figures.median(invest),
            "phased_share": figures.share(g["phased"], g["accepted"]),
            "days_median": figures.median(g["days"]),
            "days_median_by_type": {t: figures.median(c) for t, c in sorted(g["types"].items())},
            "items_by_stage": dict(sorted(g["stages"].items())),
        })
    return {"region": chosen.region, "years": rows}


def years_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The yearly figures as CSV: fixed columns, then one per project type and per stage."""
    types = sorted({t for r in report["years"] for t in r["days_median_by_type"]})
    stages = sorted({s for r in report["years"] for s in r["items_by_stage"]})
    header = [title for _, title in YEAR_COLUMNS] + [f"办结用时中位数·{t}" for t in types] + \
             [f"事项数·{s or '未分阶段'}" for s in stages]
    rows = [[r.get(key) for key, _ in YEAR_COLUMNS] + [r["days_median_by_type"].get(t) for t in types] +
            [r["items_by_stage"].get(s, 0) for s in stages] for r in report["years"]]
    return header, rows


def savings_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    columns = (("region", "地区代码"), ("name", "地区"), ("cases", "办结项目数"), ("elapsed_days", "实际用时合计（工作日）"),
               ("elapsed_days_median", "实际用时中位数"), ("serial_limit_days", "串联时限合计"),
               ("serial_actual_days", "串联实际合计"), ("critical_path_days", "关键路径合计"),
               ("clock_stop_days", "停表合计"), ("saving_vs_limits_percent", "较串联时限节省%"),
               ("saving_vs_serial_percent", "较串联实际节省%"))
    return [t for _, t in columns], [[r.get(k) for k, _ in columns] for r in report["regions"]]
