"""Deadlines of tasks: due dates, warning states (normal → yellow → red) and clock stops.

A user task gets a time limit from its BPMN `camunda:properties` (`time_limit`) or from the
approval item it works on (`item["time_limit"]`). When the task becomes ready its clock
starts: `due_at` = the calendar's `add(now, limit)`, `warn_at` = when it turns yellow.
The worker moves `sla` from normal to yellow at `warn_at` and to red at `due_at`
(engine/services/timers.py); red raises escalation level 1, or — where the item allows deemed
consent — completes the task as consenting.

The clock stops (补正, special procedures) and starts again; per item rule
(`after_stop`: `resume` or `restart`) the limit goes on with the time that was left or
starts afresh. Every stop and start is in the case history.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date as _date
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any


from engine.services import event_catalogue
from engine.adapters import history
from engine.adapters.models import Case, Task
from engine.adapters.queries import inbox_order, overdue_filter, sla_filter  # noqa: F401 - rules of the SLA columns, re-exported
from engine.domain import access
from engine.domain.calendar import Duration, WorkCalendar
from engine.domain.events import TimersChanged
from engine.domain.states import SLA_STATES  # noqa: F401 - re-exported: the words of `tasks.sla`
from engine.domain.states import TaskStatus
from engine.errors import Conflict, Invalid, NotFound
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.domain.access import Actor
    from engine.adapters.uow import UnitOfWork

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
    Duration.parse(str(limit_text))  # a bad limit is the task's error, before anything is set
    now = uow.runtime.clock()
    calendar = uow.runtime.calendars.calendar(uow)
    row.time_limit = str(limit_text)
    row.time_rules = {k: v for k, v in rules.items() if k != "time_limit"} or None
    row.sla = "normal"
    entry = (_continue_item_clock(uow, row, rules, now) if again else None) or ["start", now.isoformat()]
    set_clock(uow, calendar, row, [entry])
    if entry[0] == "continue":
        row.sla = sla_at(row, now) if row.due_at > now else "red"


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
    for candidate in uow.tasks.last_completed_timed(row, same_element, limit=50):
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
    if kind == "correction":  # the enterprise must act (issue 13: the outbox)
        event_catalogue.correction_requested(uow, row.case_id, row, row.name, actor)


def _continue_item_clock(uow: "UnitOfWork", row: Task, rules: dict[str, Any],
                         now: datetime) -> list[Any] | None:
    """The body's task for an item is ready again after a clock stop (a 补正 loop): per the
    item's `after_stop` rule, go on with the time that was left (`resume`: returns the clock-log
    entry that continues the earlier task) or start afresh (`restart`: None)."""
    code = item_code(row.item)
    if code is None:
        return None
    previous = _last_timed_row(uow, row, code, same_element=True)
    if previous is None or previous.completed_at is None:
        return None
    since = uow.tasks.completed_since(row, previous.completed_at, limit=50)
    if not any((t.time_rules or {}).get("clock_stop") and item_code(t.item) == code for t in since):
        return None
    rule = rules.get("after_stop") or uow.runtime.time_policy.restart_after
    row.time_rules = {**(row.time_rules or {}), "after_stop": rule, "continues": previous.id,
                      "stopped_at": previous.completed_at.isoformat(),
                      "previous_due_at": previous.due_at.isoformat()}
    if rule == "restart" or previous.due_at is None:
        return None
    return ["continue", now.isoformat(), previous.id, previous.completed_at.isoformat()]


# --------------------------------------------------------------------------- the clock log
#
# A timed task keeps in `time_rules["clock"]` what its due date was counted from: its start
# (`start`), the item clock it continues after a 补正 loop (`continue`), stops and their
# `resume`/`restart`. Replaying the log on a calendar gives the due date and warning instant;
# it is how they are first computed and how they are recomputed when a provisional year's
# official schedule is loaded (`engine.services.recompute`), so both always agree.


@dataclass(frozen=True)
class ClockDates:
    started: datetime | None
    due: datetime | None
    warn: datetime | None


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _log_of(row: Task) -> list[list[Any]]:
    """The row's clock log; a row timed before logs existed starts from its stored dates."""
    log = (row.time_rules or {}).get("clock")
    if log:
        return [list(entry) for entry in log]
    if row.due_at is None:
        return []
    base: list[list[Any]] = [["base", row.clock_started_at.isoformat() if row.clock_started_at else None,
                              row.due_at.isoformat(), row.warn_at.isoformat() if row.warn_at else None]]
    if row.clock_stopped_at is not None:
        base.append(["stop", row.clock_stopped_at.isoformat()])
    return base


