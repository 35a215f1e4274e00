"""What each role sees and does in the console: workbenches, the inbox with its filters and
counts, claiming, the case page and its verbs, the escalation board, designer and admin pages."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from engine.services.timers import Worker
from tests.conftest import BPMN
from tests.console.conftest import Browser
from tests.console.test_permissions import _ready, open_agency_case


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _overdue(runtime, clock, days: int) -> None:
    """Let `days` pass with the timer worker firing warnings and escalations on the way."""
    worker = Worker(runtime, name="test", poll_seconds=0)
    for _ in range(days * 4):
        clock.advance(hours=6)
        while worker.run_once():
            pass


def test_each_role_sees_its_own_workbench_first(app, people, shipped, runtime):
    case_id = open_agency_case(runtime)
    pages = {}
    for who in ("alice", "fgj", "fgj-leader", "gov", "dora", "root"):
        b = Browser(app)
        b.sign_in(who)
        pages[who] = _text(b.get("/console/"))
    assert "我的待办" in pages["alice"] and "我的案件" in pages["alice"] and "新建案件" in pages["alice"]
    assert case_id in pages["alice"]
    assert "部门待办 · 郫都区发展和改革局" in pages["fgj"] or "部门待办 · " in pages["fgj"]
    assert "项目审批/核准/备案" in pages["fgj"] and "用地预审与选址意见书" not in pages["fgj"]
    assert "向我部门提出的督办" in pages["fgj-leader"] and "部门待办" in pages["fgj-leader"]
    assert "三级协调" in pages["gov"] and "各地区办理概况" in pages["gov"]
    assert "流程定义" in pages["dora"] and "one_window_agency" in pages["dora"]
    for heading in ("异常（待处理的出错环节", "用户", "工作日历", "组织机构"):
        assert heading in pages["root"]
    for who, html in pages.items():
        assert re.search(r"<h1[ >]", html), who  # every page has its heading


def test_the_inbox_filters_sorts_counts_and_says_the_warning_in_words(app, people, shipped, runtime, clock):
    open_agency_case(runtime, code="2026-510117-34-01-000001")
    _overdue(runtime, clock, 3)
    open_agency_case(runtime, name="第二个项目", code="2026-510117-34-01-000002")
    _overdue(runtime, clock, 27)  # the first case's items are red by now, the second's yellow or normal
    b = Browser(app)
    b.sign_in("zrzyj")
    html = _text(b.get("/console/tasks"))
    counts = dict(re.findall(r"(全部待办|红牌（已超期）|黄牌（临近期限）|正常)<strong>(\d+)</strong>", html))
    assert counts["全部待办"] == "2"
    red = _text(b.get("/console/tasks?sla=red"))
    assert "⚠ 已超期（红牌）" in red and "第二个项目" not in red  # the colour also in words and a symbol
    assert 'class="sla-red"' in red
    stage = _text(b.get("/console/tasks?stage=stage1_project_land"))
    assert stage.count('class="sla-') == 2
    assert _text(b.get("/console/tasks?stage=stage4_completion")).count('class="sla-') == 0
    item = _text(b.get("/console/tasks?item=建设用地规划许可证"))
    assert item.count('class="sla-') == 2
    by_due = _text(b.get("/console/tasks?sort=due"))
    assert by_due.index("郫都区新材料产业园") < by_due.index("第二个项目")
    assert b.get("/console/tasks?sla=purple").status_code == 422
    assert b.get("/console/tasks?page=0").status_code == 422
    assert b.get("/console/tasks?department=county.fgj").status_code == 403  # not another body's inbox


def test_claim_and_unclaim_from_the_inbox(app, people, shipped, runtime):
    case_id = open_agency_case(runtime)
    task = next(t for t in _ready(runtime, case_id) if t.department == "county.fgj")
    fgj, fgj2, leader = Browser(app), Browser(app), Browser(app)
    fgj.sign_in("fgj")
    fgj2.sign_in("fgj2")
    leader.sign_in("fgj-leader")
    claimed = fgj.post(f"/console/tasks/{task.id}/claim", {"back": "/console/tasks?sort=due"})
    assert claimed.status_code == 303 and claimed.headers["Location"] == "/console/tasks?sort=due&done=claimed"
    assert "已认领该任务" in _text(fgj.get(claimed.headers["Location"]))
    fgj2.get("/console/tasks")
    taken = fgj2.post(f"/console/tasks/{task.id}/claim")
    assert taken.status_code == 409 and "fgj 认领" in _text(taken)
    assert fgj2.post(f"/console/tasks/{task.id}", {"decision": "accept"}).status_code == 409
    leader.get("/console/")
    assert leader.post(f"/console/tasks/{task.id}/unclaim", {"back": "https://evil.example/"}).headers[
        "Location"].startswith(f"/console/tasks/{task.id}")
    assert "未认领" in _text(fgj.get("/console/tasks"))


def test_the_case_page_shows_items_by_stage_history_diagram_and_the_agents_actions(app, people, shipped, runtime):
    case_id = open_agency_case(runtime)
    agent = Browser(app)
    agent.sign_in("alice")
    html = _text(agent.get(f"/console/cases/{case_id}"))
    assert "2026-510117-34-01-000001" in html and "郫都区新材料产业园有限公司" in html
    assert "阶段一：立项用地规划许可" in html and "环境影响评价" in html
    for body in ("郫都区", "建设用地规划许可证", "用地预审与选址意见书"):
        assert body in html
    assert "办理记录" in html and "立案" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'data-state="active"' in html
    assert "中止案件" in html and "终止案件" in html and "发送消息" in html
    staff = Browser(app)
    staff.sign_in("fgj")
    seen = _text(staff.get(f"/console/cases/{case_id}"))
    assert "中止案件" not in seen and "用地预审与选址意见书" not in seen  # only its own body's items
    suspended = agent.post(f"/console/cases/{case_id}/suspend", {"reason": "企业补充材料"})
    assert suspended.status_code == 303
    page = _text(agent.get(suspended.headers["Location"]))
    assert "案件已中止" in page and "续办案件" in page and "企业补充材料" in page
    task = next(t for t in _ready(runtime, case_id) if t.department == "county.fgj")
    assert "续办后才能办理" in _text(staff.get(f"/console/tasks/{task.id}"))
    assert agent.post(f"/console/cases/{case_id}/suspend").status_code == 409
    assert agent.post(f"/console/cases/{case_id}/resume").status_code == 303
    waiting = agent.post(f"/console/cases/{case_id}/message", {"name": "nothing_waits_for_this"})
    assert waiting.status_code == 409 and "不等待消息" in _text(waiting)
    assert agent.post(f"/console/cases/{case_id}/message", {"name": "x", "payload": "{oops"}).status_code == 422
    cancelled = agent.post(f"/console/cases/{case_id}/cancel", {"reason": "企业撤回"})
    assert "已终止" in _text(agent.get(cancelled.headers["Location"]))


def test_a_leader_resolves_an_escalation_with_a_note(app, people, shipped, runtime, clock):
    case_id = open_agency_case(runtime)
    _overdue(runtime, clock, 30)  # red, level 1 raised, then level 2 (the body's leaders) a working day later
    leader = Browser(app)
    leader.sign_in("fgj-leader")
    html = _text(leader.get("/console/"))
    assert "二级（部门领导）" in html and "郫都区新材料产业园" in html
    escalation_id = re.search(r'/console/escalations/(\d+)/resolve', html).group(1)
    board = _text(leader.get("/console/escalations"))
    assert "已持续" in board and re.search(r"\d+ (天|小时|分钟)", board)
    done = leader.post(f"/console/escalations/{escalation_id}/resolve", {"note": "已约谈，周五前办结"})
    assert done.status_code == 303
    assert leader.post(f"/console/escalations/{escalation_id}/resolve", {"note": "again"}).status_code == 409
    agent = Browser(app)
    agent.sign_in("alice")
    assert "已约谈，周五前办结" in _text(agent.get(f"/console/cases/{case_id}"))
    staff = Browser(app)
    staff.sign_in("zrzyj")
    staff.get("/console/")
    assert staff.post(f"/console/escalations/{escalation_id}/resolve", {"note": "x"}).status_code == 403


def test_the_government_sees_level_three_and_the_region_overview(app, people, shipped, runtime, clock):
    open_agency_case(runtime)
    _overdue(runtime, clock, 36)
    people.add("zf", "government", runtime.organisation.government_of(None).code)  # the case region's government
    gov = Browser(app)
    gov.sign_in("zf")
    html = _text(gov.get("/console/"))
    assert "三级（政府协调）" in html and "郫都区新材料产业园" in html
    assert re.search(r"郫都区：待办 \d+ 件，⚠ 红牌 [1-9]", html)


def test_the_designer_uploads_a_bpmn_and_sees_every_problem_with_its_line(app, people, shipped):
    b = Browser(app)
    b.sign_in("dora")
    b.get("/console/definitions")
    bad = (BPMN / "parallel_approval.bpmn").read_text().replace('targetRef="Close"', 'targetRef="Nope"')
    response = b.post("/console/definitions", {"file": (__import__("io").BytesIO(bad.encode()), "broken.bpmn")},
                      content_type="multipart/form-data")
    html = _text(response)
    assert response.status_code == 422 and "broken.bpmn 未部署" in html and re.search(r"broken\.bpmn:\d+:", html)
    good = (BPMN / "parallel_approval.bpmn").read_bytes()
    checked = b.post("/console/definitions", {"file": (__import__("io").BytesIO(good), "p.bpmn"), "dry_run": "1"},
                     content_type="multipart/form-data")
    assert "检查通过" in _text(checked)
    deployed = b.post("/console/definitions", {"file": (__import__("io").BytesIO(good), "p.bpmn")},
                      content_type="multipart/form-data")
    assert deployed.status_code == 303 and "/console/definitions/parallel_approval" in deployed.headers["Location"]
    page = _text(b.get(deployed.headers["Location"]))
    assert "v1" in page and "流程已部署" in page
    assert "不含图形信息" in page  # that test file has no DI: a clear message, not a broken picture
    versions = _text(b.get("/console/definitions/one_window_agency?version=1"))
    assert 'data-element-id="Register"' in versions and "办理中案件" in versions
    assert b.get("/console/definitions/one_window_agency?version=9").status_code == 404


def test_the_admin_manages_people_and_loads_a_calendar_year(app, people, shipped, tmp_path):
    b = Browser(app)
    b.sign_in("root")
    b.get("/console/admin/users")
    created = b.post("/console/admin/users", {"name": "xu", "role": "staff", "department": "county.zjj"})
    html = _text(created)
    password = re.search(r"登录密码</dt><dd><code>([^<]+)</code>", html).group(1)
    assert re.search(r"API 令牌</dt><dd><code>ow_", html)
    assert Browser(app).sign_in("xu", password).status_code == 303
    missing = b.post("/console/admin/users", {"name": "yu", "role": "staff", "department": ""})
    assert missing.status_code == 422 and "该角色必须属于一个部门" in _text(missing)
    assert b.post("/console/admin/users/xu/revoke").status_code == 303
    assert Browser(app).sign_in("xu", password).status_code == 401
    assert b.post("/console/admin/users/root/revoke").status_code == 422  # not yourself
    calendar = _text(b.get("/console/admin/calendar"))
    assert "2026" in calendar
    bad = b.post("/console/admin/calendar", {"file": (__import__("io").BytesIO(b"{not json"), "c.json")},
                 content_type="multipart/form-data")
    assert bad.status_code == 422 and "未载入" in _text(bad)
    organisation = _text(b.get("/console/admin/organisation"))
    assert "三级协调" in organisation and "county.fgj" in organisation


@pytest.mark.parametrize("path", ["/console/static/console.css", "/console/static/console.js"])
def test_the_stylesheet_and_script_are_our_own_files(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200 and "Content-Security-Policy" in response.headers
    assert timedelta  # (imported for _overdue's callers)


def test_a_failed_step_shows_on_the_case_page_and_the_admin_list_and_can_be_retried(app, people, shipped, runtime):
    from engine.services import cases
    from engine.domain.access import Actor
    from tests.conftest import deploy_file
    deploy_file(runtime, "failing_script.bpmn")
    alice = Actor("alice", "agent")
    with runtime.unit_of_work() as uow:
        case_id = cases.start_case(uow, alice, "failing_script", "2026-510117-34-01-000009").case.id
        uow.commit()
    [fill] = _ready(runtime, case_id)
    agent = Browser(app)
    agent.sign_in("alice")
    agent.get(f"/console/tasks/{fill.id}")
    # the form has no schema: the divisor arrives as a message-free completion with no data, so the script fails
    assert agent.post(f"/console/tasks/{fill.id}").status_code == 303
    page = _text(agent.get(f"/console/cases/{case_id}"))
    assert "流程执行出错" in page and "Divide" in page and "重试出错的环节" in page
    admin = Browser(app)
    admin.sign_in("root")
    assert "failing_script" in _text(admin.get("/console/"))
    retried = agent.post(f"/console/cases/{case_id}/retry", {"reason": "再试一次"})
    assert retried.status_code == 303
    assert "已重试 1 次" in _text(agent.get(retried.headers["Location"]))  # the cause is still there
    staff = Browser(app)
    staff.sign_in("fgj")
    staff.get(f"/console/cases/{case_id}")
    assert staff.post(f"/console/cases/{case_id}/retry").status_code == 403


def test_the_designer_uploads_a_bpmn_with_its_dmn_decision(app, people):
    from tests.dmn_text import rule_task_process, table
    b = Browser(app)
    b.sign_in("dora")
    b.get("/console/definitions")
    io = __import__("io")
    dmn = table([(["< 10"], ['"a"']), (['matches("x")'], ['"b"'])])
    refused = b.post("/console/definitions", {"file": [(io.BytesIO(rule_task_process()), "p.bpmn"),
                                                       (io.BytesIO(dmn), "d.dmn")]},
                     content_type="multipart/form-data")
    html = _text(refused)
    assert refused.status_code == 422 and "p.bpmn、d.dmn 未部署" in html and "d.dmn:13: rule Rule2" in html
    fixed = table([(["< 10"], ['"a"']), ([">= 10"], ['"b"'])])
    deployed = b.post("/console/definitions", {"file": [(io.BytesIO(rule_task_process()), "p.bpmn"),
                                                        (io.BytesIO(fixed), "d.dmn")]},
                      content_type="multipart/form-data")
    assert deployed.status_code == 303 and "/console/definitions/decided" in deployed.headers["Location"]
