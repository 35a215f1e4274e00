"""Deadlines of tasks: due dates, warning states (normal → yellow → red) and clock stops.

A user task gets a time limit from its BPMN `camunda:properties` (`time_limit`) or from the
approval item it works on (`item["time_limit"]`). When the task becomes ready its clock
starts: `due_at` = the calendar's `add(now, limit)`, `warn_at` = when it turns yellow.
The worker moves `sla` from normal to yellow at `warn_at` and to red at `due_at`
(engine/timers.py); red raises escalation level 1, or — where the item allows deemed
consent — completes the task as consenting.

The clock stops (补正, special procedures) and starts again; per item rule
(`after_stop`: `resume` or `restart`) the limit goes on with the time that was left or
starts afresh. Every stop and start is in the case history.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, select

from engine import access, history
from engine.errors import Conflict, Invalid, NotFound
from engine.store.models import Case, Task
from engine.time.calendar import Duration, WorkCalendar

if TYPE_CHECKING:
    from engine.access import Actor
    from engine.store.uow import UnitOfWork

SLA_STATES = ("normal", "yellow", "red", "paused")
STOP_KINDS = ("correction", "special_procedure", "hearing", "site_inspection", "expert_review",
              "eia_publicity", "other")
_TRUE = {"true", "yes", "1", "on", "是"}


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE if value is not None else False


@dataclass(frozen=True)
class TimePolicy:
    """Thresholds for warnings and escalation (process-wide; a task's properties override)."""

    yellow_share: float | None = 0.8  # yellow once this share of the limit is used…
    yellow_before: Duration | None = None  # …or this long before due, whichever comes first
    escalation_after: Duration = field(default_factory=lambda: Duration(1, "working_days"))
    restart_after: str = "resume"  # default item rule after a clock stop: resume | restart

    @classmethod
    def from_env(cls) -> "TimePolicy":
        env = os.environ
        share = env.get("ONEWINDOW_SLA_YELLOW_SHARE")
        before = env.get("ONEWINDOW_SLA_YELLOW_BEFORE")
        after = env.get("ONEWINDOW_SLA_ESCALATE_AFTER")
        return cls(
            yellow_share=(None if share in ("", "none") else float(share)) if share is not None else 0.8,
            yellow_before=Duration.parse(before) if before else None,
            escalation_after=Duration.parse(after) if after else Duration(1, "working_days"),
            restart_after=env.get("ONEWINDOW_CLOCK_AFTER_STOP", "resume"),
        )


# --------------------------------------------------------------------------- arithmetic


def _subtract(calendar: WorkCalendar, due: datetime, before: Duration) -> datetime:
    """The instant `before` ahead of `due` (working time walks back through office hours)."""
    if before.unit in ("natural_days", "natural_hours"):
        unit = before.unit.split("_")[1]
        return due - timedelta(**{unit: before.amount})
    hours = before.amount * (calendar.office_hours.hours_per_day if before.unit == "working_days" else 1)
    remaining = timedelta(hours=hours)
    local = due.astimezone(calendar.office_hours.tz)
    day, cursor = local.date(), local
    for _ in range(3660):
        if calendar.is_working_day(day):
            for begin, end in reversed(calendar.office_hours.intervals(day)):
                if begin >= cursor:
                    continue
                end = min(end, cursor)
                available = end - begin
                if remaining <= available:
                    return end - remaining
                remaining -= available
                cursor = begin
        day -= timedelta(days=1)
    raise Invalid(f"cannot go back {before} from {due.isoformat()}")


def _advance(calendar: WorkCalendar, start: datetime, due: datetime, unit: str, share: float) -> datetime:
    """The instant when `share` of the time from `start` to `due` is used (working or natural)."""
    if unit in ("natural_days", "natural_hours"):
        return start + (due - start) * share
    total = calendar.working_time_between(start, due, "working_hours")
    local = start.astimezone(calendar.office_hours.tz)
    return calendar._add_working_hours(local, timedelta(hours=total * share))


def warn_instant(calendar: WorkCalendar, start: datetime, due: datetime, limit: Duration,
                 share: float | None, before: Duration | None) -> datetime | None:
    candidates = []
    if share is not None and 0 < share < 1:
        candidates.append(_advance(calendar, start, due, limit.unit, share))
    if before is not None:
        candidates.append(max(_subtract(calendar, due, before), start))
    return min(candidates) if candidates else None


# --------------------------------------------------------------------------- rules of a task


def task_rules(properties: dict[str, Any], item: dict[str, Any] | None) -> dict[str, Any]:
    """The time rules of a task: its BPMN properties, overridden by the item's own data."""
    item = item or {}
    rules: dict[str, Any] = {}
    for key in ("time_limit", "warn_share", "warn_before", "deemed_consent", "after_stop",
                "escalate", "deemed_consent_data", "due_date"):
        value = item.get(key, properties.get(key))
        if value is not None:
            rules[key] = value
    return rules


def start_clock_for(uow: "UnitOfWork", row: Task, properties: dict[str, Any], again: bool = False) -> None:
    """Give a newly ready task its due date and warning instant (from `_row_for`). `again`: the
    same element ran before on this path (a loop, e.g. back from 补正), so the item's clock may
    go on from the earlier task instead of starting afresh."""
    rules = task_rules(properties, row.item)
    if row.time_limit and not (row.item or {}).get("time_limit"):
        rules["time_limit"] = row.time_limit  # the BPMN property, `${expr}` already evaluated
    limit_text = rules.get("time_limit")
    if not limit_text:
        if rules.get("due_date"):
            _start_clock_until(uow, row, rules)
        return
    limit = Duration.parse(str(limit_text))
    now = uow.runtime.clock()
    calendar = uow.runtime.calendars.calendar(uow)
    row.time_limit = str(limit_text)
    row.time_rules = {k: v for k, v in rules.items() if k != "time_limit"} or None
    row.clock_started_at = now
    row.due_at = calendar.add(now, limit)
    row.warn_at = _warn_for(uow, calendar, now, row.due_at, limit, rules)
    row.sla = "normal"
    if again:
        _continue_item_clock(uow, calendar, row, limit, rules, now)


def _start_clock_until(uow: "UnitOfWork", row: Task, rules: dict[str, Any]) -> None:
    """A task due on a date rather than within a limit (`camunda:dueDate`; 容缺受理: the date the
    enterprise promised to supply the missing materials): due at the close of office that day,
    then yellow, red and escalation like any other limit. A date/time value is taken as is."""
    value = rules["due_date"]
    calendar = uow.runtime.calendars.calendar(uow)
    due = promised_instant(calendar, value)
    if due is None:
        raise Invalid(f"due date {value!r} is not a date (YYYY-MM-DD) or a date and time",
                      {"due_date": ["not a date"]})
    now = uow.runtime.clock()
    row.time_rules = {k: (str(v) if k == "due_date" else v) for k, v in rules.items()} or None
    row.clock_started_at = now
    row.due_at = due
    policy = uow.runtime.time_policy
    share = float(rules["warn_share"]) if rules.get("warn_share") is not None else policy.yellow_share
    before = Duration.parse(str(rules["warn_before"])) if rules.get("warn_before") else policy.yellow_before
    row.warn_at = (warn_instant(calendar, now, due, Duration(1, "natural_hours"), share, before)
                   if due > now else None)
    row.sla = sla_at(row, now)


def promised_instant(calendar: WorkCalendar, value: Any) -> datetime | None:
    """When a promised date falls due: a date → the close of office that day (local)."""
    from datetime import date as _date
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=calendar.office_hours.tz)
    if isinstance(value, _date):
        return calendar.office_hours.at(value, calendar.office_hours.day_end)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return calendar.office_hours.at(_date.fromisoformat(text), calendar.office_hours.day_end)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=calendar.office_hours.tz)


