"""SpiffWorkflow's timer events on the runtime clock, with naive dates in Beijing time.

SpiffWorkflow 3.2's timer event definitions read `datetime.now(timezone.utc)` and take a naive
date in the server's zone (its module's `LOCALTZ`). The subclasses here, under the library's
class names (so a saved spec's `typename` and a pending event's `event_type` stay the same),
read the clock of `clock_scope` — the runtime's, so tests move time with the injected clock —
and read naive dates as Beijing time. The parser builds them (`install`), the serializer
restores them (`register`); the library's module is left as it is.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

BEIJING = timezone(timedelta(hours=8))

_clock: contextvars.ContextVar[Callable[[], datetime] | None] = contextvars.ContextVar(
    "onewindow_clock", default=None)


def now() -> datetime:
    """The instant timers compare with: the clock of the enclosing `clock_scope` (UTC aware)."""
    clock = _clock.get()
    return (clock() if clock is not None else datetime.now(timezone.utc)).astimezone(timezone.utc)


@contextlib.contextmanager
def clock_scope(clock: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, timer events read `clock` (the runtime's)."""
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)


class ClockedTimerEventDefinition(spiff_timer.TimerEventDefinition):
    """The library's value parsing with the two things it takes from its module replaced: now
    is `now()`, a naive date is Beijing time. (Its static methods name their own class, so
    each one that reaches either is restated here.)"""

    @staticmethod
    def get_datetime(expression: str) -> datetime:
        moment = datetime.fromisoformat(expression)
        if moment.tzinfo is None:
            moment = datetime.combine(moment.date(), moment.time(), BEIJING)
        return moment.astimezone(timezone.utc)

    @staticmethod
    def get_timedelta_from_start(parsed_duration: dict[str, Any], start: datetime | None = None) -> timedelta:
        return spiff_timer.TimerEventDefinition.get_timedelta_from_start(parsed_duration, start or now())

    @staticmethod
    def parse_iso_week(expression: str) -> datetime:
        match = re.match(r"(\d{4})W(\d{2})(\d)(T.+)?", expression.upper().replace("-", ""))
        year, week, day, time_part = match.groups()  # type: ignore[union-attr]
        day_text = datetime.fromisocalendar(int(year), int(week), int(day)).strftime("%Y-%m-%d")
        return ClockedTimerEventDefinition.get_datetime(day_text + (time_part or ""))

    @staticmethod
    def parse_time_or_duration(expression: str) -> Any:
        if expression.upper().startswith("P"):
            return ClockedTimerEventDefinition.parse_iso_duration(expression)
        if "W" in expression.upper():
            return ClockedTimerEventDefinition.parse_iso_week(expression)
        return ClockedTimerEventDefinition.get_datetime(expression)

    @staticmethod
    def parse_iso_recurring_interval(expression: str) -> tuple[int, datetime, timedelta]:
        timer = ClockedTimerEventDefinition
        components = expression.upper().replace("--", "/").strip("R").split("/")
        cycles = int(components[0]) if components[0] else -1
        start_or_duration = timer.parse_time_or_duration(components[1])
        end_or_duration = timer.parse_time_or_duration(components[2]) if len(components) == 3 else None
        if isinstance(start_or_duration, datetime):  # start time + interval duration
            start = start_or_duration
            duration = timer.get_timedelta_from_start(end_or_duration, start_or_duration)
        elif isinstance(end_or_duration, datetime):  # interval duration + end time
            duration = timer.get_timedelta_from_end(start_or_duration, end_or_duration)
            start = end_or_duration - duration
        elif end_or_duration is None:  # an interval alone: the first is one interval from now
            duration = timer.get_timedelta_from_start(start_or_duration)
            start = now() + duration
        else:
            raise Exception("Invalid recurring interval")  # as the library says it
        return cycles, start, duration


class TimeDateEventDefinition(ClockedTimerEventDefinition, spiff_timer.TimeDateEventDefinition):
    """A timer at a date and time."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if self.parse_time_or_duration(event_value) < now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class DurationTimerEventDefinition(ClockedTimerEventDefinition, spiff_timer.DurationTimerEventDefinition):
    """A timer a duration after it was reached."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed_duration = self.parse_iso_duration(expression)
            event_value = (now() + self.get_timedelta_from_start(parsed_duration)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if self.get_datetime(event_value) < now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class CycleTimerEventDefinition(ClockedTimerEventDefinition, spiff_timer.CycleTimerEventDefinition):
    """A timer that fires every interval, a number of times or for ever."""

    def cycle_complete(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = self.parse_iso_recurring_interval(expression)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        # The next firing passed: one more child; no cycles left: the timer is done.
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event < now():
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


CLOCKED: dict[type, type] = {
    spiff_timer.TimeDateEventDefinition: TimeDateEventDefinition,
    spiff_timer.DurationTimerEventDefinition: DurationTimerEventDefinition,
    spiff_timer.CycleTimerEventDefinition: CycleTimerEventDefinition,
}


class ClockedTimerParserMixin:
    """An event parser whose timer event definitions are the clocked ones."""

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        clocked = CLOCKED.get(type(definition))
        if clocked is None:
            return definition
        return clocked(definition.name, definition.expression, description=definition.description)


def install(parser_classes: dict[str, tuple[type, type]]) -> None:
    """Let every event parser of a parser class map build the clocked timers (changed in place;
    the library's parser classes are left alone)."""
    for tag, (parser, spec_class) in list(parser_classes.items()):
        if hasattr(parser, "parse_timer_event") and not issubclass(parser, ClockedTimerParserMixin):
            parser_classes[tag] = (type(parser.__name__, (ClockedTimerParserMixin, parser), {}), spec_class)


def register(config: dict[type, Any]) -> None:
    """Teach a serializer configuration the clocked timers: the library's converter under the
    same typename, registered after the library's, so saved specs restore into them."""
    for clocked in CLOCKED.values():
        config[clocked] = TimerConditionalEventDefinitionConverter
