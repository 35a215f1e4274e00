"""市县联动: one system for 四川省's cities and counties. A case belongs to the region of the window
that accepted it; its generic bodies resolve there; an overdue item escalates along that
region's chain (its window, the item body's leaders only, its government); a city sees the
county cases with items at its bodies. Everything through the REST API."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.app import create_app
from engine.services import timers
from tests.conftest import BPMN
from tests.scenarios.story import API, Story

BJ = ZoneInfo("Asia/Shanghai")
ITEMS = [  # as a process names them: generic codes, resolved in the case's region
    {"code": "project_approval", "name": "项目审批/核准/备案", "department": "county.fgj", "time_limit": "5 working days"},
    {"code": "site_land_pre_review", "name": "用地预审与选址意见书", "department": "city.zrzyj",
     "time_limit": "5 working days"},
    {"code": "eia", "name": "环境影响评价审批", "department": "county.sthjj", "time_limit": "20 working days"},
]


class Regions(Story):
    """A Story with agents at several windows and people of any role."""

    def as_(self, name: str, method: str, path: str, expect: int | None = 200, **kwargs):  # type: ignore[no-untyped-def]
        response = self.client.open(API + path, method=method, headers=self.user(name, "x"), **kwargs)
        if expect is not None:
            assert response.status_code == expect, (name, method, path, response.status_code, response.get_json())
        return response.get_json()

    def people(self, **who: tuple[str, str | None]) -> None:
        for name, (role, department) in who.items():
            self.user(name, role, department)

    def start_at(self, agent: str, business_key: str, items: list[dict] | None = None) -> dict:
        return self.as_(agent, "POST", "/cases", expect=201, json={
            "process_key": "regional_items", "business_key": business_key,
            "project": {"project_name": business_key}, "variables": {"items": items or ITEMS}})

    def tasks_of(self, case_id: str) -> list[dict]:
        return self.as_("root", "GET", f"/tasks?case_id={case_id}&per_page=200")["items"]

    def escalations(self, who: str, **query: str) -> list[tuple]:
        found = self.as_(who, "GET", "/escalations", query_string=query)["items"]
        return sorted((e["level"], e["department"], e["item_department"]) for e in found)


@pytest.fixture
def world(runtime):
    story = Regions(create_app({"TESTING": True}, runtime=runtime).test_client(), runtime)
    response = story.client.post(f"{API}/process-definitions", data=(BPMN / "regional_items.bpmn").read_bytes(),
                                 headers={**story.user("dora", "designer"), "Content-Type": "application/xml"})
    assert response.status_code == 201, response.get_json()
    story.people(pidu_agent=("agent", "county.zwfw"), jy_agent=("agent", "jingyang.zwfw"),
                 dy_agent=("agent", "deyang.zwfw"))
    return story


def _run_until(runtime, clock, *moments: datetime) -> None:
    for moment in moments:
        clock.set(moment)
        timers.run_due(runtime)


DAYS = (datetime(2026, 3, 9, 17, 31, tzinfo=BJ), datetime(2026, 3, 10, 17, 31, tzinfo=BJ),
        datetime(2026, 3, 11, 17, 31, tzinfo=BJ))


def _accept(story: Regions, case: dict, window: str) -> dict[str, dict]:
    """The window of the case's region accepts; the items land at their resolved bodies."""
    [intake] = story.tasks_of(case["id"])
    assert intake["department"] == window
    story.people(**{f"staff@{window}": ("staff", window)})
    story.as_(f"staff@{window}", "POST", f"/tasks/{intake['id']}/complete", json={"data": {}})
    return {t["item"]["code"]: t for t in story.tasks_of(case["id"]) if t["item"]}