# --------------------------------------------------------------------------- an item's clock across 补正


def item_code(item: dict[str, Any] | None) -> str | None:
    """What identifies an approval item within its case (its `code`)."""
    code = item.get("code") if isinstance(item, dict) else None
    return str(code) if code else None


def _last_timed_row(uow: "UnitOfWork", row: Task, code: str, same_element: bool) -> Task | None:
    """The item's most recently completed timed task before `row` (the body's own task)."""
    query = (select(Task).where(Task.case_id == row.case_id, Task.state == "completed",
                                Task.due_at.is_not(None), Task.id != row.id)
             .order_by(Task.completed_at.desc(), Task.id.desc()))
    if same_element:
        query = query.where(Task.element_id == row.element_id)
    for candidate in uow.session.scalars(query.limit(50)):
        if item_code(candidate.item) == code:
            return candidate
    return None


def item_clock_stopped(uow: "UnitOfWork", row: Task, kind: str, actor: str) -> None:
    """A task marked `clock_stop` (e.g. the enterprise's 补正) became ready: the item's clock
    stands still from now until the body's task for the item is ready again."""
    code = item_code(row.item)
    previous = _last_timed_row(uow, row, code, same_element=False) if code else None
    row.time_rules = {**(row.time_rules or {}), "clock_stop": kind}
    history.record(uow, row.case_id, "clock_stopped", actor, task_id=row.id, element_id=row.element_id,
                   data={"kind": kind if kind in STOP_KINDS else "other", "reason": row.name, "item": code,
                         "stopped_task_id": previous.id if previous else None,
                         "due_at": previous.due_at.isoformat() if previous else None})


