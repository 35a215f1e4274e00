"""Timer values (ISO 8601 dates, durations, cycles) checked before SpiffWorkflow computes with them.

SpiffWorkflow parses timer values with no bounds: `P99999999Y` loops over 1.2 billion months,
`R/PT0S` fires on every refresh for ever, a date in year 9999 or 0001 overflows, and a value
of the wrong type (`5`, `[1]`) raises a bare `AttributeError`. So every timer value is checked
here first, with the same rules at deploy (literal values, naming file, line and element) and at
run time (values computed from case data, which become an error on the case and its task):

- a duration, and a date's distance from now, are at most 100 years;
- a cycle repeats at most every minute (its interval is at least `MIN_CYCLE`);
- the text is what SpiffWorkflow can read for that kind of timer.
"""
from __future__ import annotations

import ast
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition,
                                                              TimeDateEventDefinition,
                                                              TimerEventDefinition)

from engine.domain.bpmn import timer_events
from engine.domain.bpmn.timer_events import BEIJING, ClockedTimerEventDefinition

MAX_SPAN = timedelta(days=36525)  # 100 years
MIN_CYCLE = timedelta(minutes=1)
MAX_TEXT = 200
KINDS = ("timeDate", "timeDuration", "timeCycle")

_NUM = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(rf"P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
                       rf"(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?", re.I)
# Approximate length of each designator, only to refuse absurd values before exact arithmetic.
_APPROX_DAYS = (365.25, 30.44, 7, 1, 1 / 24, 1 / 1440, 1 / 86400)
# What a designer meant as an ISO 8601 value (not a case variable): `PT2X`, `P1Q`, `R5/...`.
_LOOKS_ISO = re.compile(r"(?:P(?:T?\d)[0-9A-Z.,:/+-]*|R\d*/.*|\d{4}-\d{2}.*)", re.S)


class TimerValueError(ValueError):
    """A timer value that cannot or must not be used; the message is safe to show."""


def _now() -> datetime:
    """The clock SpiffWorkflow's timers read (the runtime clock inside `timer_events.clock_scope`)."""
    return timer_events.now()


def _duration(text: str, start: datetime) -> timedelta:
    match = _DURATION.fullmatch(text)
    if not match or not any(match.groups()) or text.upper().endswith("T"):
        raise TimerValueError(f"{text!r} is not an ISO 8601 duration such as 'PT24H' or 'P5D'")
    approx = sum(float(g.replace(",", ".")) * days for g, days in zip(match.groups(), _APPROX_DAYS) if g)
    if approx > MAX_SPAN.days:
        raise TimerValueError(f"the duration {text!r} is longer than 100 years")
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
        delta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for what it cannot read
        raise TimerValueError(f"{text!r} is not an ISO 8601 duration SpiffWorkflow can read "
                              f"(weeks cannot be mixed with other units)") from None
    if delta > MAX_SPAN:
        raise TimerValueError(f"the duration {text!r} is longer than 100 years")
    return delta


def _date(text: str, now: datetime) -> datetime:
    if text.upper().startswith("P"):
        raise TimerValueError(f"{text!r} is a duration; a timeDate needs a date and time "
                              f"such as '2026-09-30T17:00:00+08:00'")
    try:
        if "W" in text.upper():
            moment = ClockedTimerEventDefinition.parse_iso_week(text)
        else:
            moment = datetime.fromisoformat(text)
    except Exception:  # noqa: BLE001 - fromisoformat/parse_iso_week: ValueError, AttributeError
        raise TimerValueError(f"{text!r} is not an ISO 8601 date and time such as "
                              f"'2026-09-30T17:00:00+08:00'") from None
    if abs(moment.year - now.year) > 100:  # before any zone arithmetic, which may overflow
        raise TimerValueError(f"the date {text!r} is more than 100 years from now")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    moment = moment.astimezone(timezone.utc)
    if abs(moment - now) > MAX_SPAN:
        raise TimerValueError(f"the date {text!r} is more than 100 years from now")
    return moment


def _cycle(text: str, now: datetime) -> timedelta:
    parts = text.upper().replace("--", "/").split("/")
    count = parts[0][1:]
    if not parts[0].startswith("R") or (count and not count.isdigit()) or len(parts) not in (2, 3):
        raise TimerValueError(f"{text!r} is not an ISO 8601 cycle such as 'R3/PT1H' or "
                              f"'R/2026-03-02T09:00:00+08:00/P7D'")
    if len(count) > 9:
        raise TimerValueError(f"the cycle {text!r} repeats too many times")
    if len(parts) == 2:
        interval = _duration(parts[1], now)
    elif parts[1].startswith("P"):  # interval/end
        end = _date(parts[2], now)
        interval = _duration(parts[1], end)
        if abs(end - interval - now) > MAX_SPAN:
            raise TimerValueError(f"the cycle {text!r} starts more than 100 years from now")
    else:  # start/interval
        interval = _duration(parts[2], _date(parts[1], now))
    if interval < MIN_CYCLE:
        raise TimerValueError(f"the cycle {text!r} repeats more often than once a minute")
    try:
        ClockedTimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow's own reading must succeed too
        raise TimerValueError(f"{text!r} is not an ISO 8601 cycle SpiffWorkflow can read") from None
    return interval


def check_value(kind: str, value: Any, now: datetime | None = None) -> None:
    """Raise `TimerValueError` unless `value` is a usable `kind` timer value at `now`."""
    now = now or _now()
    if not isinstance(value, str):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise TimerValueError(f"the {kind} value is {type(value).__name__} {shown}, "
                              f"not ISO 8601 text")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise TimerValueError(f"the {kind} value is longer than {MAX_TEXT} characters")
    if kind == "timeDuration":
        _duration(text, now)
    elif kind == "timeDate":
        _date(text, now)
    elif kind == "timeCycle":
        _cycle(text, now)
    else:
        raise ValueError(f"unknown timer kind {kind!r}")


def literal_of(text: str, iso_literal: re.Pattern[str]) -> str | None:
    """The fixed value of a timer expression as written in a BPMN file, or None when it is
    computed from case data (`wait`, `deadline_of(item)`).

    An unquoted ISO 8601 value (`PT24H`), a quoted one (`"PT24H"`), and anything that looks like
    an ISO 8601 value but is not one (`PT2X`) count as fixed, so the deploy can check them.
    """
    text = text.strip()
    if iso_literal.fullmatch(text) or _LOOKS_ISO.fullmatch(text):
        return text
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def kind_of(definition: Any) -> str | None:
    if isinstance(definition, CycleTimerEventDefinition):
        return "timeCycle"
    if isinstance(definition, DurationTimerEventDefinition):
        return "timeDuration"
    if isinstance(definition, TimeDateEventDefinition):
        return "timeDate"
    return None
