"""The Pixian story (shared/seeds/000_a24ed3810dc52656.txt) through the REST API: 投促局 adds a
signed project to a work group of the county's 16 bodies, the enterprise asks three questions to
different bodies, each must get a concrete answer with a preliminary opinion within 24 hours, one
answer is late and escalates through the coordination levels, the case runs, and 发改局 removes
the project as 办结 once it is done."""
from __future__ import annotations

from datetime import timedelta

import pytest

from api.app import create_app
from engine.services import timers
from engine.services.webhooks import Deliverer
from tests.webhook_receiver import Receiver
from tests.scenarios.story import Story, agreement, materials, registration

CODE = "2026-510117-52-01-000016"
NAME = "奥特莱斯郫县项目"
PIDU_16 = {"county.zwfw", "county.fgj", "county.tcj", "county.zjj", "county.zrzyj", "county.sthjj", "county.yjglj",
           "county.xfjy", "county.rfb", "county.swj", "county.jtysj", "county.scjgj", "county.sj", "county.zhzfj",
           "county.wgltj", "county.dag"}


@pytest.fixture
def story(runtime):
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    s = Story(client, runtime)
    s.deploy("one_window_agency.bpmn")
    return s


def call(story, method, path, headers, expect=200, **kwargs):  # type: ignore[no-untyped-def]
    response = story.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)
    assert response.status_code == expect, (method, path, response.status_code, response.get_json())
    return response.get_json()


def add_outlet_mall(story):  # type: ignore[no-untyped-def]
    return call(story, "POST", "/projects", story.staff("county.tcj"), 201, json={
        "code": CODE, "name": NAME,
        "facts": {"investment": 150000, "industry": "零售业", "land_area": 300,
                  "location": {"province": "四川省", "city": "成都市", "county": "郫都区"}},
        "enterprise": {"name": "成都奥特莱斯商业管理有限公司"}, "contact": {"name": "王雪", "phone": "13800000001"},
        "agent": "alice"})


@pytest.fixture
def integrator():
    """The county's data platform: a webhook receiver on 127.0.0.1 that refuses its first call."""
    receiver = Receiver(fail_first=1).start()
    yield receiver
    receiver.stop()


def notified(story, headers) -> list[str]:  # type: ignore[no-untyped-def]
    return [n["title"] for n in call(story, "GET", "/notifications", headers)["items"]]