def _continue_item_clock(uow: "UnitOfWork", calendar: WorkCalendar, row: Task, limit: Duration,
                         rules: dict[str, Any], now: datetime) -> None:
    """The body's task for an item is ready again after a clock stop (a 补正 loop): per the
    item's `after_stop` rule, go on with the time that was left (`resume`) or start afresh."""
    code = item_code(row.item)
    if code is None:
        return
    previous = _last_timed_row(uow, row, code, same_element=True)
    if previous is None or previous.completed_at is None:
        return
    since = uow.session.scalars(select(Task).where(
        Task.case_id == row.case_id, Task.state == "completed", Task.created_at >= previous.completed_at,
        Task.id != row.id).limit(50))
    if not any((t.time_rules or {}).get("clock_stop") and item_code(t.item) == code for t in since):
        return
    rule = rules.get("after_stop") or uow.runtime.time_policy.restart_after
    if rule != "restart" and previous.due_at is not None:
        row.due_at = _shift(calendar, previous.completed_at, now, previous.due_at, limit.unit)
        if previous.warn_at is not None:
            row.warn_at = (_shift(calendar, previous.completed_at, now, previous.warn_at, limit.unit)
                           if previous.warn_at > previous.completed_at else row.due_at)
        row.clock_started_at = previous.clock_started_at
        row.sla = sla_at(row, now) if row.due_at > now else "red"
    row.time_rules = {**(row.time_rules or {}), "after_stop": rule, "continues": previous.id,
                      "stopped_at": previous.completed_at.isoformat(),
                      "previous_due_at": previous.due_at.isoformat()}


def _warn_for(uow: "UnitOfWork", calendar: WorkCalendar, start: datetime, due: datetime,
              limit: Duration, rules: dict[str, Any]) -> datetime | None:
    policy = uow.runtime.time_policy
    share = float(rules["warn_share"]) if rules.get("warn_share") is not None else policy.yellow_share
    before = Duration.parse(str(rules["warn_before"])) if rules.get("warn_before") else policy.yellow_before
    return warn_instant(calendar, start, due, limit, share, before)


