"""Timer start events: processes that open their own cases (a weekly review every Monday 09:00,
a reminder round at a given date), as Camunda and Flowable do.

- At deploy, each top-level timer start event of the newest version of a process becomes a
  `start_timers` row with its first due instant (a new version replaces the key's rows; an
  identical redeploy keeps them, so restarting the server never resets a schedule). The timer
  value must not depend on case data: there is no case yet. It is evaluated in the same sandbox
  as every other expression; an unevaluable value refuses the deployment, naming the element.
- The worker (`engine.services.timers`) claims due rows from the same lease queue as timer jobs
  and starts one case per firing as the system, with business key `<process>@<due instant>`.
  Starting is idempotent per open business key, so a firing run twice (a worker killed after its
  commit) finds the case already open. The new case's start event counts as fired.
- A cycle (`R3/PT1H`, `R/2026-03-02T09:00+08:00/P7D`) moves to its next instant after each
  firing; occurrences missed while no worker ran are skipped, not replayed in a burst (the skip
  is in the started case's history). A date or duration fires once and its row is removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition,
                                                              TimerEventDefinition)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from engine.adapters.models import Definition, StartTimer
from engine.adapters.spiff_clock import clock_scope
from engine.domain import expressions
from engine.domain.bpmn.timer_events import ClockedTimerEventDefinition
from engine.errors import InvalidDefinition

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

LOCAL = timezone(timedelta(hours=8))  # a timer date without a zone is Beijing time


@dataclass(frozen=True)
class Schedule:
    """When a timer start event first fires, and how it repeats."""

    element_id: str
    due_at: datetime
    interval: timedelta | None = None
    remaining: int | None = None  # cycles left including the first; None: unbounded


def timer_start_events(spec: Any) -> list[Any]:
    """The top-level start events of a process spec that wait for a timer."""
    return [t for t in spec.task_specs.values()
            if isinstance(t, StartEvent) and isinstance(t.event_definition, TimerEventDefinition)]


def _aware(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)).astimezone(timezone.utc)


def schedule_of(task_spec: Any, now: datetime) -> Schedule:
    """The first firing of one timer start event, from `now` (the deploy instant)."""
    definition = task_spec.event_definition
    value = expressions.evaluate(definition.expression, {})
    if not isinstance(value, str):
        raise ValueError(f"the timer value is {type(value).__name__}, not an ISO 8601 text")
    with clock_scope(lambda: now):
        if isinstance(definition, CycleTimerEventDefinition):
            cycles, start, duration = ClockedTimerEventDefinition.parse_iso_recurring_interval(value)
            if duration <= timedelta(0):
                raise ValueError("the cycle's interval must be positive")
            return Schedule(task_spec.bpmn_id, _aware(start), duration, None if cycles < 0 else cycles)
        if isinstance(definition, DurationTimerEventDefinition):
            duration = ClockedTimerEventDefinition.get_timedelta_from_start(
                ClockedTimerEventDefinition.parse_iso_duration(value), now)
            return Schedule(task_spec.bpmn_id, now + duration)
        moment = ClockedTimerEventDefinition.parse_time_or_duration(value)
        if not isinstance(moment, datetime):
            raise ValueError("a timeDate must be a date and time")
        return Schedule(task_spec.bpmn_id, _aware(moment))


def schedules(spec: Any, now: datetime, filename: str) -> list[Schedule]:
    """Every timer start event's schedule; refuses the file if one cannot be worked out."""
    out, problems = [], []
    for task_spec in timer_start_events(spec):
        try:
            out.append(schedule_of(task_spec, now))
        except (expressions.ExpressionError, ValueError, TypeError, KeyError, NameError) as error:
            message = getattr(error, "message", None) or str(error)
            problems.append(f"{filename}: startEvent {task_spec.bpmn_id}: timer start value "
                            f"{task_spec.event_definition.expression!r} cannot be used: {message} "
                            f"(it may not depend on case data)")
    if problems:
        raise InvalidDefinition(problems)
    return out


def replace_for(uow: "UnitOfWork", definition: Definition, planned: list[Schedule]) -> None:
    """Make `definition` (the newest version of its key) own the key's start timers."""
    uow.start_timers.replace_of_key(definition.key, [StartTimer(
        process_key=definition.key, definition_id=definition.id, element_id=item.element_id,
        due_at=item.due_at, interval_seconds=item.interval.total_seconds() if item.interval else None,
        remaining=item.remaining, started=0, attempts=0) for item in planned])


def business_key_for(timer: StartTimer, due: datetime) -> str:
    return f"{timer.process_key}@{due.astimezone(LOCAL).strftime('%Y-%m-%dT%H:%M:%S%z')}"


def pending(uow: "UnitOfWork", process_key: str | None = None) -> list[StartTimer]:
    return uow.start_timers.pending(process_key)
