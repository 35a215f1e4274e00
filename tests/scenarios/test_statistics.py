"""Supervision figures (issue 14) for a hand-checked set of cases, through the REST API.

Three 郫都区 cases accepted on Monday 2026-03-02 at 09:00, stage 1 only (four items each:
项目审批 county.fgj, 用地预审 city.zrzyj, 规划许可 county.zrzyj — 20 working days each — and the EIA at
county.sthjj, 30 natural days = 22 working days from 2 March). March 2026 has no holidays.

A (备案类, 30000 万元): fgj accepts Tue 3/3, approves Thu 3/5 (3 working days); city accepts Wed 3/4,
   approves Fri 3/6 (4); county.zrzyj accepts 3/3, asks for 补正 Wed 3/4, the enterprise answers Mon 3/9
   (clock stopped 3 working days), approves Wed 3/11 (1 + 1 + 2 = 4 used, 7 elapsed); the EIA is
   accepted 3/2 and approved Thu 3/12 (8). 办结 Fri 3/13: 9 working days. Serial: limits 82, actual
   3 + 4 + 7 + 8 = 22; critical path: the EIA alone (8).
B (核准类, 50000 万元): fgj does not accept Tue 3/3 (refused, 1 day), the agent withdraws; city 3/3 and
   3/5 (3); county.zrzyj 3/4 and 3/6 (4); EIA 3/3 and Tue 3/10 (6). 办结 Wed 3/11: 7 working days.
C (审批类, 20000 万元): nothing decided; at 3/31 10:00 every 20-day item is overdue and escalated to level 1.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.app import create_app
from engine.services import timers
from tests.scenarios.story import ACCEPT, APPROVE, Story, agreement, materials, registration

CST = ZoneInfo("Asia/Shanghai")
STAGE1 = ["stage1_project_land"]
FGJ, CITY, PLAN, EIA = "项目审批/核准/备案", "用地预审与选址意见书", "建设用地规划许可证", "环境影响评价审批（报告表）"
A, B, C = "2026-510117-33-03-000321", "2026-510117-33-02-000322", "2026-510117-33-01-000323"


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=CST)


@pytest.fixture
def story(runtime):
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    s = Story(client, runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def open_case(story: Story, name: str, code: str, investment: int) -> str:
    story.runtime.clock.set(at(2, 9))
    story.start("one_window_agency", code, project={"project_name": name})
    story.do("Register", {**registration(name, code, STAGE1), "investment": investment})
    story.do("Agreement", agreement(STAGE1))
    story.do("PreReview", {"materials": [{"name": "营业执照", "checked": True}], "complete": True})
    story.do("Intake", ACCEPT)
    return story.case_id


def on(story: Story, case_id: str, day: int, element: str, data: dict, item: str) -> None:
    story.case_id = case_id
    story.runtime.clock.set(at(day))
    story.do(element, data, item=item)


@pytest.fixture
def cases(story, runtime):
    a = open_case(story, "德阳玉龙钢管厂（一期）", A, 30000)
    b = open_case(story, "郫都区食品产业园", B, 50000)
    c = open_case(story, "郫都区物流中心", C, 20000)
    on(story, a, 2, "ItemAccept", ACCEPT, EIA)
    on(story, a, 3, "ItemAccept", ACCEPT, FGJ)
    on(story, a, 3, "ItemAccept", ACCEPT, PLAN)
    on(story, b, 3, "ItemAccept", {"decision": "reject", "opinion": "不符合产业政策目录"}, FGJ)
    on(story, b, 3, "ItemAccept", ACCEPT, CITY)
    on(story, b, 3, "ItemAccept", ACCEPT, EIA)
    on(story, a, 4, "ItemAccept", ACCEPT, CITY)
    on(story, a, 4, "ItemReview", {"decision": "correction", "opinion": "总平面图与规划条件不符"}, PLAN)
    on(story, b, 4, "AfterRefusal", {"action": "withdraw", "note": "企业放弃"}, FGJ)
    on(story, b, 4, "ItemAccept", ACCEPT, PLAN)
    on(story, a, 5, "ItemReview", APPROVE, FGJ)
    on(story, b, 5, "ItemReview", APPROVE, CITY)
    on(story, a, 6, "ItemReview", APPROVE, CITY)
    on(story, b, 6, "ItemReview", APPROVE, PLAN)
    on(story, a, 9, "ItemReviewCorrection", materials("修改后的总平面图"), PLAN)
    on(story, b, 10, "ItemReview", APPROVE, EIA)
    on(story, a, 11, "ItemReview", APPROVE, PLAN)
    story.case_id = b
    story.do("Closure", {"outcome": "completed", "files_handed_over": ["规划许可证"]})
    on(story, a, 12, "ItemReview", APPROVE, EIA)
    story.runtime.clock.set(at(13))
    story.case_id = a
    story.do("Closure", {"outcome": "completed", "files_handed_over": ["规划许可证"]})
    runtime.clock.set(at(31))
    timers.run_due(runtime)  # C's three 20-day items turn red: level 1 each
    return {"A": a, "B": b, "C": c}


def test_department_performance_of_the_hand_checked_cases(story, cases):
    report = story.call("GET", "/stats/departments?from=2026-03-01&to=2026-03-31", who="root")
    rows = {r["department"]: r for r in report["departments"]}
    fgj = rows["county.fgj"]
    assert (fgj["received"], fgj["decided"], fgj["approved"], fgj["refused"], fgj["sent_to_correction"]) == (3, 2, 1, 1, 0)
    assert (fgj["days_median"], fgj["days_p90"], fgj["limit_median"], fgj["on_time_share"]) == (2.0, 2.8, 20.0, 1.0)
    assert fgj["overdue_now"] == 1 and fgj["escalations"] == {"1": 1, "2": 0, "3": 0}
    city = rows["city.zrzyj"]
    assert (city["decided"], city["approved"], city["days_median"], city["days_p90"]) == (2, 2, 3.5, 3.9)
    plan = rows["county.zrzyj"]
    # A's 补正: the enterprise's three days are not the bureau's; one item of three sent to 补正
    assert (plan["received"], plan["sent_to_correction"], plan["days_median"], plan["days_p90"]) == (3, 1, 4.0, 4.0)
    eia = rows["county.sthjj"]
    assert (eia["days_median"], eia["days_p90"], eia["limit_median"]) == (7.0, 7.8, 22.0)
    assert eia["overdue_now"] == 0 and eia["escalations"]["1"] == 0  # 30 natural days: due 4/1 09:00
    assert report["totals"]["escalations"] == {"1": 3, "2": 0, "3": 0}
    assert report["totals"]["deemed_consents"] == 0
    # a period before anything was decided: received counts stay with their own days
    before = story.call("GET", "/stats/departments?from=2026-03-02&to=2026-03-02", who="root")
    fgj = {r["department"]: r for r in before["departments"]}["county.fgj"]
    assert (fgj["received"], fgj["decided"]) == (3, 0)


def test_the_time_parallel_approval_saved(story, cases):
    timing = story.call("GET", f"/cases/{cases['A']}/timing", who="root")
    assert (timing["state"], timing["elapsed_days"], timing["serial_limit_days"], timing["serial_actual_days"],
            timing["body_days"], timing["clock_stop_days"]) == ("completed", 9, 82, 22, 19, 3)
    assert [s["name"] for s in timing["critical_path"]] == [EIA] and timing["critical_path_days"] == 8
    assert (timing["saving_vs_limits_days"], timing["saving_vs_limits_percent"]) == (73, 89.0)
    assert (timing["saving_vs_serial_days"], timing["saving_vs_serial_percent"]) == (13, 59.1)
    assert timing["headline"] == "并联审批节省 59%"
    plan = {i["name"]: i for i in timing["items"]}[PLAN]
    assert (plan["days_used"], plan["elapsed_days"], plan["clock_stop_days"]) == (4, 7, 3)
    refused = story.call("GET", f"/cases/{cases['B']}/timing", who="root")
    assert {i["name"]: i["outcome"] for i in refused["items"]}[FGJ] == "refused"
    assert (refused["elapsed_days"], refused["serial_actual_days"]) == (7, 14)
    open_ = story.call("GET", f"/cases/{cases['C']}/timing", who="root")
    assert open_["state"] == "open" and open_["elapsed_days"] is None and open_["elapsed_days_so_far"] == 21

    saved = story.call("GET", "/stats/savings?from=2026-03-01&to=2026-03-31", who="root")
    assert (saved["cases"], saved["elapsed_days"], saved["serial_limit_days"], saved["serial_actual_days"]) == \
        (2, 16, 164, 36)
    assert (saved["elapsed_days_median"], saved["clock_stop_days"]) == (8.0, 3)
    assert (saved["saving_vs_limits_percent"], saved["saving_vs_serial_percent"]) == (90.2, 55.6)
    assert saved["headline"] == "并联审批节省 56%"
    assert [r["region"] for r in saved["regions"]] == ["pidu"]


def test_yearly_figures_and_csv(story, cases):
    report = story.call("GET", "/stats/years", who="root")
    [year] = report["years"]
    assert (year["year"], year["accepted"], year["closed"]) == (2026, 3, 2)
    assert (year["investment_total"], year["investment_median"], year["phased_share"]) == (100000, 30000, 0)
    assert year["days_median"] == 8.0 and year["days_median_by_type"] == {"备案类": 9.0, "核准类": 7.0}
    assert year["items_by_stage"]["stage1_project_land"] == 9

    response = story.client.get("/api/v1/stats/departments?from=2026-03-01&to=2026-03-31",
                                headers={**story.user("root", "admin"), "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    fgj = next(r for r in table if r["部门代码"] == "county.fgj")
    assert fgj["部门"] == "郫都区发展和改革局" and fgj["收件数"] == "3" and fgj["不予许可"] == "1"
    years = story.client.get("/api/v1/stats/years?format=csv", headers=story.user("root", "admin"))
    rows = list(csv.reader(io.StringIO(years.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["年度", "地区", "受理项目数"] and rows[1][:4] == ["2026", "", "3", "2"]


def test_who_may_see_which_statistics(story, cases):
    query = "/stats/departments?from=2026-03-01&to=2026-03-31"
    story.call("GET", query, who="alice", expect=403)  # an agent
    own = story.call("GET", query, who="county.fgj")  # a body's staff: its own row only
    assert [r["department"] for r in own["departments"]] == ["county.fgj"]
    story.call("GET", "/stats/savings", who="county.fgj", expect=403)
    story.user("pidu-gov", "government", "county.zf")
    story.user("cd-window", "leader", "city.zwfw")
    headers = story.user("pidu-gov", "government", "county.zf")
    county = story.client.get("/api/v1" + query, headers=headers).get_json()
    assert "city.zrzyj" not in {r["department"] for r in county["departments"]}  # 郫都区's bodies only
    assert story.client.get("/api/v1" + query + "&region=chengdu", headers=headers).status_code == 403
    city = story.client.get("/api/v1" + query, headers=story.user("cd-window", "leader", "city.zwfw")).get_json()
    assert {"city.zrzyj", "county.fgj"} <= {r["department"] for r in city["departments"]}
    not_lower = story.client.get("/api/v1" + query + "&lower=false",
                                 headers=story.user("cd-window", "leader", "city.zwfw")).get_json()
    assert {r["department"] for r in not_lower["departments"]} == {"city.zrzyj"}


def test_rebuild_gives_the_rows_the_upkeep_kept(story, cases, runtime):
    """The rows kept command by command equal those recomputed from the task rows at the end."""
    from sqlalchemy import select

    from engine.services import statistics_upkeep
    from engine.adapters.models import StatCase, StatItem

    def snapshot():
        with runtime.unit_of_work(write=False) as uow:
            items = {(r.case_id, r.key): {c.name: getattr(r, c.name) for c in StatItem.__table__.columns
                                          if c.name != "id"} for r in uow.session.scalars(select(StatItem))}
            rows = {r.case_id: {c.name: getattr(r, c.name) for c in StatCase.__table__.columns}
                    for r in uow.session.scalars(select(StatCase))}
        return items, rows

    kept = snapshot()
    with runtime.unit_of_work() as uow:
        result = statistics_upkeep.rebuild(uow)
        uow.commit()
    assert result["cases"] == 3 and snapshot() == kept


def test_stats_from_the_command_line(story, cases):
    runner = story.client.application.test_cli_runner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(args=["stats", *args])

    result = run("departments", "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert "郫都区发展和改革局" in result.output and "收件数" in result.output
    result = run("savings", "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 0 and "并联审批节省 56%" in result.output
    assert run("years", "--format", "csv").output.startswith("\ufeff年度,地区,受理项目数")
    result = run("departments", "--region", "atlantis")
    assert result.exit_code == 1 and "unknown region 'atlantis'" in result.output
    assert run("rebuild").output.strip() == "rebuilt the statistics of 3 cases (18 items)"


def test_a_body_sees_only_its_own_items_in_a_cases_timing(story, cases):
    timing = story.call("GET", f"/cases/{cases['A']}/timing", who="county.fgj")
    assert [i["department"] for i in timing["items"]] == ["county.fgj"] and timing["critical_path"] == []
    assert timing["elapsed_days"] == 9
    story.call("GET", f"/cases/{cases['A']}/timing", who="bob", expect=403)  # another agent