def test_a_pidu_case_escalates_to_the_county_window_the_leaders_and_the_district_government(world, runtime, clock):
    story = world
    case = story.start_at("pidu_agent", "2026-510117-34-01-000101")
    assert case["region"] == "pidu"
    items = _accept(story, case, "county.zwfw")
    assert {code: t["department"] for code, t in items.items()} == {
        "project_approval": "county.fgj", "site_land_pre_review": "city.zrzyj", "eia": "county.sthjj"}
    _run_until(runtime, clock, *DAYS)
    # Both 5-day items are overdue: the county's own bureau and the city's (市县联动) — same chain.
    story.people(fgj=("staff", "county.fgj"), fgj_leader=("leader", "county.fgj"),
                 zrzyj_leader=("leader", "city.zrzyj"), zwfw=("staff", "county.zwfw"),
                 pidu_gov=("government", "county.zf"), chengdu_window=("staff", "city.zwfw"),
                 chengdu_gov=("government", "city.zf"))
    assert story.escalations("root") == [
        (1, "county.zwfw", "city.zrzyj"), (1, "county.zwfw", "county.fgj"),
        (2, "city.zrzyj", "city.zrzyj"), (2, "county.fgj", "county.fgj"),
        (3, "county.zf", "city.zrzyj"), (3, "county.zf", "county.fgj")]
    assert [lvl for lvl, *_ in story.escalations("zwfw")] == [1, 1]
    assert story.escalations("fgj_leader") == [(2, "county.fgj", "county.fgj")]
    assert story.escalations("zrzyj_leader") == [(2, "city.zrzyj", "city.zrzyj")]
    assert [lvl for lvl, *_ in story.escalations("pidu_gov")] == [3, 3]
    assert story.escalations("chengdu_window") == [] and story.escalations("chengdu_gov") == []
    # Level 2 is for leaders only: plain staff neither list it, nor see it in the history, nor resolve it.
    assert story.escalations("fgj") == []
    level2 = next(e for e in story.as_("root", "GET", "/escalations", query_string={"level": 2})["items"]
                  if e["department"] == "county.fgj")
    story.as_("fgj", "POST", f"/escalations/{level2['id']}/resolve", expect=403, json={})
    staff_history = story.as_("fgj", "GET", f"/cases/{case['id']}/history")["items"]
    leader_history = story.as_("fgj_leader", "GET", f"/cases/{case['id']}/history")["items"]
    assert sorted(e["data"]["level"] for e in staff_history if e["type"] == "escalated") == [1, 3]
    assert sorted(e["data"]["level"] for e in leader_history if e["type"] == "escalated") == [1, 2, 3]
    # Answering the item resolves its levels.
    story.as_("fgj", "POST", f"/tasks/{items['project_approval']['id']}/complete", json={"data": {}})
    open_levels = story.as_("root", "GET", "/escalations", query_string={"status": "open"})["items"]
    assert [(e["level"], e["item_department"]) for e in open_levels] == [(3, "city.zrzyj")]


def test_a_deyang_case_follows_the_deyang_chain(world, runtime, clock):
    story = world
    district = story.start_at("jy_agent", "2026-510603-34-01-000102")
    city = story.start_at("dy_agent", "2026-510600-33-03-000103", items=ITEMS[:1])
    assert (district["region"], city["region"]) == ("jingyang", "deyang")
    items = _accept(story, district, "jingyang.zwfw")
    # 旌阳区 has no planning or ecology bureau of its own: those items go up to 德阳市's.
    assert {code: t["department"] for code, t in items.items()} == {
        "project_approval": "jingyang.fgj", "site_land_pre_review": "deyang.zrzyj", "eia": "deyang.sthjj"}
    city_items = _accept(story, city, "deyang.zwfw")  # accepted by the city's own centre (the Deyang seed)
    assert city_items["project_approval"]["department"] == "deyang.fgw"
    _run_until(runtime, clock, *DAYS)
    chains = {}
    for e in story.as_("root", "GET", "/escalations", query_string={"limit": 100})["items"]:
        chains.setdefault((e["case_id"], e["item_department"]), []).append((e["level"], e["department"], e["role"]))
    assert sorted(chains[(district["id"], "jingyang.fgj")]) == [
        (1, "jingyang.zwfw", "coordinator"), (2, "jingyang.fgj", "leaders"), (3, "jingyang.zf", "coordinator")]
    assert sorted(chains[(district["id"], "deyang.zrzyj")]) == [
        (1, "jingyang.zwfw", "coordinator"), (2, "deyang.zrzyj", "leaders"), (3, "jingyang.zf", "coordinator")]
    assert sorted(chains[(city["id"], "deyang.fgw")]) == [  # 重大问题报市政府
        (1, "deyang.zwfw", "coordinator"), (2, "deyang.fgw", "leaders"), (3, "deyang.zf", "coordinator")]
    assert not any(d.startswith(("county.", "city.")) for chain in chains.values() for _, d, _ in chain)
    # The Pidu chain sees none of it.
    story.people(zwfw=("staff", "county.zwfw"), pidu_gov=("government", "county.zf"))
    assert story.escalations("zwfw") == [] and story.escalations("pidu_gov") == []
    assert [e[0] for e in story.escalations("root", region="deyang")] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert story.escalations("root", region="pidu") == []
    assert [e[0] for e in story.escalations("root", region="jingyang")] == [1, 1, 2, 2, 3, 3]


