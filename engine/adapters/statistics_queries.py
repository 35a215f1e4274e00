"""The SQL of the statistics: reading an item's task rows, writing the summary rows, and the
aggregates the figures are made of. The same statements on SQLite and PostgreSQL: every
aggregate is a `GROUP BY` with counts (medians come from value histograms, computed in
`engine.domain.statistics`), so the answer does not depend on a dialect's percentile functions.

Summary rows (`stat_items`, `stat_cases`) are written by `engine.services.statistics` in the
transaction that changed the task rows; the aggregates read them through their indexes
(migration 0015): `ix_stat_items_decided` (decided in a period, per body: outcome, working days,
on time, deemed), `ix_stat_items_received`, `ix_stat_cases_closed`, `ix_stat_cases_accepted`,
`ix_escalations_item_raised`, and the tasks' `ix_tasks_console_inbox` for what is overdue now.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case as when, delete, false, func, or_, select
from sqlalchemy.orm import Session

from engine.adapters.models import Escalation, Question, QuestionAddressee, StatCase, StatItem, Task

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


def _in(column: Any, values: list[str] | None) -> Any:
    """`column IN values`; None means no restriction, an empty list matches nothing."""
    if values is None:
        return True
    return column.in_(values) if values else false()


def _period(column: Any, start: datetime | None, end: datetime | None) -> Any:
    clauses = []
    if start is not None:
        clauses.append(column >= start)
    if end is not None:
        clauses.append(column < end)
    return and_(column.is_not(None), *clauses)


# --------------------------------------------------------------------------- upkeep


def window_tasks(session: Session, case_id: str, form_keys: tuple[str, ...]) -> list[Task]:
    """A case's completed tasks with these forms that belong to no item (intake, closure)."""
    return list(session.scalars(
        select(Task).where(Task.case_id == case_id, Task.form_key.in_(form_keys), Task.state == "completed",
                           Task.item["code"].as_string().is_(None))
        .order_by(Task.completed_at, Task.id)))


def has_window_intake(session: Session, case_id: str) -> bool:
    """Whether the case's process has a window intake at all (else it is accepted at its start)."""
    return session.scalar(select(func.count()).select_from(Task).where(
        Task.case_id == case_id, Task.form_key == "intake", Task.item["code"].as_string().is_(None))) > 0


def case_items(uow: "UnitOfWork", case_id: str) -> list[StatItem]:
    return list(uow.session.scalars(select(StatItem).where(StatItem.case_id == case_id)
                                    .order_by(StatItem.received_at, StatItem.id)))


def clear(session: Session, case_ids: list[str] | None = None) -> None:
    """Remove summary rows (all, or of these cases) before a rebuild."""
    for model, column in ((StatItem, StatItem.case_id), (StatCase, StatCase.case_id)):
        statement = delete(model)
        if case_ids is not None:
            statement = statement.where(column.in_(case_ids))
        session.execute(statement)


def tasks_of(session: Session, case_ids: list[str]) -> list[Task]:
    """Every task row of these cases, each case's in creation order (a rebuild reads them at once)."""
    return list(session.scalars(select(Task).where(Task.case_id.in_(case_ids))
                                .order_by(Task.case_id, Task.created_at, Task.id)))


# --------------------------------------------------------------------------- department figures


def received(uow: "UnitOfWork", departments: list[str] | None, start: datetime | None,
             end: datetime | None) -> dict[str, dict[str, int]]:
    """Per body: items received in the period, and how many of them it sent to 补正."""
    rows = uow.session.execute(
        select(StatItem.department, func.count(),
               func.sum(when((StatItem.corrections > 0, 1), else_=0)))
        .where(_period(StatItem.received_at, start, end), _in(StatItem.department, departments))
        .group_by(StatItem.department)).all()
    return {d: {"received": n, "sent_to_correction": int(c or 0)} for d, n, c in rows if d}


