"""Issue 10, calendar years without official data: a year with no schedule yet is counted
provisionally on its statutory holidays, due dates say so, and loading the official year moves
exactly the dates that used it (clock stops, warnings, escalations, jobs) in one transaction."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.services import cases
from engine.services import timers
from engine.domain.access import Actor
from engine.errors import Invalid
from engine.adapters.history import case_history
from engine.adapters.models import Escalation, Task, TimerJob
from engine.services import deadlines
from engine.services import calendar_years
from engine.domain.calendar import WorkCalendar, YearCalendar, provisional_year
from tests.conftest import deploy_file, staff

BJ = ZoneInfo("Asia/Shanghai")
ROOT = Actor("root", "admin")

# An official 2027 invented for the tests (not the State Council's): New Year runs to Monday
# 4 January, made up by working Saturday 9 January; Spring Festival 5-13 February, made up on
# Saturday 20 February.
OFFICIAL_2027 = {"year": 2027, "source": "test: invented 2027 notice",
                 "holidays": ["2027-01-01", "2027-01-04", "2027-02-05", "2027-02-08", "2027-02-09",
                              "2027-02-10", "2027-02-11", "2027-02-12", "2027-04-05", "2027-05-03",
                              "2027-05-04", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-04",
                              "2027-10-05", "2027-10-06", "2027-10-07"],
                 "workdays": ["2027-01-09", "2027-02-20", "2027-10-09"]}


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)


def start(runtime, agent, key, variables=None, business_key="2026-510117-34-01-000001"):
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, agent, key, business_key, variables=variables or {})
        uow.commit()
    return started.case


def ready(runtime, case_id) -> list[Task]:
    with runtime.unit_of_work(write=False) as uow:
        return [t for t in cases.case_tasks(uow, case_id) if t.state == "ready"]


def events(runtime, case_id, *types):
    with runtime.unit_of_work(write=False) as uow:
        return [e for e in case_history(uow, case_id) if e.type in types]


def load(runtime, data=OFFICIAL_2027):
    with runtime.unit_of_work() as uow:
        result = calendar_years.load_year(uow, data, "root")
        uow.commit()
    return result


def jobs(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return {(j.kind, j.task_id): j.due_at for j in uow.session.scalars(
            select(TimerJob).where(TimerJob.case_id == case_id))}


# --------------------------------------------------------------------------- the provisional year


def test_a_first_read_of_an_empty_calendar_table_seeds_it_and_shows_the_seeded_years(runtime):
    """A read unit of work seeds in a transaction of its own (the store commits only what it
    opened); the listing then ends its snapshot and reads the seeded rows."""
    with runtime.unit_of_work(write=False) as uow:
        assert uow.runtime.calendars.current_versions(uow) == ()
        years = {y["year"]: y for y in calendar_years.list_years(uow)}
        assert years[2026]["status"] == "official" and years[2026]["version"] == 1
        assert calendar_years.get_year(uow, 2025)["loaded_by"] == "system"
    with runtime.unit_of_work(write=False) as uow:
        assert uow.runtime.calendars.current_versions(uow) == ((2025, 1), (2026, 1))


def test_provisional_2027_is_weekends_plus_statutory_holidays_and_their_make_up_days_off():
    year = provisional_year(2027)
    assert year.provisional and year.workdays == frozenset()  # no 调休: every weekend is off
    assert sorted(d.isoformat() for d in year.holidays) == [
        "2027-01-01",                                            # 元旦, Friday
        "2027-02-05", "2027-02-08",                              # 除夕 Fri; 初一-初三 Sat 6 - Mon 8
        "2027-02-09", "2027-02-10",                              # 补假 for Sat 6 and Sun 7
        "2027-04-05",                                            # 清明, Monday
        "2027-05-03", "2027-05-04",                              # 劳动节 Sat 1, Sun 2 → 补假 Mon, Tue
        "2027-06-09",                                            # 端午 (五月初五), Wednesday
        "2027-09-15",                                            # 中秋 (八月十五), Wednesday
        "2027-10-01", "2027-10-04", "2027-10-05",                # 国庆 Fri 1, Sat 2, Sun 3 → 补假 4, 5
    ]
    assert not year.is_working_day(date(2027, 2, 6)) and not year.is_working_day(date(2027, 1, 9))
    assert year.is_working_day(date(2027, 2, 11))
    assert "provisional" in year.source


def test_a_calendar_without_a_window_still_refuses_a_year_without_data():
    cal = WorkCalendar({2026: YearCalendar.from_library(2026)})
    with pytest.raises(Invalid, match="no working-day calendar for 2027"):
        cal.is_working_day(date(2027, 1, 4))


def test_the_provisional_window_is_2025_to_the_current_year_plus_four(runtime, clock):
    """From anywhere in 2026, 2030 is provisional and 2031 (2026 + 5) is an error; from
    2027-01-01 00:00 Beijing time 2031 is provisional and 2032 an error. Before 2025: an error."""
    clock.set(bj(2026, 12, 31, 23, 59))
    with runtime.unit_of_work(write=False) as uow:
        assert calendar_years.due(uow, bj(2030, 12, 30, 9), "1 working day")["due"] == bj(2030, 12, 31, 17, 30)
        with pytest.raises(Invalid, match="no working-day calendar for 2031") as error:
            calendar_years.due(uow, bj(2030, 12, 31, 9), "1 working day")
        assert "2025 to 2030" in error.value.detail
        with pytest.raises(Invalid, match="no working-day calendar for 2031"):
            calendar_years.get_year(uow, 2031)
        with pytest.raises(Invalid, match="no working-day calendar for 2024"):
            calendar_years.due(uow, bj(2024, 12, 30, 9), "1 working day")
        statuses = {y["year"]: y["status"] for y in calendar_years.list_years(uow)}
        assert statuses == {2025: "official", 2026: "official", 2027: "provisional", 2028: "provisional",
                            2029: "provisional", 2030: "provisional", 2031: "missing"}
    clock.set(bj(2027, 1, 1, 0, 0))
    with runtime.unit_of_work(write=False) as uow:
        result = calendar_years.due(uow, bj(2031, 1, 3, 9), "1 working day")
        assert result["due"] == bj(2031, 1, 6, 17, 30)  # from Fri 3 January: Monday 6
        assert result["provisional_years"] == [2031]
        with pytest.raises(Invalid, match="no working-day calendar for 2032"):
            calendar_years.due(uow, bj(2031, 12, 31, 9), "1 working day")
        with pytest.raises(Invalid, match="no working-day calendar for 2024"):
            calendar_years.due(uow, bj(2024, 12, 30, 9), "1 working day")


def test_a_limit_ending_past_the_window_puts_the_task_in_error(runtime, agent, clock):
    deploy_file(runtime, "time_items.bpmn")
    items = [{"department": "county.fgj", "time_limit": "1100 working days"},
             {"department": "county.zrzyj", "time_limit": "1300 working days"}]
    case = start(runtime, agent, "time_items", {"items": items})
    with runtime.unit_of_work(write=False) as uow:
        rows = {t.item["department"]: t for t in uow.session.scalars(select(Task).where(Task.case_id == case.id))}
    assert rows["county.fgj"].state == "ready" and rows["county.fgj"].due_at.year == 2030
    assert rows["county.fgj"].due_provisional_years == "2027,2028,2029,2030"
    assert rows["county.zrzyj"].state == "error"
    assert "no working-day calendar for 2031" in rows["county.zrzyj"].error


# --------------------------------------------------------------------------- due dates and the load


def test_a_task_opened_on_2026_12_10_is_provisional_and_moves_when_2027_is_loaded(runtime, agent, clock):
    clock.set(bj(2026, 12, 10, 9))
    deploy_file(runtime, "time_items.bpmn")
    items = [{"department": "county.fgj", "time_limit": "20 working days"},
             {"department": "county.zrzyj", "time_limit": "5 working days"},   # ends in 2026
             {"department": "county.sthjj", "time_limit": "30 days"}]          # natural days
    case = start(runtime, agent, "time_items", {"items": items})
    rows = {t.department: t for t in ready(runtime, case.id)}
    # 20 working days after Thu 10 Dec: 11, 14-18, 21-25, 28-31 (15), Jan 1 off, 4-8 (20).
    long = rows["county.fgj"]
    assert long.due_at == bj(2027, 1, 8, 17, 30) and long.due_provisional
    assert long.due_provisional_years == "2027"
    assert rows["county.zrzyj"].due_at == bj(2026, 12, 17, 17, 30) and not rows["county.zrzyj"].due_provisional
    assert rows["county.sthjj"].due_at == bj(2027, 1, 9, 9) and not rows["county.sthjj"].due_provisional
    warn_before = long.warn_at
    assert jobs(runtime, case.id)[("sla", long.id)] == warn_before

    clock.set(bj(2026, 12, 15, 10))
    result = load(runtime)
    assert result["status"] == "official" and result["version"] == 1
    assert result["recomputed"] == {"years": [2027], "tasks_checked": 1, "tasks_changed": 1,
                                    "escalations_changed": 0, "cases": 1}
    rows = {t.department: t for t in ready(runtime, case.id)}
    # Official: 4 Jan off, Sat 9 Jan worked: … 31 Dec (15), 5-8 Jan (19), Sat 9 (20).
    moved = rows["county.fgj"]
    assert moved.due_at == bj(2027, 1, 9, 17, 30) and not moved.due_provisional
    assert moved.due_provisional_years is None
    assert moved.warn_at != warn_before and jobs(runtime, case.id)[("sla", moved.id)] == moved.warn_at
    [event] = events(runtime, case.id, "due_recomputed")
    assert event.task_id == moved.id and event.actor == "root" and event.data["years"] == [2027]
    assert event.data["due_at"] == {"before": "2027-01-08T17:30:00+08:00", "after": "2027-01-09T17:30:00+08:00"}
    assert event.data["warn_at"]["before"] == warn_before.astimezone(BJ).isoformat()
    assert event.data["provisional_years"] == {"before": "2027", "after": None}

    # The worker follows the new dates: not red at the provisional due date, red at the official one.
    clock.set(bj(2027, 1, 8, 17, 31))
    timers.run_due(runtime)
    assert {t.department: t.sla for t in ready(runtime, case.id)}["county.fgj"] == "yellow"
    clock.set(bj(2027, 1, 9, 17, 31))
    timers.run_due(runtime)
    assert {t.department: t.sla for t in ready(runtime, case.id)}["county.fgj"] == "red"

    # A second version of an official year moves nothing: a date given on official data stands.
    again = load(runtime, {**OFFICIAL_2027, "holidays": OFFICIAL_2027["holidays"] + ["2027-01-05"]})
    assert again["version"] == 2 and again["recomputed"]["tasks_checked"] == 0
    assert len(events(runtime, case.id, "due_recomputed")) == 1


def test_manual_clock_stop_across_new_year_is_replayed_on_the_official_days(runtime, agent, clock):
    """Stopped in 2026 with working days left, resumed in 2027 before the schedule is published:
    on load, the days used before the stop and the days left are counted on the official year."""
    deploy_file(runtime, "time_limits.bpmn")  # 5 working days, after_stop resume
    clock.set(bj(2026, 12, 28, 9))
    running = start(runtime, agent, "time_limits")
    stopped = start(runtime, agent, "time_limits", business_key="2026-510117-34-01-000002")
    [task] = ready(runtime, running.id)
    # Tue 29, Wed 30, Thu 31 (3), Fri 1 Jan off, Mon 4 (4), Tue 5 (5).
    assert task.due_at == bj(2027, 1, 5, 17, 30) and task.due_provisional
    clock.set(bj(2026, 12, 30, 10))  # 2 working days used (29, 30), 3 left (31, 4, 5)
    with runtime.unit_of_work() as uow:
        deadlines.stop_clock(uow, staff("county.fgj"), running.id, "correction", "补正")
        deadlines.stop_clock(uow, staff("county.fgj"), stopped.id, "expert_review", "专家评审")
        uow.commit()
    clock.set(bj(2027, 1, 6, 10))
    with runtime.unit_of_work() as uow:
        deadlines.start_clock(uow, agent, running.id, "补正材料已提交")
        uow.commit()
    [task] = ready(runtime, running.id)
    assert task.due_at == bj(2027, 1, 11, 17, 30) and task.due_provisional  # Thu 7, Fri 8, Mon 11

    clock.set(bj(2027, 1, 6, 11))
    result = load(runtime)
    assert result["recomputed"]["tasks_checked"] == 2 and result["recomputed"]["tasks_changed"] == 2
    [task] = ready(runtime, running.id)
    # Official: 4 Jan off, so 3 days were left at the stop (31 Dec, 5, 6 Jan); from Wed 6: 7, 8, Sat 9.
    assert task.due_at == bj(2027, 1, 9, 17, 30) and not task.due_provisional and task.sla == "normal"
    [event] = events(runtime, running.id, "due_recomputed")
    assert event.data["due_at"]["before"].startswith("2027-01-11T17:30")
    [paused] = ready(runtime, stopped.id)
    # Still stopped: the date it stands at is the official one (Tue 29 … 31, Tue 5, Wed 6).
    assert paused.due_at == bj(2027, 1, 6, 17, 30) and paused.sla == "paused"
    assert jobs(runtime, stopped.id) == {}  # nothing fires while stopped
    clock.set(bj(2027, 1, 7, 9))
    with runtime.unit_of_work() as uow:
        deadlines.start_clock(uow, agent, stopped.id)
        uow.commit()
    [paused] = ready(runtime, stopped.id)
    # 3 days left at the stop (31 Dec, 5, 6 Jan), resumed Thu 7: Fri 8, Sat 9 (worked), Mon 11.
    assert paused.due_at == bj(2027, 1, 11, 17, 30) and not paused.due_provisional


def test_the_recompute_is_one_transaction_with_the_load(runtime, agent, clock):
    clock.set(bj(2026, 12, 10, 9))
    deploy_file(runtime, "time_limits.bpmn")
    case = start(runtime, agent, "time_limits", business_key="2026-510117-34-01-000003")
    deploy_file(runtime, "time_items.bpmn")
    long = start(runtime, agent, "time_items", {"items": [{"department": "county.fgj",
                                                            "time_limit": "20 working days"}]})
    [before] = ready(runtime, long.id)
    with runtime.unit_of_work() as uow:
        result = calendar_years.load_year(uow, OFFICIAL_2027, "root")
        assert result["recomputed"]["tasks_changed"] == 1
        uow.rollback()
    [after] = ready(runtime, long.id)
    assert (after.due_at, after.due_provisional_years) == (before.due_at, "2027")
    assert events(runtime, long.id, "due_recomputed") == []
    with runtime.unit_of_work(write=False) as uow:
        assert {y["year"]: y["status"] for y in calendar_years.list_years(uow)}[2027] == "provisional"
    assert ready(runtime, case.id)[0].due_provisional is False


def test_an_escalation_level_counted_on_2027_moves(runtime, agent, clock):
    deploy_file(runtime, "time_limits.bpmn")
    clock.set(bj(2026, 12, 24, 9))
    case = start(runtime, agent, "time_limits")
    [task] = ready(runtime, case.id)
    assert task.due_at == bj(2026, 12, 31, 17, 30) and not task.due_provisional  # 25, 28, 29, 30, 31
    clock.set(bj(2026, 12, 31, 17, 31))
    timers.run_due(runtime)
    with runtime.unit_of_work(write=False) as uow:
        [level1] = uow.session.scalars(select(Escalation).where(Escalation.case_id == case.id))
    assert level1.next_at == bj(2027, 1, 4, 17, 30)  # one working day on the provisional 2027
    clock.set(bj(2027, 1, 2, 10))
    result = load(runtime)
    assert result["recomputed"]["escalations_changed"] == 1 and result["recomputed"]["tasks_changed"] == 1
    with runtime.unit_of_work(write=False) as uow:
        level1 = uow.session.get(Escalation, level1.id)
    assert level1.next_at == bj(2027, 1, 5, 17, 30)  # 4 January is off in the official year
    assert jobs(runtime, case.id)[("escalation", task.id)] == level1.next_at
    [event] = events(runtime, case.id, "due_recomputed")
    assert event.data["escalations"][0]["next_at"]["after"].startswith("2027-01-05T17:30")
    clock.set(bj(2027, 1, 4, 17, 31))
    timers.run_due(runtime)
    with runtime.unit_of_work(write=False) as uow:
        assert [e.level for e in uow.session.scalars(select(Escalation).where(Escalation.case_id == case.id))] == [1]
    clock.set(bj(2027, 1, 5, 17, 31))
    timers.run_due(runtime)
    with runtime.unit_of_work(write=False) as uow:
        assert sorted(e.level for e in uow.session.scalars(select(Escalation).where(Escalation.case_id == case.id))) == [1, 2]


def test_a_task_red_on_a_provisional_date_but_not_on_the_official_one(runtime, agent, clock):
    deploy_file(runtime, "time_limits.bpmn")
    clock.set(bj(2026, 12, 28, 9))
    case = start(runtime, agent, "time_limits")  # 29, 30, 31, (1 off), 4, 5 → Tue 5 provisionally
    clock.set(bj(2027, 1, 5, 17, 31))
    timers.run_due(runtime)
    [task] = ready(runtime, case.id)
    assert task.sla == "red"
    clock.set(bj(2027, 1, 5, 18))
    load(runtime)
    [task] = ready(runtime, case.id)
    assert task.due_at == bj(2027, 1, 6, 17, 30) and task.sla == "yellow"
    with runtime.unit_of_work(write=False) as uow:
        assert list(uow.session.scalars(select(Escalation).where(Escalation.case_id == case.id))) == []
    [withdrawn] = events(runtime, case.id, "escalation_withdrawn")
    assert withdrawn.data["level"] == 1 and "not overdue on the official calendar" in withdrawn.data["reason"]
    [event] = events(runtime, case.id, "due_recomputed")
    assert event.data["sla"] == {"before": "red", "after": "yellow"}
    clock.set(bj(2027, 1, 6, 17, 31))  # overdue on the official date: raised afresh
    timers.run_due(runtime)
    with runtime.unit_of_work(write=False) as uow:
        [level1] = uow.session.scalars(select(Escalation).where(Escalation.case_id == case.id))
    assert level1.level == 1 and level1.status == "open"


def test_deemed_consent_waits_for_the_official_due_date(runtime, agent, clock):
    deploy_file(runtime, "time_items.bpmn")
    clock.set(bj(2026, 12, 28, 9))
    case = start(runtime, agent, "time_items", {"items": [
        {"department": "county.zrzyj", "time_limit": "5 working days", "deemed_consent": True}]})
    [task] = ready(runtime, case.id)
    assert task.due_at == bj(2027, 1, 5, 17, 30) and task.due_provisional
    clock.set(bj(2026, 12, 29, 9))
    load(runtime)
    assert jobs(runtime, case.id)[("sla", task.id)] < bj(2027, 1, 6, 17, 30)
    clock.set(bj(2027, 1, 5, 17, 31))  # the provisional due date: no consent yet
    timers.run_due(runtime)
    assert [t.id for t in ready(runtime, case.id)] == [task.id]
    clock.set(bj(2027, 1, 6, 17, 31))
    timers.run_due(runtime)
    assert events(runtime, case.id, "deemed_consent")


def test_rows_timed_before_clock_logs_still_stop_and_resume(runtime, agent, clock):
    """A task timed before this change has no clock log: its stored dates are the base; a task
    due on a date (no limit) only shifts by the time stood still."""
    deploy_file(runtime, "time_limits.bpmn")
    legacy = start(runtime, agent, "time_limits")
    dated = start(runtime, agent, "time_limits", business_key="2026-510117-34-01-000004")
    with runtime.unit_of_work() as uow:
        for row in uow.session.scalars(select(Task).where(Task.case_id.in_((legacy.id, dated.id)))):
            rules = dict(row.time_rules)
            del rules["clock"]
            row.time_rules = rules
            if row.case_id == dated.id:
                row.time_limit, row.due_at, row.warn_at = None, bj(2026, 3, 20, 17, 30), None
        uow.commit()
    assert ready(runtime, legacy.id)[0].due_at == bj(2026, 3, 9, 17, 30)
    clock.set(bj(2026, 3, 3, 9))
    with runtime.unit_of_work() as uow:
        deadlines.stop_clock(uow, ROOT, legacy.id)
        deadlines.stop_clock(uow, ROOT, dated.id)
        uow.commit()
    clock.set(bj(2026, 3, 5, 9))
    with runtime.unit_of_work() as uow:
        deadlines.start_clock(uow, ROOT, legacy.id)
        deadlines.start_clock(uow, ROOT, dated.id, mode="restart")
        uow.commit()
    # 4 working days left after the stop on Tue 3 (4, 5, 6, 9) → from Thu 5: 6, 9, 10, 11.
    assert ready(runtime, legacy.id)[0].due_at == bj(2026, 3, 11, 17, 30)
    assert ready(runtime, dated.id)[0].due_at == bj(2026, 3, 22, 17, 30)  # two natural days later
