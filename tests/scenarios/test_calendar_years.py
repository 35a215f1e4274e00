"""Issue 10 "Done when": a case opened on 2026-12-10 gets provisional 2027 dates (预计), which
move when the official 2027 schedule is loaded — through the REST API, with a 补正 stop that runs
across New Year and the worker following the moved dates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from api.app import create_app
from engine.services import timers
from tests.engine.test_calendar_years import OFFICIAL_2027
from tests.scenarios.story import ACCEPT, Story, materials

CST = timezone(timedelta(hours=8))
PLANT = "郫都区精密模具厂"
CODE = "2026-510117-33-03-000777"
LAND = "建设用地规划许可证"  # 20 working days at county.zrzyj


@pytest.fixture
def story(runtime):
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    s = Story(client, runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def utc(*args: int) -> str:
    """How the API writes an instant (UTC), from Beijing wall-clock time."""
    return datetime(*args, tzinfo=CST).astimezone(timezone.utc).isoformat()


def items(story):
    return {(t["element_id"], t["item"]["name"]): t for t in story.item_tasks()}


def test_a_case_opened_on_2026_12_10_gets_provisional_2027_dates_that_move_when_2027_is_loaded(story, runtime):
    clock = runtime.clock
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=CST))  # Thursday
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    years = {y["year"]: y["status"] for y in story.call("GET", "/calendar")["items"]}
    assert years[2026] == "official" and years[2027] == "provisional" and years[2031] == "missing"

    opened = items(story)
    # 20 working days after Thu 10 Dec: 11, 14-18, 21-25, 28-31 (15); 1 Jan 元旦 off; 4-8 Jan (20).
    for name in ("项目审批/核准/备案", "用地预审与选址意见书", LAND):
        task = opened[("ItemAccept", name)]
        assert task["due_at"] == utc(2027, 1, 8, 17, 30) and task["due_provisional"] is True, task
    eia = [t for (element, name), t in opened.items() if "环境影响评价" in name]
    assert all(t["due_provisional"] is False for t in eia)  # natural days need no calendar
    done = story.case()["completed_tasks"]
    assert done and all(t["due_provisional"] is False for t in done)  # the window's steps ended in 2026

    # 建设用地规划许可证: accepted Fri 11 Dec, decision due 20 working days later (Mon 11 Jan).
    clock.set(datetime(2026, 12, 11, 9, 0, tzinfo=CST))
    story.do("ItemAccept", ACCEPT, item=LAND)
    review = story.task("ItemReview", item=LAND)
    assert review["due_at"] == utc(2027, 1, 11, 17, 30) and review["due_provisional"] is True
    public = {i["name"]: i for i in story.public()["items"]}
    assert public[LAND]["due_provisional"] is True

    # 补正 on Mon 21 Dec (6 working days used, 14 left); the enterprise answers on Wed 6 Jan 2027.
    clock.set(datetime(2026, 12, 21, 10, 0, tzinfo=CST))
    story.do("ItemReview", {"decision": "correction", "opinion": "红线图坐标有误",
                            "conditions": ["修正后的红线图"]}, item=LAND)
    clock.set(datetime(2027, 1, 6, 10, 0, tzinfo=CST))
    story.do("ItemReviewCorrection", materials("修正后的红线图"), item=LAND)
    resumed = story.task("ItemReview", item=LAND)
    # 14 left from Wed 6 Jan: 7, 8, 11-15, 18-22, 25, 26.
    assert resumed["due_at"] == utc(2027, 1, 26, 17, 30) and resumed["due_provisional"] is True

    # The State Council's notice is late; the administrator loads it on 6 January (invented here:
    # 4 January off, Saturday 9 January worked).
    clock.set(datetime(2027, 1, 6, 11, 0, tzinfo=CST))
    put = story.call("PUT", "/calendar/2027", who="root", json=OFFICIAL_2027)
    assert put["status"] == "official" and put["version"] == 1
    assert put["recomputed"] == {"years": [2027], "tasks_checked": 3, "tasks_changed": 3,
                                 "escalations_changed": 0, "cases": 1}
    moved = items(story)
    # Official: … 31 Dec (15), 5-8 Jan (19), Sat 9 Jan (20).
    for name in ("项目审批/核准/备案", "用地预审与选址意见书"):
        task = moved[("ItemAccept", name)]
        assert task["due_at"] == utc(2027, 1, 9, 17, 30) and task["due_provisional"] is False
    # Replayed on the official days: 14 left at the stop (22 Dec … 8 Jan, Sat 9, 11 Jan), and
    # from Wed 6 Jan: 7, 8, Sat 9, 11-15, 18-22, 25 → Mon 25 Jan.
    review = moved[("ItemReview", LAND)]
    assert review["id"] == resumed["id"]
    assert review["due_at"] == utc(2027, 1, 25, 17, 30) and review["due_provisional"] is False
    assert {i["name"]: i for i in story.public()["items"]}[LAND]["due_provisional"] is False

    history = story.call("GET", f"/cases/{story.case_id}/history?per_page=500", who="root")["items"]
    recomputed = {e["task_id"]: e for e in history if e["type"] == "due_recomputed"}
    assert set(recomputed) == {moved[("ItemAccept", "项目审批/核准/备案")]["id"],
                               moved[("ItemAccept", "用地预审与选址意见书")]["id"], review["id"]}
    assert recomputed[review["id"]]["actor"] == "root"
    assert recomputed[review["id"]]["data"]["due_at"] == {"before": "2027-01-26T17:30:00+08:00",
                                                          "after": "2027-01-25T17:30:00+08:00"}

    # The worker follows: on the provisional due date (Fri 8 Jan, 17:31) nothing is overdue.
    clock.set(datetime(2027, 1, 8, 17, 31, tzinfo=CST))
    timers.run_due(runtime)
    assert {t["sla"] for t in story.item_tasks() if t["element_id"] == "ItemAccept"} == {"yellow"}
    clock.set(datetime(2027, 1, 9, 17, 31, tzinfo=CST))
    timers.run_due(runtime)
    assert {t["sla"] for t in story.item_tasks() if t["element_id"] == "ItemAccept"} == {"red"}
    escalations = story.call("GET", f"/escalations?case_id={story.case_id}", who="root")["items"]
    moved_ids = {moved[("ItemAccept", n)]["id"] for n in ("项目审批/核准/备案", "用地预审与选址意见书")}
    raised = {e["task_id"]: e for e in escalations if e["task_id"] in moved_ids}
    assert len(raised) == 2 and {e["level"] for e in raised.values()} == {1}
    assert {e["raised_at"] for e in raised.values()} == {utc(2027, 1, 9, 17, 31)}  # not on 8 January


def test_calendar_years_over_http_boundaries(story, runtime):
    runtime.clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=CST))
    due = story.call("GET", "/calendar/due?from=2030-12-30T09:00%2B08:00&duration=1%20working%20day")
    assert due["due"].startswith("2030-12-31T17:30") and due["provisional"] and due["provisional_years"] == [2030]
    late = story.call("GET", "/calendar/due?from=2030-12-31T09:00%2B08:00&duration=1%20working%20day",
                      expect=422)
    assert "no working-day calendar for 2031" in late["detail"]
    early = story.call("GET", "/calendar/due?from=2024-12-30T09:00%2B08:00&duration=1%20working%20day",
                       expect=422)
    assert "no working-day calendar for 2024" in early["detail"]
    assert story.call("GET", "/calendar/2031", expect=422)["detail"].startswith("no working-day calendar for 2031")
    provisional = story.call("GET", "/calendar/2030")
    assert provisional["status"] == "provisional" and provisional["version"] is None
    runtime.clock.set(datetime(2027, 1, 1, 0, 0, tzinfo=CST))
    assert story.call("GET", "/calendar/2031")["status"] == "provisional"
    assert story.call("GET", "/calendar/2032", expect=422)
