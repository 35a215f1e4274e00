"""Move the dates counted on a provisional year once its official schedule is loaded.

A year without official data is counted on its statutory holidays alone (no 调休); the due
dates, warning instants and escalation levels that used it are provisional. Loading the year
(`calendar_years.load_year`) calls `recompute_provisional` in the same transaction: every open task
whose due date used a year that is now official (`tasks.due_provisional_years`) replays its
clock log on the calendar in force (its start, the item clock it continues after 补正, its
stops and resumptions), so the time already used and the time left at a stop are counted on
the official days. Open escalations whose next level falls across a newly official year are
rescheduled the same way. Each changed task gets a `due_recomputed` event with the dates
before and after; the case's timer jobs (warning, red/deemed consent, next escalation level)
are rewritten from the new dates.

A warning state never goes up here (the worker does that at the new instants, with its usual
events, escalations and deemed consent); it goes down when the official calendar says the task
is not yellow or overdue after all, and then the escalations raised on the provisional date are
withdrawn. A deemed consent given on a provisional date stands: it completed the task.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.adapters import history
from engine.adapters.models import Task
from engine.domain.calendar import DEFAULT_OFFICE_HOURS
from engine.domain.events import TimersChanged
from engine.domain.states import TaskStatus
from engine.services import deadlines
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork
    from engine.domain.calendar import WorkCalendar

_ORDER = {None: 0, "normal": 0, "yellow": 1, "red": 2}
_BEIJING = DEFAULT_OFFICE_HOURS.tz


def _iso(moment: datetime | None) -> str | None:
    """Instants in events in Beijing time, as the calendar counts them."""
    return moment.astimezone(_BEIJING).isoformat() if moment is not None else None


def _year_bounds(calendar: "WorkCalendar", year: int) -> tuple[datetime, datetime]:
    """The first instant of `year` and of the next one, local (Asia/Shanghai)."""
    start = datetime(year, 1, 1, tzinfo=calendar.office_hours.tz)
    return start, datetime(year + 1, 1, 1, tzinfo=calendar.office_hours.tz)


def _escalations_across(uow: "UnitOfWork", calendar: "WorkCalendar",
                        years: set[int]) -> dict[str, list[int]]:
    """Open escalations whose next level was counted across one of `years` (raised before its
    end, next level after its start), by case."""
    if not years:
        return {}
    spans = [_year_bounds(calendar, year) for year in sorted(years)]
    out: dict[str, list[int]] = {}
    for escalation_id, case_id in uow.escalations.open_across(spans):
        out.setdefault(case_id, []).append(escalation_id)
    return out


def _tasks_to_recompute(uow: "UnitOfWork", official: set[int]) -> dict[str, list[str]]:
    """Open tasks whose dates used a year that now has official data, by case."""
    out: dict[str, list[str]] = {}
    for task_id, case_id, text in uow.tasks.provisional_ready():
        years = {int(y) for y in text.split(",") if y.strip().isdigit()}
        if years & official:
            out.setdefault(case_id, []).append(task_id)
    return out


def _withdraw_escalations(uow: "UnitOfWork", row: Task, reason: str) -> list[int]:
    """A task that is not overdue on the official calendar after all: its escalations were raised
    on a provisional date and are withdrawn (rows removed, an `escalation_withdrawn` event each),
    so the levels are raised afresh if it does fall overdue."""
    withdrawn = []
    for escalation in uow.escalations.of_task(row.id, "open", "escalated"):
        history.record(uow, row.case_id, "escalation_withdrawn", "system", task_id=row.id,
                       element_id=row.element_id,
                       data={"escalation_id": escalation.id, "level": escalation.level,
                             "department": escalation.department, "reason": reason})
        withdrawn.append(escalation.id)
        uow.escalations.delete(escalation)
    return withdrawn


def _recompute_task(uow: "UnitOfWork", calendar: "WorkCalendar", row: Task, now: datetime,
                    official: set[int]) -> dict[str, Any] | None:
    """Replay one task's clock on the calendar in force; the changes, or None when its dates
    stay (it may still stop being provisional)."""
    loaded = deadlines.provisional_years_of(row) & official
    if row.state != TaskStatus.READY or not loaded:
        return None  # completed or recomputed since the candidates were read
    before = {"due_at": row.due_at, "warn_at": row.warn_at, "sla": row.sla,
              "provisional_years": row.due_provisional_years}
    dates, provisional = deadlines.clock_on(uow, calendar, row)
    row.clock_started_at, row.due_at, row.warn_at = dates.started, dates.due, dates.warn
    row.due_provisional_years = provisional
    withdrawn: list[int] = []
    if row.clock_stopped_at is None and row.sla in ("yellow", "red"):
        state = deadlines.sla_at(row, now)
        if _ORDER.get(state, 0) < _ORDER[row.sla]:
            if row.sla == "red":
                withdrawn = _withdraw_escalations(
                    uow, row, f"not overdue on the official calendar (due {row.due_at.isoformat()})")
            row.sla = state
    if (row.due_at, row.warn_at) == (before["due_at"], before["warn_at"]):
        return None
    return {"years": sorted(loaded),
            "due_at": {"before": _iso(before["due_at"]), "after": _iso(row.due_at)},
            "warn_at": {"before": _iso(before["warn_at"]), "after": _iso(row.warn_at)},
            "sla": {"before": before["sla"], "after": row.sla},
            "provisional_years": {"before": before["provisional_years"], "after": provisional},
            "escalations_withdrawn": withdrawn}


@use_case
def recompute_provisional(uow: "UnitOfWork", newly_official: set[int], actor: str) -> dict[str, Any]:
    """Recompute every open date counted on a year that now has official data (in the caller's
    transaction; the caller commits). `newly_official`: the years just loaded for the first
    time (their escalation levels are rescheduled too). Returns the counts for the response."""
    calendar = uow.runtime.calendars.calendar(uow)
    official = set(calendar.years)
    now = uow.runtime.clock()
    policy = uow.runtime.time_policy
    tasks = _tasks_to_recompute(uow, official)
    escalations = _escalations_across(uow, calendar, newly_official & official)
    result: dict[str, Any] = {"years": sorted(newly_official), "tasks_checked": 0, "tasks_changed": 0,
                              "escalations_changed": 0, "cases": 0}
    for case_id in sorted(set(tasks) | set(escalations)):  # one order: no deadlock with a worker
        case = uow.lock_case(case_id)
        changes: dict[str, dict[str, Any]] = {}
        rows = {row.id: row for row in uow.tasks.fresh_of_ids(tasks.get(case_id, []))}
        for row in rows.values():
            result["tasks_checked"] += 1
            change = _recompute_task(uow, calendar, row, now, official)
            if change is not None:
                changes[row.id] = change
        for escalation in uow.escalations.fresh_of_ids(escalations.get(case_id, [])):
            if escalation.status != "open" or escalation.next_at is None:
                continue
            next_at = calendar.add(escalation.raised_at, policy.escalation_after)
            if next_at == escalation.next_at:
                continue
            change = changes.setdefault(escalation.task_id, {"years": sorted(newly_official)})
            change.setdefault("escalations", []).append(
                {"escalation_id": escalation.id, "level": escalation.level,
                 "next_at": {"before": _iso(escalation.next_at), "after": _iso(next_at)}})
            escalation.next_at = next_at
            result["escalations_changed"] += 1
        for task_id, change in changes.items():
            row = rows.get(task_id) or uow.tasks.get(task_id)
            history.record(uow, case.id, "due_recomputed", actor, task_id=task_id,
                           element_id=row.element_id if row is not None else None,
                           data=change)
        result["tasks_changed"] += len(changes)
        if changes:
            result["cases"] += 1
        uow.publish(TimersChanged(case.id))
    return result


__all__ = ["recompute_provisional"]