def test_region_filters_include_lower_regions(world):
    story = world
    pidu = story.start_at("pidu_agent", "2026-510117-34-01-000104")
    jingyang = story.start_at("jy_agent", "2026-510603-34-01-000105")
    deyang = story.start_at("dy_agent", "2026-510600-34-01-000106")

    def cases(**query: str) -> set[str]:
        return {c["id"] for c in story.as_("root", "GET", "/cases", query_string=query)["items"]}
    assert cases(region="sichuan") == {pidu["id"], jingyang["id"], deyang["id"]}
    assert cases(region="chengdu") == cases(region="pidu") == {pidu["id"]}
    assert cases(region="deyang") == cases(region="德阳市") == {jingyang["id"], deyang["id"]}
    assert cases(region="510603") == cases(region="四川省德阳市旌阳区") == {jingyang["id"]}
    bad = story.as_("root", "GET", "/cases", expect=422, query_string={"region": "nowhere"})
    assert "nowhere" in bad["detail"] and "pidu" in bad["errors"]["region"][0]
    tasks = story.as_("root", "GET", "/tasks", query_string={"region": "deyang"})["items"]
    assert {t["department"] for t in tasks} == {"jingyang.zwfw", "deyang.zwfw"}
    assert story.as_("pidu_agent", "GET", "/tasks", query_string={"region": "deyang"})["total"] == 0
    # Filters narrow what the caller may see, never widen it.
    assert {c["id"] for c in story.as_("jy_agent", "GET", "/cases", query_string={"region": "sichuan"})["items"]} \
        == {jingyang["id"]}


def test_a_city_sees_the_county_cases_with_items_at_its_bodies(world):
    story = world
    with_city_item = story.start_at("pidu_agent", "2026-510117-34-01-000107")
    county_only = story.start_at("pidu_agent", "2026-510117-34-01-000108", items=[ITEMS[0], ITEMS[2]])
    deyang = story.start_at("jy_agent", "2026-510603-34-01-000109")
    for case in (with_city_item, county_only):
        _accept(story, case, "county.zwfw")
    _accept(story, deyang, "jingyang.zwfw")
    story.people(chengdu_window=("staff", "city.zwfw"), chengdu_gov=("government", "city.zf"),
                 zwfw=("staff", "county.zwfw"), fgj=("staff", "county.fgj"), zrzyj=("staff", "city.zrzyj"),
                 deyang_gov=("government", "deyang.zf"))
    for who in ("chengdu_window", "chengdu_gov"):
        listed = story.as_(who, "GET", "/cases")["items"]
        assert [c["id"] for c in listed] == [with_city_item["id"]], who
        detail = story.as_(who, "GET", f"/cases/{with_city_item['id']}")
        assert {t["department"] for t in detail["open_tasks"]} == {"city.zrzyj"}  # its bodies' items only
        story.as_(who, "GET", f"/cases/{county_only['id']}", expect=403)
        story.as_(who, "GET", f"/cases/{deyang['id']}", expect=403)
        oversight = story.as_(who, "GET", "/tasks", query_string={"region": "chengdu"})["items"]
        assert {(t["case_id"], t["department"]) for t in oversight} == {(with_city_item["id"], "city.zrzyj")}
        city_task = oversight[0]
        story.as_(who, "GET", f"/tasks/{city_task['id']}")  # reads it ...
        story.as_(who, "POST", f"/tasks/{city_task['id']}/complete", expect=403, json={"data": {}})  # ... works none
    assert story.as_("chengdu_window", "GET", "/tasks")["total"] == 0  # its own inbox stays its own
    # The district's window sees every case of its district and all their tasks; not 德阳's.
    assert {c["id"] for c in story.as_("zwfw", "GET", "/cases")["items"]} == {with_city_item["id"], county_only["id"]}
    region_tasks = story.as_("zwfw", "GET", "/tasks", query_string={"region": "pidu"})["items"]
    assert {t["department"] for t in region_tasks} == {"county.fgj", "city.zrzyj", "county.sthjj"}
    assert story.as_("zwfw", "GET", "/tasks", query_string={"department": "county.fgj"})["total"] == 2
    story.as_("zwfw", "GET", f"/cases/{deyang['id']}", expect=403)
    # A body's staff still see only the cases with a task at their body.
    assert {c["id"] for c in story.as_("zrzyj", "GET", "/cases")["items"]} == {with_city_item["id"]}
    story.as_("fgj", "GET", "/tasks", expect=403, query_string={"department": "county.sthjj"})
    assert [c["id"] for c in story.as_("deyang_gov", "GET", "/cases")["items"]] == [deyang["id"]]


