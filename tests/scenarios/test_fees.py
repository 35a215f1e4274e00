"""One-window fee payment (一窗缴费) on the shipped `one_window_agency` process: bodies at county
and city level set the fees of their items, the enterprise pays the main project's bill once at
the window, an auxiliary batch (分期报建) gets its own bill, and the public page says only whether
fees are settled."""
from __future__ import annotations

import pytest

from api.app import create_app
from tests.scenarios.story import Story

PLANT = "郫都精密零件厂（一期）"
CODE = "2026-510117-34-01-000555"
GATE = [{"name": "门卫室建设工程规划许可证", "department": "county.zrzyj", "time_limit": "10 working days"}]


@pytest.fixture
def story(runtime):
    s = Story(create_app({"TESTING": True}, runtime=runtime).test_client(), runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def fee(story, who, item, name, amount):
    return story.call("POST", f"/cases/{story.case_id}/fees", who=who, expect=201, json={
        "item": item, "fee_name": name, "legal_basis": "四川省行政事业性收费目录清单（2026）", "amount_fen": amount})


def test_a_case_and_its_batch_each_pay_once_at_the_window(story):
    story.open_agency_case(PLANT, CODE)
    items = {(i["key"], i["department"]) for i in story.call("GET", f"/cases/{story.case_id}/fees")["items"]}
    assert {("project_approval", "county.fgj"), ("site_land_pre_review", "city.zrzyj"),
            ("land_planning_permit", "county.zrzyj"), ("eia", "county.sthjj")} <= items

    city = fee(story, "city.zrzyj", "site_land_pre_review", "土地复垦费", 300_000)["bill"]
    county = fee(story, "county.zrzyj", "land_planning_permit", "城市基础设施配套费", 1_200_000)["bill"]
    assert city["id"] == county["id"] and county["total_fen"] == 1_500_000 and county["batch"] is None
    assert story.public()["fees"] == "due"
    assert "1500000" not in str(story.public()) and "土地复垦费" not in str(story.public())

    story.batch("门卫室及围墙", GATE)
    [key] = [i["key"] for i in story.call("GET", f"/cases/{story.case_id}/fees")["items"]
             if i["name"] == "门卫室建设工程规划许可证" and i["batch"] == 1]
    assert key.startswith("b1/")
    gate = fee(story, "county.zrzyj", key, "城市基础设施配套费（门卫室）", 40_000)["bill"]
    assert gate["id"] != county["id"] and gate["batch"] == 1 and gate["total_fen"] == 40_000

    paid = story.call("POST", f"/bills/{county['id']}/pay", json={"channel": "window"})
    assert paid["settled"] and paid["bill"]["status"] == "paid"
    assert story.public()["fees"] == "due"  # the batch's bill is still due
    story.call("POST", f"/bills/{gate['id']}/pay")
    assert story.public()["fees"] == "settled"

    day = story.call("GET", "/fees/reconciliation?date=2026-03-02", who="root")
    assert {t["department"]: t["net_fen"] for t in day["totals"]} == {"city.zrzyj": 300_000, "county.zrzyj": 1_240_000}
    # The county window does not see the city bureau's accounts.
    story.user("window", "staff", "county.zwfw")
    county_day = story.call("GET", "/fees/reconciliation?date=2026-03-02", who="window")
    assert {t["department"] for t in county_day["totals"]} == {"county.zrzyj"}