def decided(uow: "UnitOfWork", departments: list[str] | None, start: datetime | None,
            end: datetime | None) -> dict[str, dict[str, Any]]:
    """Per body, items decided in the period: counts by outcome, on time, deemed consent, and the
    histograms of working days used and of limits (for medians and p90) — one index-only scan."""
    rows = uow.session.execute(
        select(StatItem.department, StatItem.outcome, StatItem.days_used, StatItem.on_time, StatItem.deemed,
               StatItem.limit_days, func.count())
        .where(_period(StatItem.decided_at, start, end), _in(StatItem.department, departments))
        .group_by(StatItem.department, StatItem.outcome, StatItem.days_used, StatItem.on_time,
                  StatItem.deemed, StatItem.limit_days)).all()
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"decided": 0, "approved": 0, "refused": 0, "timed": 0,
                                                          "on_time": 0, "deemed": 0, "days": Counter(),
                                                          "limits": Counter()})
    for department, outcome, days, on_time, deemed, limit, n in rows:
        if not department:
            continue
        figures = out[department]
        figures["decided"] += n
        if outcome in ("approved", "refused"):
            figures[outcome] += n
        if on_time is not None:
            figures["timed"] += n
            figures["on_time"] += n if on_time else 0
        figures["deemed"] += n if deemed else 0
        if days is not None:
            figures["days"][days] += n
        if limit is not None:
            figures["limits"][limit] += n
    return dict(out)


def escalations(uow: "UnitOfWork", departments: list[str] | None, start: datetime | None,
                end: datetime | None) -> dict[str, dict[int, int]]:
    """Per item body: escalation levels raised in the period (三级协调)."""
    rows = uow.session.execute(
        select(Escalation.item_department, Escalation.level, func.count())
        .where(_period(Escalation.raised_at, start, end), _in(Escalation.item_department, departments))
        .group_by(Escalation.item_department, Escalation.level)).all()
    out: dict[str, dict[int, int]] = defaultdict(dict)
    for department, level, n in rows:
        if department:
            out[department][int(level)] = n
    return dict(out)


def overdue_now(uow: "UnitOfWork", departments: list[str] | None, now: datetime) -> dict[str, int]:
    """Per body: open tasks past their due date right now (a stopped clock is not overdue)."""
    rows = uow.session.execute(
        select(Task.department, func.count())
        .where(_in(Task.department, departments), Task.state == "ready", Task.due_at < now,
               Task.clock_stopped_at.is_(None))
        .group_by(Task.department)).all()
    return {d: n for d, n in rows if d}


def questions(uow: "UnitOfWork", departments: list[str] | None, start: datetime | None, end: datetime | None,
              form_key: str, hours: float) -> dict[str, dict[str, int]]:
    """Per body: questions (steps with this form) received in the period, and those answered
    within `hours` natural hours."""
    rows = uow.session.execute(
        select(StatItem.department, func.count(),
               func.sum(when((and_(StatItem.hours_used.is_not(None), StatItem.hours_used <= hours), 1), else_=0)))
        .where(StatItem.form_key == form_key, _period(StatItem.received_at, start, end),
               _in(StatItem.department, departments))
        .group_by(StatItem.department)).all()
    return {d: {"questions": n, "answered_within": int(a or 0)} for d, n, a in rows if d}


def work_group_questions(uow: "UnitOfWork", departments: list[str] | None, start: datetime | None,
                         end: datetime | None) -> dict[str, dict[str, int]]:
    """Per body: work-group questions (issue 13) addressed to it and asked in the period, and
    those it answered within the region's hours (each addressed body has its own clock)."""
    rows = uow.session.execute(
        select(QuestionAddressee.department, func.count(),
               func.sum(when((QuestionAddressee.on_time.is_(True), 1), else_=0)))
        .join(Question, Question.id == QuestionAddressee.question_id)
        .where(_period(Question.asked_at, start, end), _in(QuestionAddressee.department, departments))
        .group_by(QuestionAddressee.department)).all()
    return {d: {"questions": n, "answered_within": int(a or 0)} for d, n, a in rows if d}


# --------------------------------------------------------------------------- savings and years


def _region_clause(regions: list[str] | None, default_region: str | None) -> Any:
    if regions is None:
        return True
    clause = _in(StatCase.region, regions)
    return or_(clause, StatCase.region.is_(None)) if default_region in (regions or []) else clause


