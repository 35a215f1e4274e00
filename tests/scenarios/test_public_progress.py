"""The public page tells the truth: one row per approval item with its real state — a refused
and resubmitted item is one row that went 待受理 → 审查中 → 不予许可 → 待受理 → 已批准, not four
"已完成" task rows; overdue items are flagged; a case in error says 处理异常; opinions stay hidden."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from api.app import create_app
from tests.conftest import deploy_file
from tests.scenarios.story import ACCEPT, APPROVE, Story

PLANT = "德阳玉龙钢管厂（一期）"
CODE = "2026-510117-33-03-000321"
ITEM = "项目审批/核准/备案"
CST = timezone(timedelta(hours=8))


@pytest.fixture
def story(runtime):
    s = Story(create_app({"TESTING": True}, runtime=runtime).test_client(), runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def row(story, name=ITEM):
    rows = [i for i in story.public()["items"] if i["name"] == name]
    assert len(rows) == 1, rows  # one row per item, however many tasks it took
    return rows[0]


def page_rows(story, name=ITEM):
    html = story.client.get(f"/progress/{CODE}").get_data(as_text=True)
    return [r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if name in r], html


def test_a_refused_item_resubmitted_then_approved_is_one_row_that_tells_where_it_stands(story):
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    assert (row(story)["state"], row(story)["state_name"]) == ("pending", "待受理")
    story.do("ItemAccept", ACCEPT, item=ITEM)
    assert row(story)["state_name"] == "审查中"
    story.do("ItemReview", {"decision": "refuse", "opinion": "不符合产业政策目录（内部意见）"}, item=ITEM)
    refused = row(story)
    assert (refused["state"], refused["state_name"], refused["refusals"]) == ("refused", "不予许可", 1)
    [cells], html = page_rows(story)
    assert "不予许可" in cells and "郫都区发展和改革局" in cells and "20个工作日" in cells
    assert "不符合产业政策目录" not in html and "不符合产业政策目录" not in str(story.public())

    story.do("AfterRefusal", {"action": "resubmit", "materials": [{"name": "调整后的项目申请报告"}]}, item=ITEM)
    assert row(story)["state_name"] == "待受理"  # resubmitted: with the body again
    story.approve_item(ITEM)
    approved = row(story)
    assert (approved["state"], approved["refusals"], approved["overdue"]) == ("approved", 1, False)
    assert approved["completed_at"] and approved["days_used"] == 0.0  # decided the same morning
    [cells], _ = page_rows(story)
    assert "已批准" in cells and "已完成" not in cells

    # one the enterprise gives up after a refusal stays 不予许可 for good
    other = "用地预审与选址意见书"
    story.do("ItemAccept", {"decision": "reject", "opinion": "选址不在城镇开发边界内"}, item=other)
    story.do("AfterRefusal", {"action": "withdraw", "note": "企业改由省厅办理"}, item=other)
    assert row(story, other)["state"] == "refused" and row(story, other)["completed_at"]
    assert "企业改由省厅办理" not in str(story.public())


def test_overdue_items_are_flagged_and_days_used_count_working_days(story, runtime):
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    runtime.clock.set(datetime(2026, 3, 31, 10, 0, tzinfo=CST))  # 20 working days were up on 30 March
    late = row(story)
    assert late["overdue"] and late["due_at"].startswith("2026-03-30T09:30")
    assert late["days_used"] == 21  # the 21st working day of a 20-working-day limit
    public = story.public()
    assert public["overdue_items"] == 3  # stage 1's three items; the EIA has 30 natural days, to 1 April
    eia = row(story, "环境影响评价审批（报告表）")
    assert not eia["overdue"] and eia["days_used"] == pytest.approx(29.0, abs=0.05)  # natural days
    [cells], html = page_rows(story)
    assert "已超时" in cells and "3 项超时" in html


def test_a_case_in_error_says_so(story, runtime):
    deploy_file(runtime, "failing_script.bpmn")
    started = story.start("failing_script", CODE, project={"project_name": "除零"})
    [fill] = started["open_tasks"]
    story.complete(fill, {"divisor": 0})
    public = story.public()
    assert (public["status"], public["state"], public["state_name"]) == ("error", "error", "处理异常")
    assert "处理异常" in story.client.get(f"/progress/{CODE}").get_data(as_text=True)


def test_a_case_closed_as_terminated_is_not_shown_as_completed(story):
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"])
    story.approve_all_items()
    story.do("Closure", {"outcome": "terminated_by_enterprise", "reason": "企业调整投资计划"})
    public = story.public()
    assert (public["status"], public["state"], public["state_name"]) == ("completed", "terminated", "已终止")
    assert "企业调整投资计划" not in str(public)