def test_the_pixian_work_group_from_signing_to_removal(story, runtime, integrator):
    clock = runtime.clock
    promoter, owner = story.staff("county.tcj"), story.staff("county.fgj")
    for body in ("county.xfjy", "county.zwfw", "county.zjj", "county.zrzyj"):
        story.staff(body)  # the bodies' staff have their sign-ins before anything happens
    hook = call(story, "POST", "/webhooks", story.user("root", "admin"), 201, json={
        "url": integrator.url, "events": ["question.asked", "question.answered", "question.escalated",
                                          "project.removed", "case.closed"]})
    # 投促局 adds the signed project once it is ready to be pushed (提前介入: no case yet)
    project = add_outlet_mall(story)
    assert {m["department"] for m in project["members"]} == PIDU_16
    assert project["state"] == "active" and project["agent"] == "alice" and project["cases"] == []
    # the agent gives the enterprise's contact a sign-in of her own, scoped to the project
    created = call(story, "POST", f"/projects/{CODE}/enterprise-users", story.user("alice", "agent"), 201,
                   json={"name": "wangxue"})
    wangxue = {"Authorization": f"Bearer {created['token']}"}
    assert [p["code"] for p in call(story, "GET", "/projects", wangxue)["items"]] == [CODE]

    # three questions to different bodies, each with its own clock
    asked_at = clock()
    q_permit = call(story, "POST", f"/projects/{CODE}/questions", wangxue, 201, json={
        "text": "施工许可证能否与施工图审查同步办理？", "departments": ["county.zjj"]})
    q_plan = call(story, "POST", f"/projects/{CODE}/questions", wangxue, 201, json={
        "text": "总平面图是否需要重新论证？", "departments": ["county.zrzyj"]})
    q_fire = call(story, "POST", f"/projects/{CODE}/questions", wangxue, 201, json={
        "text": "消防设计审查需要哪些材料？", "departments": ["county.xfjy"]})
    assert q_fire["addressees"][0]["due_at"].startswith((asked_at + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"))
    assert call(story, "GET", "/questions", story.staff("county.zjj"))["total"] == 1

    # an answer needs both a concrete answer and a preliminary opinion
    missing = call(story, "POST", f"/questions/{q_permit['id']}/answer", story.staff("county.zjj"), 422,
                   json={"answer": "可以同步办理"})
    assert list(missing["errors"]) == ["preliminary_opinion"]
    clock.advance(hours=3)
    call(story, "POST", f"/questions/{q_permit['id']}/answer", story.staff("county.zjj"),
         json={"answer": "可以同步办理", "preliminary_opinion": "施工图审查合格后3个工作日内核发施工许可证"})
    clock.advance(hours=14)  # 17 h
    call(story, "POST", f"/questions/{q_plan['id']}/answer", story.staff("county.zrzyj"),
         json={"answer": "不需要重新论证", "preliminary_opinion": "按原规划条件审查"})

    # the fire brigade stays silent: yellow at 18 h, red at 24 h and the window coordinates
    clock.advance(hours=1, minutes=1)
    timers.run_due(runtime)
    fire = call(story, "GET", f"/projects/{CODE}/questions", wangxue)["items"][2]["addressees"][0]
    assert fire["sla"] == "yellow" and fire["level"] == 0
    clock.advance(hours=6)
    timers.run_due(runtime)
    fire = call(story, "GET", f"/projects/{CODE}/questions", wangxue)["items"][2]["addressees"][0]
    assert (fire["sla"], fire["level"], fire["level_department"]) == ("red", 1, "county.zwfw")
    window_inbox = call(story, "GET", "/questions", story.staff("county.zwfw"))["items"]
    assert [(i["question_id"], i["department"]) for i in window_inbox] == [(q_fire["id"], "county.xfjy")]
    # unanswered a working day later (the end of the next working day, 17:30): the fire
    # brigade's leaders (only they) negotiate
    clock.advance(days=1, hours=9)
    timers.run_due(runtime)
    fire = call(story, "GET", f"/projects/{CODE}/questions", wangxue)["items"][2]["addressees"][0]
    assert (fire["level"], fire["level_department"], fire["level_role"]) == (2, "county.xfjy", "leaders")
    leader = story.user("xfjy-leader", "leader", "county.xfjy")
    assert any(i["level"] == 2 for i in call(story, "GET", "/questions", leader)["items"])
    call(story, "POST", f"/questions/{q_fire['id']}/answer", story.staff("county.xfjy"),
         json={"answer": "需提交消防设计文件及审查申请表", "preliminary_opinion": "材料齐全后15个工作日内出具意见"})
    # the bodies and the enterprise were told in the console (the worker delivered the outbox)
    timers.run_due(runtime)
    assert any(t.startswith("新问题：消防设计审查") for t in notified(story, story.staff("county.xfjy")))
    assert any(t.startswith("问题即将超时") for t in notified(story, story.staff("county.xfjy")))
    assert any(t.startswith("问题督办") for t in notified(story, story.staff("county.zwfw")))
    assert sum(t.startswith("问题已答复") for t in notified(story, wangxue)) == 3
    thread = call(story, "GET", f"/projects/{CODE}/questions", story.staff("county.zjj"))["items"]
    assert [a["on_time"] for q in thread for a in q["addressees"]] == [True, True, False]
    assert {q["state"] for q in thread} == {"answered"}
    # 考核: the bodies' league table counts each body's questions and those answered within 24 h
    league = call(story, "GET", "/stats/departments", story.user("root", "admin"),
                  query_string={"from": "2026-03-01", "to": "2026-03-31", "region": "pidu"})
    by_body = {row["department"]: row for row in league["departments"]}
    assert [(by_body[d]["questions"], by_body[d]["questions_answered_24h"])
            for d in ("county.zjj", "county.zrzyj", "county.xfjy")] == [(1, 1), (1, 1), (1, 0)]

    # 投促局 hands the project to the agent: the agent-handled case, in the agent's name
    assert call(story, "POST", "/cases", promoter, 403, json={"process_key": "one_window_agency",
                                                              "business_key": CODE})["status"] == 403
    started = call(story, "POST", f"/projects/{CODE}/cases", promoter, 201, json={})
    assert started["started_by"] == "alice" and started["business_key"] == CODE
    story.case_id, story.business_key = started["id"], CODE
    story.do("Register", registration(NAME, CODE))
    story.do("Agreement", agreement())
    story.do("PreReview", {"materials": [{"name": "营业执照", "checked": True}], "complete": True})
    story.do("Intake", {"decision": "accept"})
    # a body asks for 补正: the enterprise reads the request and answers it itself
    story.do("ItemAccept", {"decision": "correction", "missing_materials": [{"name": "总平面图", "reason": "未盖章"}]},
             item="建设用地规划许可证")
    timers.run_due(runtime)  # the enterprise is told in its own notifications, not only through the agent
    assert any(t.startswith("补正通知") for t in notified(story, wangxue))
    [request] = call(story, "GET", f"/projects/{CODE}", wangxue)["corrections"]
    assert request["materials"] == [{"name": "总平面图", "reason": "未盖章"}]
    assert request["requested_by"] == "county.zrzyj"
    call(story, "POST", f"/tasks/{request['task_id']}/complete", wangxue, json={"data": materials("总平面图（盖章）")})
    assert call(story, "GET", f"/projects/{CODE}", wangxue)["corrections"] == []
    # the enterprise does nothing else: no body's task, no case verb
    item = story.task("ItemAccept", item="建设用地规划许可证")
    call(story, "POST", f"/tasks/{item['id']}/complete", wangxue, 403, json={"data": {"decision": "accept"}})
    call(story, "POST", f"/cases/{story.case_id}/suspend", wangxue, 403, json={"reason": "x"})
    assert "建设用地规划许可证" in story.approve_all_items()  # every stage's items, in the bodies' inboxes
    story.do("Closure", {"outcome": "completed", "files_handed_over": ["施工许可证"]})
    assert story.case()["status"] == "completed"

    # the public sees counts only: questions asked, answered on time
    public = story.public()
    assert public["questions"] == {"asked": 3, "answers": 3, "answered": 3, "answered_on_time": 2,
                                   "open": 0, "overdue": 0}
    assert "消防设计审查需要哪些材料" not in str(public) and "王雪" not in str(public)

    # a last question still open when 发改局 removes the project as 办结: it closes
    late = call(story, "POST", f"/projects/{CODE}/questions", wangxue, 201, json={
        "text": "竣工资料移交给谁？", "departments": ["county.dag", "county.zjj"]})
    call(story, "POST", f"/projects/{CODE}/remove", promoter, 403, json={"reason": "办结"})
    removed = call(story, "POST", f"/projects/{CODE}/remove", owner, json={"reason": "办结", "note": "项目建成投运"})
    assert (removed["state"], removed["removal_reason"], removed["removal_reason_name"]) == ("removed", "completed", "办结")
    shown = call(story, "GET", f"/projects/{CODE}", wangxue)
    last = next(q for q in shown["questions"] if q["id"] == late["id"])
    assert last["state"] == "closed" and {a["state"] for a in last["addressees"]} == {"closed"}
    assert [e["type"] for e in shown["timeline"]][:1] == ["project.removed"]
    assert {"project.added", "question.asked", "question.answered", "question.yellow", "question.red",
            "question.escalated", "project.case_started"} <= {e["type"] for e in shown["timeline"]}
    call(story, "POST", f"/projects/{CODE}/questions", wangxue, 409, json={"text": "?", "departments": ["county.zjj"]})
    clock.advance(days=3)
    timers.run_due(runtime)  # closed clocks never turn red
    assert call(story, "GET", "/questions", story.staff("county.dag"))["items"] == []
    assert call(story, "GET", "/projects", owner, query_string={"state": "removed"})["items"][0]["code"] == CODE

    # the integrator got each subscribed event once, after the first refusal was retried
    timers.run_due(runtime)
    deliverer = Deliverer(runtime, "scenario")
    for _ in range(20):
        deliverer.run_once()
        clock.advance(minutes=10)
    types = [event["type"] for event in integrator.delivered()]
    assert types.count("question.asked") == 4 and types.count("question.answered") == 3
    assert {"question.escalated", "project.removed", "case.closed"} <= set(types)
    ids = [event["id"] for event in integrator.delivered()]
    assert len(ids) == len(set(ids)) and integrator.all_signed_by(hook["secret"])