def savings(uow: "UnitOfWork", regions: list[str] | None, default_region: str | None,
            start: datetime | None, end: datetime | None) -> dict[str, dict[str, Any]]:
    """Per region: cases closed (办结) in the period with their summed days, and the histogram of
    elapsed working days."""
    where = (_period(StatCase.closed_at, start, end), _region_clause(regions, default_region),
             StatCase.elapsed_days.is_not(None))
    rows = uow.session.execute(
        select(StatCase.region, StatCase.elapsed_days, func.count(), func.sum(StatCase.serial_limit_days),
               func.sum(StatCase.serial_actual_days), func.sum(StatCase.body_days),
               func.sum(StatCase.critical_days), func.sum(StatCase.stop_days),
               func.sum(when((StatCase.serial_limit_days.is_not(None), StatCase.elapsed_days), else_=0)),
               func.sum(when((StatCase.serial_actual_days.is_not(None), StatCase.elapsed_days), else_=0)))
        .where(*where).group_by(StatCase.region, StatCase.elapsed_days)).all()
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "cases": 0, "elapsed": 0, "serial_limits": 0, "serial_actual": 0, "body": 0, "critical": 0, "stops": 0,
        "elapsed_with_limits": 0, "elapsed_with_actual": 0, "histogram": Counter()})
    for region, elapsed, n, limits, actual, body, critical, stops, with_limits, with_actual in rows:
        figures = out[region or default_region or ""]
        figures["cases"] += n
        figures["elapsed"] += elapsed * n
        figures["serial_limits"] += int(limits or 0)
        figures["serial_actual"] += int(actual or 0)
        figures["body"] += int(body or 0)
        figures["critical"] += int(critical or 0)
        figures["stops"] += int(stops or 0)
        figures["elapsed_with_limits"] += int(with_limits or 0)
        figures["elapsed_with_actual"] += int(with_actual or 0)
        figures["histogram"][elapsed] += n
    return dict(out)


def accepted_by_year(uow: "UnitOfWork", regions: list[str] | None, default_region: str | None,
                     years: tuple[int, int] | None) -> list[tuple[int, str | None, float | None, bool, int]]:
    """(year, region, investment, phased, count) of the cases accepted, grouped."""
    clauses = [StatCase.accepted_year.is_not(None), _region_clause(regions, default_region)]
    if years is not None:
        clauses += [StatCase.accepted_year >= years[0], StatCase.accepted_year <= years[1]]
    phased = (StatCase.batches > 0).label("phased")
    return [tuple(r) for r in uow.session.execute(
        select(StatCase.accepted_year, StatCase.region, StatCase.investment, phased, func.count())
        .where(*clauses).group_by(StatCase.accepted_year, StatCase.region, StatCase.investment, phased)).all()]


def closed_by_year(uow: "UnitOfWork", regions: list[str] | None, default_region: str | None,
                   years: tuple[int, int] | None) -> list[tuple[int, str | None, str | None, int | None, int]]:
    """(year, region, project type, elapsed working days, count) of the cases closed (办结)."""
    clauses = [StatCase.closed_year.is_not(None), _region_clause(regions, default_region)]
    if years is not None:
        clauses += [StatCase.closed_year >= years[0], StatCase.closed_year <= years[1]]
    return [tuple(r) for r in uow.session.execute(
        select(StatCase.closed_year, StatCase.region, StatCase.project_type, StatCase.elapsed_days, func.count())
        .where(*clauses).group_by(StatCase.closed_year, StatCase.region, StatCase.project_type,
                                  StatCase.elapsed_days)).all()]


def items_by_stage(uow: "UnitOfWork", regions: list[str] | None, default_region: str | None,
                   years: tuple[int, int] | None) -> list[tuple[int, str | None, str | None, int]]:
    """(year accepted, region, stage profile as JSON text, cases) of the cases accepted."""
    clauses = [StatCase.accepted_year.is_not(None), _region_clause(regions, default_region)]
    if years is not None:
        clauses += [StatCase.accepted_year >= years[0], StatCase.accepted_year <= years[1]]
    return [tuple(r) for r in uow.session.execute(
        select(StatCase.accepted_year, StatCase.region, StatCase.stage_items, func.count())
        .where(*clauses).group_by(StatCase.accepted_year, StatCase.region, StatCase.stage_items)).all()]


__all__ = ["window_tasks", "case_items", "received", "decided", "escalations",
           "overdue_now", "questions", "savings", "accepted_by_year", "closed_by_year", "items_by_stage"]