def sla_at(row: Task, now: datetime) -> str | None:
    """The warning state a task should be in at `now` (None when it has no limit)."""
    if row.due_at is None:
        return None
    if row.clock_stopped_at is not None:
        return "paused"
    if now >= row.due_at:
        return "red"
    if row.warn_at is not None and now >= row.warn_at:
        return "yellow"
    return "normal"


def deemed_consent_allowed(row: Task) -> bool:
    return _truthy((row.time_rules or {}).get("deemed_consent"))


def escalation_enabled(row: Task) -> bool:
    value = (row.time_rules or {}).get("escalate")
    return True if value is None else _truthy(value)


def task_clock(uow: "UnitOfWork", row: Task, now: datetime | None = None) -> dict[str, Any]:
    """What an inbox shows: due date, warning state, remaining working time (on read)."""
    if row.due_at is None:
        return {"due_at": None, "sla": None, "remaining_working_hours": None, "stopped": False}
    now = now or uow.runtime.clock()
    calendar = uow.runtime.calendars.calendar(uow)
    reference = row.clock_stopped_at or now
    remaining = calendar.remaining(reference, row.due_at, "working_hours")
    return {"due_at": row.due_at, "warn_at": row.warn_at, "time_limit": row.time_limit,
            "sla": sla_at(row, now) if row.state == "ready" else row.sla,
            "remaining_working_hours": round(float(remaining), 2),
            "stopped": row.clock_stopped_at is not None, "stopped_at": row.clock_stopped_at}


# --------------------------------------------------------------------------- list filters


def sla_filter(sla: str) -> ColumnElement[bool]:
    """`/tasks?sla=red`: a WHERE clause on `Task` (the worker keeps `tasks.sla` current)."""
    if sla not in SLA_STATES:
        raise Invalid(f"sla must be one of {', '.join(SLA_STATES)}", {"sla": ["unknown warning state"]})
    return and_(Task.state == "ready", Task.sla == sla)


def overdue_filter(overdue: bool = True) -> ColumnElement[bool]:
    """`/cases?overdue=true`: a WHERE clause on `Case` — it has an open red task."""
    clause = exists(select(Task.id).where(Task.case_id == Case.id, Task.state == "ready",
                                          Task.sla == "red"))
    return clause if overdue else ~clause


def inbox_order() -> tuple:
    """Sort an inbox by due date, tasks with no limit last."""
    return (Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id)


# --------------------------------------------------------------------------- clock stops


def _timed_rows(uow: "UnitOfWork", case_id: str, task_ids: list[str] | None) -> list[Task]:
    query = select(Task).where(Task.case_id == case_id, Task.state == "ready", Task.due_at.is_not(None))
    if task_ids:
        query = query.where(Task.id.in_(task_ids))
    return list(uow.session.scalars(query.order_by(Task.created_at, Task.id)))


def _case_for_clock(uow: "UnitOfWork", actor: "Actor", case_id: str, task_ids: list[str] | None) -> Case:
    case = uow.lock_case(case_id)
    if not actor.is_admin and not (actor.role == "agent" and case.started_by == actor.name):
        rows = _timed_rows(uow, case_id, task_ids)
        if not rows or any(not access.can_work_task(actor, r.department, r.assignee) for r in rows):
            raise access.Forbidden(f"{actor.name} may not stop or start the clock of this case")
    return case


def stop_clock(uow: "UnitOfWork", actor: "Actor", case_id: str, kind: str = "correction",
               reason: str = "", task_ids: list[str] | None = None) -> list[Task]:
    """Stop the clock of the case's open timed tasks (or of `task_ids`): 补正, special procedure."""
    if kind not in STOP_KINDS:
        raise Invalid(f"kind must be one of {', '.join(STOP_KINDS)}", {"kind": ["unknown clock stop"]})
    case = _case_for_clock(uow, actor, case_id, task_ids)
    now = uow.runtime.clock()
    rows = [r for r in _timed_rows(uow, case_id, task_ids) if r.clock_stopped_at is None]
    if not rows:
        raise Conflict(f"case {case_id} has no running task clock to stop")
    for row in rows:
        row.clock_stopped_at = now
        row.sla = "paused"
        row.time_rules = {**(row.time_rules or {}), "stop_kind": kind}
        history.record(uow, case.id, "clock_stopped", actor.name, task_id=row.id,
                       element_id=row.element_id,
                       data={"kind": kind, "reason": reason, "due_at": row.due_at.isoformat()})
    _reschedule(uow, case)
    return rows


