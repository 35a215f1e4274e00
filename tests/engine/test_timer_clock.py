"""SpiffWorkflow's timers on the runtime clock through our subclasses (engine.domain.bpmn.timer_events):
a state saved before them loads and saves byte for byte, and its timers fire on the runtime clock."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lxml import etree
from SpiffWorkflow.util.task import TaskState

import engine.adapters.sandbox  # noqa: F401 - expressions run in the sandbox the runtime imports
from engine.adapters.serializer import dump_specs, dump_state, load_specs, load_state
from engine.adapters.spiff_clock import clock_scope
from engine.domain.bpmn import timer_events
from engine.domain.bpmn.parser import parse_specs

DATA = Path(__file__).parent / "data"
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # Mon 09:00 Beijing time
# Written by the engine before the subclasses (commit f7840f9): specs and a state whose three
# timers wait (`Noon` holds a date without a zone, counted in Beijing time).
SAVED = json.loads((DATA / "timer_clock_saved_before_subclasses.json").read_text())


def _timer_kinds(spec) -> dict[str, type]:
    return {t.bpmn_id: type(t.event_definition) for t in spec.task_specs.values()
            if t.bpmn_id in ("Noon", "AnHour", "Remind")}


def _ends_reached(workflow) -> dict[str, int]:
    """How often each end event after a timer was reached."""
    return {end: n for end in ("AtNoon", "AfterAnHour", "Reminded")
            if (n := sum(t.state == TaskState.COMPLETED for t in workflow.get_tasks(spec_name=end)))}


def test_specs_and_a_state_saved_before_the_subclasses_load_into_them_and_save_the_same_text():
    spec, subprocess_specs = load_specs(SAVED["specs"])
    assert _timer_kinds(spec) == {"Noon": timer_events.TimeDateEventDefinition,
                                  "AnHour": timer_events.DurationTimerEventDefinition,
                                  "Remind": timer_events.CycleTimerEventDefinition}
    assert dump_specs(spec, subprocess_specs) == SAVED["specs"]
    workflow = load_state(SAVED["state"], spec, subprocess_specs)
    assert dump_state(workflow) == SAVED["state"]


def test_the_parser_builds_the_clocked_timers_and_their_specs_are_stored_as_before():
    parsed = parse_specs(etree.parse(str(DATA / "timer_clock.bpmn")), "timer_clock.bpmn")
    spec = parsed.specs["timer_clock"]
    assert set(_timer_kinds(spec).values()) == set(timer_events.CLOCKED.values())
    restored = load_specs(dump_specs(spec, parsed.subprocess_specs["timer_clock"]))
    assert dump_specs(*restored) == SAVED["specs"]


def test_saved_timers_fire_on_the_runtime_clock_and_a_date_without_zone_is_beijing_time():
    spec, subprocess_specs = load_specs(SAVED["specs"])
    workflow = load_state(SAVED["state"], spec, subprocess_specs)
    fired = []
    for minutes in (29, 31, 61, 179, 181):  # the cycle at 30 and 60, the hour at 60, noon at 180
        with clock_scope(lambda: START + timedelta(minutes=minutes)):
            workflow.refresh_timers()
            workflow.do_engine_steps()
        fired.append((minutes, _ends_reached(workflow)))
    assert fired == [(29, {}), (31, {"Reminded": 1}), (61, {"AfterAnHour": 1, "Reminded": 2}),
                     (179, {"AfterAnHour": 1, "Reminded": 2}), (181, {"AtNoon": 1, "AfterAnHour": 1, "Reminded": 2})]
