"""One entry, consistent data: the business key is a project code, the one form (一张表单) starts
from what the agent gave at start and binds the case to its code, 容缺受理's promised date is a real
due date, and a shipped item allows deemed consent (视为同意) end to end."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from api.app import create_app
from engine.services import timers
from tests.scenarios.story import ACCEPT, APPROVE, Story, credit_code, materials

PLANT = "德阳玉龙钢管厂（一期）"
CODE = "2026-510117-33-03-000321"
CST = timezone(timedelta(hours=8))


@pytest.fixture
def story(runtime):
    s = Story(create_app({"TESTING": True}, runtime=runtime).test_client(), runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def test_the_business_key_must_be_a_project_code(story):
    for bad in ("hello world", "2026-510117-33-03-000000", "2026-990117-33-03-000321", "2026-510117-33-03"):
        response = story.call("POST", "/cases", expect=422, json={"process_key": "one_window_agency",
                                                                  "business_key": bad})
        assert list(response["errors"]) == ["business_key"], response
    assert story.call("GET", "/cases?process_key=one_window_agency", who="root")["total"] == 0
    assert story.start("one_window_agency", CODE)["business_key"] == CODE


def test_the_rule_is_declared_by_the_process_not_by_its_key(story, runtime):
    """site_selection declares no rule: any key; a process naming an unknown format is refused at deploy."""
    story.deploy("site_selection.bpmn")
    story.start("site_selection", "hello world", variables={"sites": ["甲"], "bodies": [{"department": "county.fgj"}]})
    bpmn = (b'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
            b'20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="x">\n'
            b'<bpmn:process id="zip" isExecutable="true">\n<bpmn:extensionElements><camunda:properties>'
            b'<camunda:property name="business_key_format" value="zip-code"/></camunda:properties>'
            b'</bpmn:extensionElements>\n<bpmn:startEvent id="S"/></bpmn:process></bpmn:definitions>')
    response = story.client.post("/api/v1/process-definitions", data=bpmn, headers={
        **story.user("dora", "designer"), "Content-Type": "application/xml"})
    assert response.status_code == 422
    assert "business_key_format 'zip-code' is not a known format" in str(response.get_json())


def test_the_one_form_starts_from_the_start_and_binds_the_case(story):
    started = story.start("one_window_agency", CODE, project={
        "project_name": PLANT, "enterprise_name": "德阳玉龙钢管有限公司", "investment": 30000,
        "location": {"province": "四川省", "city": "德阳市", "county": "旌阳区"}, "internal_note": "x"})
    [register] = started["open_tasks"]
    assert register["prefill"] == {"project_code": CODE, "project_name": PLANT,
                                   "enterprise_name": "德阳玉龙钢管有限公司", "investment": 30000,
                                   "location": {"province": "四川省", "city": "德阳市", "county": "旌阳区"}}
    assert story.call("GET", f"/tasks/{register['id']}")["prefill"]["project_code"] == CODE
    rest = {"credit_code": credit_code(), "legal_representative": "张建国", "contact_name": "李明",
            "contact_phone": "13800000000", "industry": "金属制品业", "land_area": 120,
            "stages_requested": ["stage1_project_land", "stage2_works_permit"]}
    wrong = story.complete(register, {**rest, "project_code": "2026-510117-33-03-000999"}, expect=422)
    assert list(wrong["errors"]) == ["project_code"] and CODE in wrong["errors"]["project_code"][0]
    # only what the service does not know yet, and the figures as they now stand
    done = story.complete(register, {**rest, "project_name": "德阳玉龙钢管厂（一期扩建）", "investment": 32000})
    case = story.case()
    assert case["name"] == "德阳玉龙钢管厂（一期扩建）" and story.public()["name"] == "德阳玉龙钢管厂（一期扩建）"
    assert case["project"]["investment"] == 32000 and case["project"]["land_area"] == 120
    assert case["project"]["location"]["county"] == "旌阳区"
    assert "contact_phone" not in case["project"]  # personal data stays in the form
    assert case["variables"]["registration"]["project_code"] == CODE

    # the agreement: the agent comes from the sign-in, the stages and contact from the form
    [agreement] = [t for t in done["open_tasks"] if t["element_id"] == "Agreement"]
    assert agreement["prefill"] == {"agent_name": "alice",
                                    "stages_agreed": ["stage1_project_land", "stage2_works_permit"],
                                    "enterprise_contact": {"name": "李明", "phone": "13800000000"}}
    typed = story.complete(agreement, {"agent_name": "bob", "signed_date": "2026-03-02"}, expect=422)
    assert list(typed["errors"]) == ["agent_name"]
    story.complete(agreement, {"signed_date": "2026-03-02"})
    assert story.case()["variables"]["agency_agreement"]["agent_name"] == "alice"


def test_a_promised_date_is_the_due_date_of_the_missing_materials(story, runtime):
    """容缺受理: the enterprise promises the 节能报告 by 20 March; the task is due that day at the
    close of office, turns red after it and escalates like any other limit."""
    story.open_agency_case(PLANT, CODE, stages=["stage1_project_land"],
                           intake={"decision": "accept_with_commitment", "missing_materials": [{"name": "节能报告"}],
                                   "commitment_due": "2026-03-20"})
    supply = story.task("SupplyMissing")
    assert supply["due_at"] == "2026-03-20T09:30:00+00:00"  # 17:30 Beijing time
    assert supply["sla"] == "normal"
    runtime.clock.set(datetime(2026, 3, 18, 9, 0, tzinfo=CST))  # four fifths of the time are gone
    timers.run_due(runtime)
    assert story.task("SupplyMissing")["sla"] == "yellow"
    runtime.clock.set(datetime(2026, 3, 20, 18, 0, tzinfo=CST))
    timers.run_due(runtime)
    assert story.task("SupplyMissing")["sla"] == "red"
    raised = story.call("GET", f"/escalations?case_id={story.case_id}", who="root")["items"]
    assert [(e["level"], e["task_id"]) for e in raised] == [(1, supply["id"])]
    story.do("SupplyMissing", materials("节能报告"))
    story.do("VerifyMissing", {"materials": [{"name": "节能报告", "checked": True}], "complete": True})
    assert {e["status"] for e in story.call("GET", f"/escalations?case_id={story.case_id}",
                                            who="root")["items"]} == {"resolved"}


def test_a_silent_body_is_deemed_to_consent_where_the_item_allows_it(story, runtime):
    """施工图联合审查 allows deemed consent (the catalogue says so); 消防设计审查 does not: when
    both bodies stay silent past their limits, the first item is decided as consenting, the second
    escalates."""
    story.open_agency_case(PLANT, CODE, stages=["stage3_construction_permit"])
    drawings, fire = "施工图联合审查（含消防、人防）", "消防设计审查"
    assert story.task("ItemAccept", item=drawings)["item"]["deemed_consent"] is True
    assert story.task("ItemAccept", item=fire)["item"]["deemed_consent"] is False
    story.approve_item("建筑工程施工许可证")
    runtime.clock.set(datetime(2026, 3, 24, 9, 0, tzinfo=CST))  # 15 working days after 2 March are up
    timers.run_due(runtime)
    review = story.task("ItemReview", item=drawings)  # deemed accepted (逾期未作出受理决定，视为受理)
    assert review["due_at"].startswith("2026-04-15")
    runtime.clock.set(datetime(2026, 4, 16, 9, 0, tzinfo=CST))
    timers.run_due(runtime)
    assert not [t for t in story.item_tasks() if t["item"]["name"] == drawings]
    row = {i["name"]: i for i in story.public()["items"]}[drawings]
    assert row["state"] == "approved" and row["deemed_consent"] is True and not row["overdue"]
    # the body of the other item gets no such pass: its task is red and escalated
    assert story.task("ItemAccept", item=fire)["sla"] == "red"
    assert {i["name"]: i for i in story.public()["items"]}[fire]["overdue"] is True
    story.approve_item(fire)
    assert story.task("Closure")
    items = {i["code"]: i for i in story.case()["variables"]["stage3_items"]}  # handed back by the stage
    assert items["drawing_review"]["status"] == "approved"
    assert items["drawing_review"]["approval_decision"]["deemed_consent"] is True
    html = story.client.get(f"/progress/{CODE}").get_data(as_text=True)
    assert "视为同意" in html