def start_clock(uow: "UnitOfWork", actor: "Actor", case_id: str, reason: str = "",
                mode: str | None = None, task_ids: list[str] | None = None) -> list[Task]:
    """Start stopped clocks again: `resume` with the time left, or `restart` the full limit.

    `mode` None applies each item's rule (`after_stop` property), else the policy default.
    """
    if mode not in (None, "resume", "restart"):
        raise Invalid("mode must be resume or restart", {"mode": ["resume or restart"]})
    case = _case_for_clock(uow, actor, case_id, task_ids)
    now = uow.runtime.clock()
    calendar = uow.runtime.calendars.calendar(uow)
    rows = [r for r in _timed_rows(uow, case_id, task_ids) if r.clock_stopped_at is not None]
    if not rows:
        raise Conflict(f"case {case_id} has no stopped task clock")
    for row in rows:
        rules = row.time_rules or {}
        rule = mode or rules.get("after_stop") or uow.runtime.time_policy.restart_after
        # A task due on a promised date has no limit: it resumes (the stop adds the time stood still).
        limit = Duration.parse(row.time_limit) if row.time_limit else Duration(0, "natural_days")
        old_due, stopped = row.due_at, row.clock_stopped_at
        if rule == "restart" and row.time_limit:
            row.clock_started_at = now
            row.due_at = calendar.add(now, limit)
            row.warn_at = _warn_for(uow, calendar, now, row.due_at, limit, rules)
        else:
            row.due_at = _shift(calendar, stopped, now, old_due, limit.unit)
            if row.warn_at is not None:
                row.warn_at = (_shift(calendar, stopped, now, row.warn_at, limit.unit)
                               if row.warn_at > stopped else row.warn_at)
        row.clock_stopped_at = None
        row.sla = None
        row.sla = sla_at(row, now)
        history.record(uow, case.id, "clock_started", actor.name, task_id=row.id,
                       element_id=row.element_id,
                       data={"mode": rule, "reason": reason, "stopped_at": stopped.isoformat(),
                             "previous_due_at": old_due.isoformat(), "due_at": row.due_at.isoformat()})
    _reschedule(uow, case)
    return rows


def _shift(calendar: WorkCalendar, stopped: datetime, now: datetime, instant: datetime,
           unit: str) -> datetime:
    """Move `instant` later by the time the clock stood still (in the limit's own unit)."""
    if now <= stopped:
        return instant
    if unit in ("natural_days", "natural_hours"):
        return instant + (now - stopped)
    if instant <= stopped:
        return instant
    if unit == "working_days":
        left = int(calendar.working_time_between(stopped, instant, "working_days"))
        shifted = calendar.add(now, Duration(left, "working_days"))
        # A stop and restart on the same working day costs nothing.
        return max(shifted, instant)
    left = calendar.working_time_between(stopped, instant, "working_hours")
    local = now.astimezone(calendar.office_hours.tz)
    return calendar._add_working_hours(local, timedelta(hours=float(left)))


def _reschedule(uow: "UnitOfWork", case: Case) -> None:
    from engine import timers
    timers.schedule_case(uow, case)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


__all__ = ["TimePolicy", "task_clock", "sla_filter", "overdue_filter", "inbox_order",
           "stop_clock", "start_clock", "start_clock_for", "sla_at", "NotFound"]
