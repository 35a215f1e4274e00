"""The engine sets no global of SpiffWorkflow's timer module: its timers are subclasses
(engine.domain.bpmn.timer_events) that read the runtime clock and Beijing time."""
from __future__ import annotations

import datetime as real_datetime
from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

import engine.adapters.serializer  # noqa: F401 - builds the serializers, registers the timers
import engine.runtime  # noqa: F401 - the composition root: everything the engine sets up at import
import engine.services.timers  # noqa: F401 - the worker
from engine.domain.bpmn import timer_events
from engine.domain.bpmn.timer_events import ClockedTimerEventDefinition, clock_scope

NOON_BEIJING = datetime(2026, 3, 2, 4, 0, tzinfo=timezone.utc)


def test_the_library_timer_module_keeps_its_own_datetime_and_zone():
    assert spiff_timer.datetime is real_datetime.datetime
    assert spiff_timer.LOCALTZ == timezone(timedelta(seconds=-spiff_timer.seconds_from_utc))


def test_a_date_without_zone_is_beijing_time_and_now_is_the_clock_in_scope():
    assert ClockedTimerEventDefinition.get_datetime("2026-03-02T12:00:00") == NOON_BEIJING
    assert ClockedTimerEventDefinition.parse_iso_week("2026-W10-1T12:00:00") == NOON_BEIJING
    with clock_scope(lambda: NOON_BEIJING):
        assert timer_events.now() == NOON_BEIJING
        cycles, start, interval = ClockedTimerEventDefinition.parse_iso_recurring_interval("R3/PT1H")
    assert (cycles, start, interval) == (3, NOON_BEIJING + timedelta(hours=1), timedelta(hours=1))
