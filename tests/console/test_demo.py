"""`onewindow demo load`: people of every role who can sign in, cases in every state."""
from __future__ import annotations

import re

from sqlalchemy import select

from api.app import create_app
from engine.adapters.models import Case, Escalation, Task


def test_the_demo_has_every_role_and_every_state(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    people = dict(re.findall(r"^  (\S+)\s+(\S+)\s+(?:admin|designer|agent|staff|leader|government)\b", result.output, re.M))
    roles = set(re.findall(r"^  \S+\s+\S+\s+(admin|designer|agent|staff|leader|government)\b", result.output, re.M))
    assert roles == {"admin", "designer", "agent", "staff", "leader", "government"}
    with runtime.unit_of_work(write=False) as uow:
        statuses = {c.status for c in uow.session.scalars(select(Case))}
        errors = [c for c in uow.session.scalars(select(Case)) if c.error]
        levels = {t.sla for t in uow.session.scalars(select(Task).where(Task.state == "ready"))}
        escalated = {e.level for e in uow.session.scalars(select(Escalation))}
    assert statuses == {"running", "suspended", "completed", "cancelled"}
    assert errors and {"normal", "yellow", "red"} <= levels and escalated == {1, 2, 3}
    from tests.console.conftest import Browser
    b = Browser(create_app({"TESTING": True}, runtime=runtime))
    assert b.sign_in("li.daiban", people["li.daiban"]).status_code == 303
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0 and "already" in again.output


def test_the_demo_fills_the_work_group_question_notification_fee_and_statistics_pages(runtime):
    from tests.console.conftest import Browser
    from engine.adapters.models import Bill, QuestionAddressee
    app = create_app({"TESTING": True}, runtime=runtime)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    people = dict(re.findall(r"^  (\S+)\s+(\S+)\s+(?:admin|designer|agent|staff|leader|government|enterprise)\b",
                             result.output, re.M))
    assert {"ma.tcj", "li.qiye"} <= set(people)
    with runtime.unit_of_work(write=False) as uow:
        rows = {r.department: r for r in uow.session.scalars(select(QuestionAddressee))}
        bills = {b.status for b in uow.session.scalars(select(Bill))}
    assert rows["county.zjj"].on_time is True and rows["county.sthjj"].state == "open"
    assert rows["county.sthjj"].sla == "red" and rows["county.sthjj"].level >= 1
    coordinator = {"county.zwfw": "zhou.zwfw", "county.zf": "zheng.zf"}.get(rows["county.sthjj"].level_department,
                                                                         "demo.admin")
    assert bills == {"paid", "due"}

    def signed_in(name: str) -> Browser:
        b = Browser(app)
        assert b.sign_in(name, people[name]).status_code == 303
        return b

    code = "2026-510117-73-01-000105"
    enterprise = signed_in("li.qiye")
    listing = enterprise.get("/console/projects").get_data(as_text=True)
    assert "郫都区新材料研发中心" in listing and "共 1 个项目" in listing
    page = enterprise.get(f"/console/projects/{code}").get_data(as_text=True)
    assert "施工许可能否与施工图审查同步推进" in page and "按时答复" in page and "已超期（红牌）" in page
    assert "一级（窗口协调）" in page or "二级（部门领导）" in page or "三级（政府协调）" in page
    notices = enterprise.get("/console/notifications").get_data(as_text=True)
    assert f"问题已答复：项目 {code} · 问题" in notices  # the engine's title names no question text
    opened = re.search(r'action="(/console/notifications/\d+/open)"', notices).group(1)
    assert f"/console/projects/{code}#q" in enterprise.post(opened).headers["Location"]

    board = signed_in(coordinator).get("/console/escalations").get_data(as_text=True)
    assert "企业诉求" in board and "环评审批能否采用告知承诺制" in board
    window = signed_in("zhou.zwfw")
    assert "郫都区新材料研发中心" in window.get("/console/fees?status=paid").get_data(as_text=True)
    assert "郫都区新能源电池配套项目" in signed_in("li.daiban").get("/console/fees").get_data(as_text=True)  # due

    admin = signed_in("demo.admin")  # the demo is dated from the real clock, the test runtime's is in 2026-03
    from datetime import date, timedelta
    period = f"from={date.today() - timedelta(days=60)}&to={date.today() + timedelta(days=1)}"
    stats = admin.get(f"/console/stats?{period}").get_data(as_text=True)
    assert "并联审批节省" in stats and "所选期间没有办结的项目" not in stats
    league = admin.get(f"/console/stats/departments?{period}").get_data(as_text=True)
    assert "郫都区规划和自然资源局" in league and "郫都区住房和城乡建设局" in league
