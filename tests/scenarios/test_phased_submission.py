"""Phased submission (分期报建): the main plant is permitted first, auxiliary facilities come later
in any number of batches while the case runs; each batch's items land in their bodies' inboxes at
once, and closing waits for open batches but never for an empty track."""
from __future__ import annotations

import pytest

from api.app import create_app
from tests.scenarios.story import ACCEPT, APPROVE, Story

PLANT = "德阳玉龙钢管厂（一期）"
CODE = "2026-510117-33-03-000321"
GATE = [{"name": "门卫室建设工程规划许可证", "department": "county.zrzyj", "time_limit": "10 working days",
         "stage": "stage2_works_permit"},
        {"name": "门卫室施工许可证", "department": "county.zjj", "time_limit": "7 working days",
         "stage": "stage3_construction_permit"}]
CANTEEN = [{"code": "canteen_fire", "name": "职工食堂消防设计审查", "department": "county.zjj",
            "time_limit": "15 working days"}]
SUBSTATION = [{"name": "厂区10kV配电房规划许可", "department": "county.zrzyj", "time_limit": "10 working days"}]


@pytest.fixture
def story(runtime):
    s = Story(create_app({"TESTING": True}, runtime=runtime).test_client(), runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def decide(story, name):
    story.do("ItemAccept", ACCEPT, item=name)
    story.do("ItemReview", APPROVE, item=name)


def main_items_done(story):
    """The bodies decide every main-plant item (stages 1-4, the EIA), leaving auxiliary ones."""
    while True:
        main = [t for t in story.item_tasks() if t["item"]["track"] in ("main", "eia")]
        if not main:
            return
        task = main[0]
        story.complete(task, ACCEPT if task["element_id"] == "ItemAccept" else APPROVE)


def closure_open(story):
    return [t for t in story.open_tasks() if t["element_id"] == "Closure"]


@pytest.fixture(params=["live", "reloaded"])
def every_command_reloads(request, monkeypatch):
    """Run once with the process's live workflows, once loading every command's state from JSON
    (the event-based gateway, the signals and the boundary message must survive a reload)."""
    from engine.adapters.serializer import LIVE_WORKFLOWS
    if request.param == "reloaded":
        monkeypatch.setattr(LIVE_WORKFLOWS, "size", 0)
        LIVE_WORKFLOWS.clear()
    return request.param


def test_three_batches_while_the_main_plant_goes_ahead(story, every_command_reloads):
    story.open_agency_case(PLANT, CODE)

    # batch 1 right after intake: both items are in their bodies' inboxes at once
    first = story.batch("门卫室及围墙", GATE)
    assert first["batch"]["number"] == 1
    assert {(t["department"], t["item"]["name"]) for t in first["open_tasks"]} == {
        ("county.zrzyj", "门卫室建设工程规划许可证"), ("county.zjj", "门卫室施工许可证")}
    assert {t["name"] for t in first["open_tasks"]} == {"受理审查 · 门卫室建设工程规划许可证",
                                                        "受理审查 · 门卫室施工许可证"}
    inbox = story.call("GET", "/tasks?department=county.zjj", who="county.zjj")["items"]
    assert "门卫室施工许可证" in {t["item"]["name"] for t in inbox}

    # batch 2 while batch 1 is still open
    second = story.batch("职工食堂", CANTEEN)
    assert second["batch"]["number"] == 2 and len(second["open_tasks"]) == 1
    assert second["open_tasks"][0]["item"]["code"] == "b2_canteen_fire"

    # the main plant goes through all four stages; the open batches do not pull the stage back …
    main_items_done(story)
    assert story.public()["stage"] == "stage4_completion"
    # … and closing waits for them
    assert closure_open(story) == []
    assert story.case()["status"] == "running"

    decide(story, "门卫室建设工程规划许可证")
    decide(story, "门卫室施工许可证")
    assert closure_open(story) == []  # batch 2 still open
    decide(story, "职工食堂消防设计审查")
    assert len(closure_open(story)) == 1  # every batch decided: closure at once

    # batch 3 arrives while closure waits: closure steps back until the batch is decided
    third = story.batch("厂区配电房", SUBSTATION)
    assert third["batch"]["number"] == 3 and len(third["open_tasks"]) == 1
    assert closure_open(story) == []
    assert story.public()["stage"] == "auxiliary"
    decide(story, "厂区10kV配电房规划许可")
    story.do("Closure", {"outcome": "completed", "files_handed_over": ["主厂房施工许可证", "附属设施许可证"]})
    assert story.case()["status"] == "completed"

    listed = story.call("GET", f"/cases/{story.case_id}/batches")
    assert [(b["number"], b["facility"], b["status"], len(b["items"])) for b in listed["items"]] == [
        (1, "门卫室及围墙", "closed", 2), (2, "职工食堂", "closed", 1), (3, "厂区配电房", "closed", 1)]
    variables = story.case()["variables"]
    assert [b["status"] for b in variables["phased_submission"]["batches"]] == ["closed"] * 3
    assert [(i["batch"], i["status"]) for i in variables["auxiliary_items"]] == [
        (1, "approved"), (1, "approved"), (2, "approved"), (3, "approved")]
    html = story.client.get(f"/progress/{CODE}").get_data(as_text=True)
    assert "（第3批）" in html and "厂区10kV配电房规划许可" in html
    public = story.public()
    auxiliary = [i for i in public["items"] if i["track"] == "auxiliary"]
    assert sorted((i["batch"], i["state"]) for i in auxiliary) == [(1, "approved"), (1, "approved"),
                                                                   (2, "approved"), (3, "approved")]


def test_no_batch_never_holds_up_closing(story):
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    main_items_done(story)
    assert len(closure_open(story)) == 1  # nobody had to say "no auxiliary facilities"
    story.do("Closure", {"outcome": "completed", "files_handed_over": ["项目核准批复"]})
    assert story.case()["status"] == "completed"
    assert story.call("GET", f"/cases/{story.case_id}/batches") == {"items": [], "total": 0}


def test_bad_batches_are_refused_and_change_nothing(story):
    story.start("one_window_agency", CODE, project={"project_name": PLANT})
    refused = story.batch("门卫室", GATE, expect=409)  # before window intake: not yet
    assert "takes auxiliary batches" in refused["detail"]
    story.do("Register", story_registration())
    story.do("Agreement", {"enterprise_contact": {"name": "李明", "phone": "13800000000"},
                           "signed_date": "2026-03-02"})
    story.do("PreReview", {"materials": [{"name": "营业执照", "checked": True}], "complete": True})
    story.do("Intake", ACCEPT)
    before = len(story.open_tasks())
    assert story.batch("门卫室", [], expect=422)["errors"]
    bad = story.batch("门卫室", [{"name": "门卫室规划许可", "department": "county.nope", "time_limit": "fortnight"}],
                      expect=422)
    assert set(bad["errors"]) == {"items[0].department", "items[0].time_limit"}
    story.call("POST", f"/cases/{story.case_id}/batches", expect=422, json={"items": GATE})  # no facility
    story.call("POST", f"/cases/{story.case_id}/batches", who="bob", expect=403,
               json={"facility": "门卫室", "items": GATE})  # another agent's case
    assert len(story.open_tasks()) == before


def story_registration():
    from tests.scenarios.story import registration
    return registration(PLANT, CODE)


def test_names_from_a_batch_are_escaped_on_the_public_page(story):
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    story.batch("<b>门卫室</b>", [{"name": "<script>alert(1)</script>许可", "department": "county.zrzyj",
                                  "time_limit": "10 working days"}])
    page = story.client.get(f"/progress/{CODE}")
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;许可" in html
    assert "script-src" not in page.headers["Content-Security-Policy"]


def test_a_batch_sent_as_a_plain_message_is_checked_the_same_way(story):
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    bad = story.call("POST", f"/cases/{story.case_id}/messages", expect=422,
                     json={"name": "auxiliary_batch", "payload": {"items": "all of them"}})
    assert "facility" in bad["errors"] and "items" in bad["errors"]
    assert story.case()["error"] is None
    story.call("POST", f"/cases/{story.case_id}/messages",
               json={"name": "auxiliary_batch", "payload": {"facility": "门卫室", "items": GATE[:1]}})
    assert "门卫室建设工程规划许可证" in {t["item"]["name"] for t in story.item_tasks()}
