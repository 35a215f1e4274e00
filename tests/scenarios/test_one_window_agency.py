"""The articles' cases end to end through the REST API: Deyang's steel-pipe plant, a refusal the
agent resubmits, termination by the enterprise, suspend and resume, the item clock across 补正.
Phased submission: test_phased_submission.py; one entry (business key, the one form, 容缺, deemed
consent): test_one_entry.py; the public page: test_public_progress.py."""
from __future__ import annotations

import pytest

from api.app import create_app
from tests.scenarios.story import ACCEPT, APPROVE, Story, agreement, materials, registration

PLANT = "德阳玉龙钢管厂（一期）"
CODE = "2026-510117-33-03-000321"


@pytest.fixture
def story(runtime):
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    s = Story(client, runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def by_name(public):
    return {i["name"]: i for i in public["items"]}


def variables(story):
    return story.case()["variables"]


def test_steel_pipe_plant_from_signing_to_completion(story):
    story.start("one_window_agency", CODE, project={"project_name": PLANT})
    assert story.public()["stage"] == "registration"
    story.do("Register", registration(PLANT, CODE))
    story.do("Agreement", agreement())
    # early intervention: the pre-review finds a gap, the agent fills it, the window checks again
    story.do("PreReview", {"materials": [{"name": "营业执照", "checked": True}], "complete": False,
                           "missing": [{"name": "项目可行性研究报告", "reason": "未提供"}]})
    assert story.public()["stage"] == "pre_review"
    story.do("PrepareMaterials", materials("项目可行性研究报告"))
    story.do("PreReview", {"materials": [{"name": "项目可行性研究报告", "checked": True}], "complete": True})
    # intake with one material missing, on a signed commitment (容缺受理)
    story.do("Intake", {"decision": "accept_with_commitment", "missing_materials": [{"name": "节能报告"}],
                        "commitment_due": "2026-04-01"})
    public = story.public()
    assert public["stage"] == "stage1_project_land"
    stage1 = {"项目审批/核准/备案": "county.fgj", "用地预审与选址意见书": "city.zrzyj",
              "建设用地规划许可证": "county.zrzyj", "环境影响评价审批（报告表）": "county.sthjj"}
    window = {"提前介入·材料预审", "窗口受理"}
    assert {n: i["department"]["code"] for n, i in by_name(public).items() if n not in window} == stage1
    assert {i["state"] for i in public["items"] if i["name"] in window} == {"completed"}
    assert {i["state"] for i in public["items"] if i["name"] in stage1} == {"pending"}  # 待受理
    assert "补齐容缺材料" not in by_name(public)  # the agent's own tasks are not public

    # stage 1, in an order different from the diagram; a correction loop at the planning bureau
    story.do("ItemAccept", ACCEPT, item="建设用地规划许可证")
    story.do("ItemReview", {"decision": "correction", "opinion": "总平面图与规划条件不符",
                            "conditions": ["修改后的总平面图"]}, item="建设用地规划许可证")
    correction = story.task("ItemReviewCorrection")
    assert correction["department"] is None and correction["assignee"] == "alice"
    assert correction["item"]["name"] == "建设用地规划许可证"
    row = by_name(story.public())["建设用地规划许可证"]
    assert row["state"] == "correction" and row["clock_stopped"] and row["state_name"] == "补正中"
    story.complete(correction, materials("修改后的总平面图"))
    assert by_name(story.public())["建设用地规划许可证"]["state"] == "review"  # 审查中
    story.do("ItemReview", APPROVE, item="建设用地规划许可证")
    assert by_name(story.public())["建设用地规划许可证"]["state"] == "approved"
    story.approve_item("用地预审与选址意见书")
    assert by_name(story.public())["项目审批/核准/备案"]["state"] == "pending"
    story.approve_item("项目审批/核准/备案")
    assert story.public()["stage"] == "stage2_works_permit"
    for name in ("设计方案审查", "建设工程规划许可证"):
        story.approve_item(name)
    # stage 3 waits for the EIA, which runs alongside stages 1-2
    assert not [t for t in story.item_tasks() if t["item"]["stage"] == "stage3_construction_permit"]
    story.approve_item("环境影响评价审批（报告表）")
    assert story.public()["stage"] == "stage3_construction_permit"
    # the committed material arrives and the window verifies it
    story.do("SupplyMissing", materials("节能报告"))
    story.do("VerifyMissing", {"materials": [{"name": "节能报告", "checked": True}], "complete": True})
    for name in ("施工图联合审查（含消防、人防）", "消防设计审查", "建筑工程施工许可证"):
        story.approve_item(name)
    assert story.public()["stage"] == "stage4_completion"
    story.approve_all_items()
    story.do("Closure", {"outcome": "completed", "files_handed_over": ["施工许可证", "竣工验收备案表"]})

    public = story.public()
    assert public["status"] == "completed" and public["state"] == "completed" and public["ended_at"]
    assert {i["state"] for i in public["items"] if i["kind"] == "item"} == {"approved"}
    assert {i["state"] for i in public["items"] if i["kind"] == "step"} == {"completed"}
    # one row per item however many tasks it took: 11 approval items, and the window's three steps
    # (pre-review ran twice, intake, verification of the committed material)
    assert len(public["items"]) == 14 and len(by_name(public)) == 14
    assert by_name(public)["建设用地规划许可证"]["days_used"] is not None
    results = variables(story)
    assert [i["status"] for i in results["stage1_items"]] == ["approved"] * 3
    assert results["eia_items"][0]["status"] == "approved"
    assert results["committed_materials"] == [{"name": "节能报告"}]
    assert story.case()["status"] == "completed"
    # nothing personal or internal on the public page
    text = str(public)
    assert "13800000000" not in text and "总平面图与规划条件不符" not in text


def test_a_refusal_the_agent_resubmits_and_one_the_agent_withdraws(story):
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    story.do("ItemAccept", ACCEPT, item="项目审批/核准/备案")
    story.do("ItemReview", {"decision": "refuse", "opinion": "不符合产业政策目录"}, item="项目审批/核准/备案")
    story.do("AfterRefusal", {"action": "resubmit", "materials": [{"name": "调整后的项目申请报告"}]},
             item="项目审批/核准/备案")
    story.approve_item("项目审批/核准/备案")
    # the city planning bureau does not accept; the enterprise gives that item up
    story.do("ItemAccept", {"decision": "reject", "opinion": "选址不在城镇开发边界内"}, item="用地预审与选址意见书")
    story.do("AfterRefusal", {"action": "withdraw", "note": "企业改由省厅办理"}, item="用地预审与选址意见书")
    bad = story.task("ItemAccept", item="建设用地规划许可证")
    story.complete(story.task("ItemAccept", item="环境影响评价审批（报告表）"), {"decision": "maybe"}, expect=422)
    story.complete(bad, ACCEPT)
    story.approve_all_items()
    assert not story.item_tasks()  # no stage 2-4: the agreement covered stage 1 only
    story.do("Closure", {"outcome": "completed", "files_handed_over": ["项目核准批复"]})
    items = {i["code"]: i for i in variables(story)["stage1_items"]}
    assert items["project_approval"]["status"] == "approved" and items["project_approval"]["resubmissions"] == 1
    assert items["site_land_pre_review"]["status"] == "refused"
    assert items["site_land_pre_review"]["withdrawn_reason"] == "企业改由省厅办理"
    assert variables(story).get("stage2_items") == []


def test_a_case_terminated_by_the_enterprise(story):
    story.open_agency_case(PLANT, CODE)
    story.approve_item("项目审批/核准/备案")
    story.verb("cancel", "企业决定终止投资（终止）")
    assert story.case()["status"] == "cancelled"
    assert story.open_tasks() == []
    public = story.public()
    assert public["status"] == "cancelled" and public["state"] == "terminated" and public["state_name"] == "已终止"
    assert by_name(public)["项目审批/核准/备案"]["state"] == "approved"
    assert by_name(public)["用地预审与选址意见书"]["state"] == "withdrawn"  # 已撤回
    story.complete({"id": "nope", "department": None}, APPROVE, expect=404)


def test_suspend_and_resume(story):
    story.open_agency_case(PLANT, CODE)
    task = story.task("ItemAccept", item="项目审批/核准/备案")
    story.verb("suspend", "企业调整设计方案（中止）")
    assert story.public()["status"] == "suspended" and story.public()["state_name"] == "已暂停"
    story.complete(task, ACCEPT, expect=409)
    story.verb("resume", "设计方案已调整（续办）")
    story.complete(task, ACCEPT)
    assert story.public()["status"] == "running"
    history = story.call("GET", f"/cases/{story.case_id}/history", who="root")
    types = [e["type"] for e in (history["items"] if isinstance(history, dict) else history)]
    assert types.index("suspended") < types.index("resumed")


def test_the_item_clock_stands_still_while_the_enterprise_corrects(story, runtime):
    """补正 at the decision step: the item's working days left are kept (resume); 补正 before
    acceptance: the acceptance clock starts afresh (restart, the item's `after_stop` rule)."""
    from datetime import datetime, timedelta, timezone
    cst = timezone(timedelta(hours=8))
    clock = runtime.clock
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=cst))  # Monday
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    item = "建设用地规划许可证"  # 20 working days at county.zrzyj
    story.do("ItemAccept", ACCEPT, item=item)
    review = story.task("ItemReview", item=item)
    assert review["due_at"].startswith("2026-03-30T09:30")  # 20 working days after Monday 2 March, 17:30 CST

    clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=cst))  # 5 working days used; 补正
    story.do("ItemReview", {"decision": "correction", "opinion": "总平面图与规划条件不符",
                            "conditions": ["修改后的总平面图"]}, item=item)
    clock.set(datetime(2026, 3, 23, 10, 0, tzinfo=cst))  # the enterprise takes two weeks
    story.do("ItemReviewCorrection", materials("修改后的总平面图"), item=item)
    again = story.task("ItemReview", item=item)
    assert again["due_at"].startswith("2026-04-14T09:30")  # the 15 days left, from 23 March (清明 6 April off)
    assert again["sla"] == "normal"

    history = story.call("GET", f"/cases/{story.case_id}/history?per_page=200", who="root")["items"]
    stops = [e for e in history if e["type"] == "clock_stopped"]
    assert [(s["data"]["kind"], s["data"]["item"]) for s in stops] == [("correction", "land_planning_permit")]
    [restarted] = [e for e in history if e["type"] == "clock_started" and e["task_id"] == again["id"]]
    assert restarted["data"]["mode"] == "resume"
    assert restarted["data"]["previous_due_at"].startswith("2026-03-30T09:30")

    # before acceptance the rule is restart: a corrected application gets the full limit again
    other = "用地预审与选址意见书"
    clock.set(datetime(2026, 3, 24, 9, 0, tzinfo=cst))
    story.do("ItemAccept", {"decision": "correction", "missing_materials": [{"name": "选址论证报告"}]},
             item=other)
    clock.set(datetime(2026, 3, 26, 9, 0, tzinfo=cst))
    story.do("ItemAcceptCorrection", materials("选址论证报告"), item=other)
    accept = story.task("ItemAccept", item=other)
    history = story.call("GET", f"/cases/{story.case_id}/history?per_page=200", who="root")["items"]
    [started] = [e for e in history if e["type"] == "clock_started" and e["task_id"] == accept["id"]]
    assert started["data"]["mode"] == "restart"
    assert accept["due_at"].startswith("2026-04-24T09:30")  # the full 20 working days from 26 March