def replay(uow: "UnitOfWork", calendar: WorkCalendar, row: Task, _depth: int = 0) -> ClockDates:
    """The dates a task's clock log gives on `calendar` (an earlier task it continues from is
    replayed too, so the time left at a 补正 stop is counted on the same calendar)."""
    log = (row.time_rules or {}).get("clock")
    if not log:
        return ClockDates(row.clock_started_at, row.due_at, row.warn_at)
    # A task due on a date rather than within a limit has none: a stop only shifts it.
    limit = Duration.parse(row.time_limit) if row.time_limit else None
    unit = limit.unit if limit is not None else "natural_days"
    rules = row.time_rules or {}
    started = due = warn = stopped = None
    for entry in log:
        kind, at = entry[0], _instant(entry[1])
        if kind == "restart" and limit is None:
            kind = "resume"
        if kind == "base":
            started, due, warn = at, _instant(entry[2]), _instant(entry[3])
        elif limit is None and kind in ("start", "continue"):
            continue  # cannot happen: only a limit starts a logged clock
        elif kind in ("start", "restart"):
            started, due = at, calendar.add(at, limit)
            warn = _warn_for(uow, calendar, at, due, limit, rules)
            stopped = None
        elif kind == "continue":
            previous = uow.tasks.get(entry[2]) if _depth < 50 else None
            earlier = replay(uow, calendar, previous, _depth + 1) if previous is not None else None
            since = _instant(entry[3])
            if earlier is None or earlier.due is None:
                started, due = at, calendar.add(at, limit)
                warn = _warn_for(uow, calendar, at, due, limit, rules)
                continue
            due = _shift(calendar, since, at, earlier.due, unit)
            if earlier.warn is not None:
                warn = _shift(calendar, since, at, earlier.warn, unit) if earlier.warn > since else due
            else:
                warn = _warn_for(uow, calendar, at, calendar.add(at, limit), limit, rules)
            started = earlier.started
        elif kind == "stop":
            stopped = at
        elif kind == "resume" and stopped is not None and due is not None:
            if warn is not None and warn > stopped:
                warn = _shift(calendar, stopped, at, warn, unit)
            due = _shift(calendar, stopped, at, due, unit)
            stopped = None
    return ClockDates(started, due, warn)


def provisional_years_text(years: set[int]) -> str | None:
    """The column value for the provisional years a due date depends on (None: official only)."""
    return ",".join(str(y) for y in sorted(years)) or None


def provisional_years_of(row: Task) -> set[int]:
    text = row.due_provisional_years
    return {int(y) for y in text.split(",") if y.strip().isdigit()} if text else set()


def clock_on(uow: "UnitOfWork", calendar: WorkCalendar, row: Task) -> tuple[ClockDates, str | None]:
    """Replay the row's clock on `calendar`: its dates and the provisional years they used."""
    with calendar.tracking() as used:
        dates = replay(uow, calendar, row)
    return dates, provisional_years_text(used)


def set_clock(uow: "UnitOfWork", calendar: WorkCalendar, row: Task, log: list[list[Any]]) -> None:
    """Store the clock log and the dates it gives (and which provisional years they used)."""
    row.time_rules = {**(row.time_rules or {}), "clock": log}
    dates, provisional = clock_on(uow, calendar, row)
    row.clock_started_at, row.due_at, row.warn_at = dates.started, dates.due, dates.warn
    row.due_provisional_years = provisional


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
            "sla": sla_at(row, now) if row.state == TaskStatus.READY else row.sla,
            "remaining_working_hours": round(float(remaining), 2),
            "stopped": row.clock_stopped_at is not None, "stopped_at": row.clock_stopped_at}


# --------------------------------------------------------------------------- list filters


# --------------------------------------------------------------------------- clock stops


def _timed_rows(uow: "UnitOfWork", case_id: str, task_ids: list[str] | None) -> list[Task]:
    return uow.tasks.timed_of_case(case_id, task_ids)


def _case_for_clock(uow: "UnitOfWork", actor: "Actor", case_id: str, task_ids: list[str] | None) -> Case:
    case = uow.lock_case(case_id)
    if not actor.is_admin and not (actor.role == "agent" and case.started_by == actor.name):
        rows = _timed_rows(uow, case_id, task_ids)
        if not rows or any(not access.can_work_task(actor, r.department, r.assignee) for r in rows):
            raise access.Forbidden(f"{actor.name} may not stop or start the clock of this case")
    return case


@use_case
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
        log = _log_of(row) + [["stop", now.isoformat()]]
        row.clock_stopped_at = now
        row.sla = "paused"
        row.time_rules = {**(row.time_rules or {}), "stop_kind": kind, "clock": log}
        history.record(uow, case.id, "clock_stopped", actor.name, task_id=row.id,
                       element_id=row.element_id,
                       data={"kind": kind, "reason": reason, "due_at": row.due_at.isoformat()})
    if kind == "correction":  # the enterprise must act (issue 13: the outbox)
        event_catalogue.correction_requested(uow, case.id, None, reason, actor.name)
    _reschedule(uow, case)
    return rows


@use_case
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
        old_due, stopped = row.due_at, row.clock_stopped_at
        set_clock(uow, calendar, row, _log_of(row) + [["restart" if rule == "restart" else "resume",
                                                        now.isoformat()]])
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
    uow.publish(TimersChanged(case.id))


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


__all__ = ["TimePolicy", "task_clock", "sla_filter", "overdue_filter", "inbox_order",
           "stop_clock", "start_clock", "start_clock_for", "sla_at", "replay", "clock_on", "set_clock",
           "NotFound"]