def test_who_accepts_decides_the_region(world, runtime):
    story = world
    # An agent works at a window; its cases are its window's region's.
    bad = story.client.post(f"{API}/cases", headers=story.user("root", "admin"), json={
        "process_key": "regional_items", "business_key": "2026-510603-34-01-000110", "region": "jingyang",
        "variables": {"items": ITEMS}})
    assert bad.status_code == 201 and bad.get_json()["region"] == "jingyang"  # an admin may name it
    story.as_("pidu_agent", "POST", "/cases", expect=403, json={
        "process_key": "regional_items", "business_key": "2026-510603-34-01-000111", "region": "jingyang"})
    from engine.services import users
    from engine.errors import Invalid
    with runtime.unit_of_work() as uow, pytest.raises(Invalid) as refused:
        users.create_user(uow, "wrong", "agent", "county.fgj")
    assert "window" in refused.value.errors["department"][0]
    # An agent with no department: the default region (郫都区).
    default = story.start_at("alice", "2026-510117-34-01-000112")
    assert default["region"] == "pidu" and default["open_tasks"][0]["department"] == "county.zwfw"


def test_a_body_no_region_up_the_tree_has_is_a_routing_error_naming_it(world):
    story = world
    tax = [{"code": "tax", "name": "税务登记", "department": "county.sj", "time_limit": "5 working days"}]
    pidu = story.start_at("pidu_agent", "2026-510117-34-01-000113", items=tax)
    assert _accept(story, pidu, "county.zwfw")["tax"]["department"] == "county.sj"
    jingyang = story.start_at("jy_agent", "2026-510603-34-01-000114", items=tax)
    assert _accept(story, jingyang, "jingyang.zwfw") == {}  # 四川省, 德阳市 and 旌阳区 have no tax body here
    case = story.as_("root", "GET", f"/cases/{jingyang['id']}")
    assert case["error"] == "Review: no 税务 body (county.sj) in 四川省德阳市旌阳区 or above"


class AgentAt(Regions):
    """A Story whose agent `alice` works at another region's window."""

    def __init__(self, client, runtime, window: str) -> None:  # type: ignore[no-untyped-def]
        self.window = window
        super().__init__(client, runtime)

    def user(self, name: str, role: str, department: str | None = None) -> dict[str, str]:
        return super().user(name, role, self.window if name == "alice" else department)


def test_the_shipped_agency_process_runs_in_the_deyang_chain(runtime, clock):
    """The Deyang seed: 一窗受理 at 旌阳区's centre; the shipped process, unchanged, sends the window's
    steps to 旌阳区政务服务中心 and the items to 旌阳区's and 德阳市's bodies; an overdue item escalates
    to 旌阳区's window, the body's leaders, 旌阳区人民政府."""
    from tests.scenarios.story import agreement, registration
    story = AgentAt(create_app({"TESTING": True}, runtime=runtime).test_client(), runtime, "jingyang.zwfw")
    story.deploy("one_window_agency.bpmn")
    key = "2026-510603-33-03-000501"
    assert story.start("one_window_agency", key, project={"project_name": "玉龙钢管厂（一期）"})["region"] == "jingyang"
    story.do("Register", registration("玉龙钢管厂（一期）", key))
    story.do("Agreement", agreement())
    assert story.task("PreReview")["department"] == "jingyang.zwfw"
    story.do("PreReview", {"materials": [{"name": "营业执照", "checked": True}], "complete": True})
    story.do("Intake", {"decision": "accept"}, department="jingyang.zwfw")
    items = {t["item"]["code"]: t["department"] for t in story.item_tasks()}
    assert items == {"project_approval": "jingyang.fgj", "site_land_pre_review": "deyang.zrzyj",
                     "land_planning_permit": "deyang.zrzyj", "eia": "deyang.sthjj"}
    due = datetime.fromisoformat(next(t for t in story.item_tasks()
                                      if t["department"] == "jingyang.fgj")["due_at"]).astimezone(BJ)
    for days in range(7):  # past 受理审查's limit, then a working day per level (whatever the weekday)
        moment = due.replace(hour=17, minute=31)
        clock.set(moment + timedelta(days=days))
        timers.run_due(runtime)
    found = story.as_("root", "GET", "/escalations", query_string={"limit": 100})["items"]
    chain = sorted((e["level"], e["department"], e["role"]) for e in found if e["item_department"] == "jingyang.fgj")
    assert chain == [(1, "jingyang.zwfw", "coordinator"), (2, "jingyang.fgj", "leaders"),
                     (3, "jingyang.zf", "coordinator")]
    assert {e["department"] for e in found} <= {"jingyang.zwfw", "jingyang.fgj", "deyang.zrzyj", "deyang.sthjj",
                                                "jingyang.zf"}
