"""Timer start events open cases by themselves: a cycle three mornings running, a one-off date,
schedules kept across identical redeploys and replaced by a new version, bad values refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.services import start_timers
from engine.domain.access import Actor
from engine.services.definitions import deploy
from engine.errors import InvalidDefinition
from engine.adapters.models import Case, Event, Task
from engine.services.timers import run_due
from tests.conftest import BPMN, deploy_file

CST = timezone(timedelta(hours=8))


def _cases(runtime, key):
    with runtime.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(select(Case).where(Case.process_key == key).order_by(Case.started_at)).all()
        return [(c.business_key, c.started_by, c.status) for c in rows]


def _ready(runtime, key):
    with runtime.unit_of_work(write=False) as uow:
        return uow.session.scalars(select(Task.element_id).join(Case, Case.id == Task.case_id).where(
            Case.process_key == key, Task.state == "ready")).all()


def _pending(runtime):
    with runtime.unit_of_work(write=False) as uow:
        return {(t.process_key, t.element_id): (t.due_at.astimezone(CST), t.remaining)
                for t in start_timers.pending(uow)}


def test_deploy_schedules_each_timer_start_event(runtime):
    deploy_file(runtime, "timer_start.bpmn")
    assert _pending(runtime) == {
        ("daily_review", "EveryMorning"): (datetime(2026, 3, 2, 10, 0, tzinfo=CST), 3),
        ("one_off_notice", "AtDate"): (datetime(2026, 3, 3, 9, 0, tzinfo=CST), None),  # naive: Beijing
    }


def test_a_cycle_opens_one_case_per_firing_then_stops(runtime, clock):
    deploy_file(runtime, "timer_start.bpmn")
    clock.set(datetime(2026, 3, 2, 9, 59, tzinfo=CST))
    run_due(runtime)
    assert _cases(runtime, "daily_review") == []  # not yet

    clock.set(datetime(2026, 3, 2, 10, 0, 1, tzinfo=CST))
    run_due(runtime)
    run_due(runtime)  # a second round fires nothing twice
    assert _cases(runtime, "daily_review") == [("daily_review@2026-03-02T10:00:00+0800", "system", "running")]
    assert _ready(runtime, "daily_review") == ["Review"]  # the start event did not wait again

    clock.set(datetime(2026, 3, 3, 10, 0, 1, tzinfo=CST))
    run_due(runtime)
    assert [c[0] for c in _cases(runtime, "daily_review")][1:] == ["daily_review@2026-03-03T10:00:00+0800"]
    assert _pending(runtime)[("daily_review", "EveryMorning")] == (datetime(2026, 3, 4, 10, 0, tzinfo=CST), 1)

    clock.set(datetime(2026, 3, 9, 10, 0, 1, tzinfo=CST))  # the worker was down for days
    run_due(runtime)
    assert len(_cases(runtime, "daily_review")) == 3  # the third and last; no burst of missed ones
    assert ("daily_review", "EveryMorning") not in _pending(runtime)
    with runtime.unit_of_work(write=False) as uow:
        started = uow.session.scalars(select(Event.data).where(
            Event.type == "timer_start", Event.element_id == "EveryMorning").order_by(Event.id)).all()
    assert [e["due_at"][:10] for e in started] == ["2026-03-02", "2026-03-03", "2026-03-04"]


def test_a_date_fires_once(runtime, clock):
    deploy_file(runtime, "timer_start.bpmn")
    clock.set(datetime(2026, 3, 3, 9, 0, 5, tzinfo=CST))
    run_due(runtime)
    assert _cases(runtime, "one_off_notice") == [("one_off_notice@2026-03-03T09:00:00+0800", "system", "running")]
    assert _ready(runtime, "one_off_notice") == ["Notice"]
    clock.advance(days=30)
    run_due(runtime)
    assert len(_cases(runtime, "one_off_notice")) == 1


def test_identical_redeploy_keeps_the_schedule_and_a_new_version_replaces_it(runtime, clock, tmp_path):
    deploy_file(runtime, "timer_start.bpmn")
    clock.set(datetime(2026, 3, 2, 10, 0, 1, tzinfo=CST))
    run_due(runtime)
    deploy_file(runtime, "timer_start.bpmn")  # server restart: nothing new
    assert _pending(runtime)[("daily_review", "EveryMorning")][1] == 2

    changed = (BPMN / "timer_start.bpmn").read_bytes().replace(b"R3/2026-03-02T10:00:00+08:00/P1D",
                                                               b"R/2026-03-05T08:30:00+08:00/P7D")
    with runtime.unit_of_work() as uow:
        deploy(uow, Actor("dora", "designer"), changed, "timer_start.bpmn")
        uow.commit()
    assert _pending(runtime)[("daily_review", "EveryMorning")] == (datetime(2026, 3, 5, 8, 30, tzinfo=CST), None)

    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=CST))  # no worker ran for two weeks
    run_due(runtime)
    keys = [c[0] for c in _cases(runtime, "daily_review")]
    assert keys[1:] == ["daily_review@2026-03-05T08:30:00+0800"]  # one late case, not three
    assert _pending(runtime)[("daily_review", "EveryMorning")] == (datetime(2026, 3, 26, 8, 30, tzinfo=CST), None)
    with runtime.unit_of_work(write=False) as uow:
        [late] = uow.session.scalars(select(Event.data).where(Event.type == "timer_start").order_by(
            Event.id.desc()).limit(1)).all()
    assert late["skipped"] == 2  # 12 and 19 March, noted on the case


@pytest.mark.parametrize("value, words", [
    ("<bpmn:timeDuration>PT1H + days</bpmn:timeDuration>", "EveryMorning"),
    ("<bpmn:timeDuration>\"PT\" + str(project['days']) + \"D\"</bpmn:timeDuration>", "may not depend on case data"),
    ("<bpmn:timeCycle>\"R3/PT0S\"</bpmn:timeCycle>", "repeats more often than once a minute"),
])
def test_a_start_timer_that_needs_case_data_is_refused(runtime, value, words):
    text = (BPMN / "timer_start.bpmn").read_text().replace(
        "<bpmn:timeCycle>R3/2026-03-02T10:00:00+08:00/P1D</bpmn:timeCycle>", value)
    with runtime.unit_of_work() as uow, pytest.raises(InvalidDefinition) as refused:
        deploy(uow, Actor("dora", "designer"), text.encode(), "review.bpmn")
    assert "review.bpmn" in str(refused.value) and words in str(refused.value)
    assert _pending(runtime) == {}


def test_designers_see_the_next_firing_over_http(runtime, clock):
    from api.app import create_app
    from tests.api.conftest import Users
    deploy_file(runtime, "timer_start.bpmn")
    users = Users(runtime)
    users.create("dora", "designer")
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    got = client.get("/api/v1/process-definitions/daily_review", headers=users.header("dora"))
    assert got.status_code == 200
    assert got.get_json()["start_timers"] == [{"element_id": "EveryMorning", "version": 1, "remaining": 3,
                                               "started": 0, "next_due_at": "2026-03-02T02:00:00+00:00"}]
