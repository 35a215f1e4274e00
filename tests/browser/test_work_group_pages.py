"""The work-group pages in a real browser (issue 13): 投促局 adds the Pixian project through the form,
the enterprise contact asks two bodies, one answers, the other's clock turns red and escalates, the
project's page shows it all, 发改局 removes the project. Screenshots of each step (looked at)."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from engine.services import projects
from engine.services.timers import run_due
from tests.browser.test_story import Person
from tests.console.conftest import PASSWORD, People

CODE = "2026-510117-52-01-000016"


def run_to_a_correction(runtime) -> None:  # type: ignore[no-untyped-def]
    """The agent registers, the window accepts, the planning bureau asks for 补正 (engine calls)."""
    from sqlalchemy import select

    from engine.services import cases
    from engine.domain.access import Actor
    from engine.adapters.models import Task
    from tests.scenarios.story import agreement, registration
    steps = [("Register", Actor("alice", "agent"), registration("奥特莱斯郫县项目", CODE)),
             ("Agreement", Actor("alice", "agent"), agreement()),
             ("PreReview", Actor("zwfw", "staff", "county.zwfw"),
              {"materials": [{"name": "营业执照", "checked": True}], "complete": True}),
             ("Intake", Actor("zwfw", "staff", "county.zwfw"), {"decision": "accept"}),
             ("ItemAccept", Actor("zr", "staff", "county.zrzyj"),
              {"decision": "correction", "missing_materials": [{"name": "总平面图", "reason": "未盖章"}]})]
    for element, who, data in steps:
        with runtime.unit_of_work() as uow:
            task = uow.session.scalars(select(Task).where(Task.element_id == element, Task.state == "ready")
                                       .where(Task.department == who.department)).first()
            cases.complete_task(uow, who, task.id, data)
            uow.commit()


@pytest.fixture
def people(runtime) -> People:
    p = People(runtime)
    for name, role, department in [("alice", "agent", None), ("tcj", "staff", "county.tcj"),
                                   ("zjj", "staff", "county.zjj"), ("fgj", "staff", "county.fgj"),
                                   ("zwfw", "staff", "county.zwfw")]:
        p.add(name, role, department)
    return p


def test_work_group_pages_in_a_real_browser(chrome, server, screenshots, runtime, clock, people, shipped):
    me = Person(chrome, server, screenshots)
    me.step = 40
    me.sign_in("tcj")
    me.go("/console/projects/new")
    for name, value in [("code", CODE), ("name", "奥特莱斯郫县项目"), ("enterprise_name", "成都奥特莱斯商业管理有限公司"),
                        ("contact_name", "王雪"), ("contact_phone", "13800000001"), ("investment", "150000"),
                        ("industry", "零售业"), ("agent", "alice")]:
        me.type(name, value)
    me.shot("project-new")
    me.submit()
    assert "项目已加入工作群" in me.text() and "成员部门（16）" in me.text()

    with runtime.unit_of_work() as uow:
        projects.create_enterprise_user(uow, projects.Actor("alice", "agent"), "wangxue", CODE, password=PASSWORD)
        uow.commit()
    me.sign_in("wangxue")
    assert me.driver.current_url.endswith("/console/projects")
    me.go(f"/console/projects/{CODE}")
    me.type("text", "施工许可证能否与施工图审查同步办理？消防设计审查需要哪些材料？")
    me.choose("departments", "county.zjj")
    me.choose("departments", "county.xfjy")
    me.press("发送问题")
    assert "问题已发送" in me.text()

    me.sign_in("zjj")
    me.go(f"/console/projects/{CODE}")
    me.type("answer", "可以同步办理")
    me.type("preliminary_opinion", "施工图审查合格后3个工作日内核发施工许可证")
    me.press("提交答复")
    assert "答复已提交" in me.text()

    clock.advance(hours=25)
    run_due(runtime)
    me.sign_in("zwfw")
    me.go(f"/console/projects/{CODE}")
    text = me.text()
    assert "已超期（红牌）" in text and "一级（窗口协调）" in text and "按时答复" in text
    me.shot("project-page-escalated")
    me.go("/console/projects")
    assert "奥特莱斯郫县项目" in me.text()
    me.shot("projects-list")

    # 投促局 hands the project to the agent; the case runs to a 补正 request the enterprise reads
    me.sign_in("tcj")
    me.go(f"/console/projects/{CODE}")
    me.press("交代办员立案")
    assert "代办案件已创建" in me.text()
    run_to_a_correction(runtime)
    me.sign_in("wangxue")
    me.go(f"/console/projects/{CODE}")
    text = me.text()
    assert "待企业补正（1）" in text and "总平面图（未盖章）" in text and "待办任务" not in text
    me.shot("project-enterprise-view")
    me.click_and_wait(By.PARTIAL_LINK_TEXT, "提交补正材料")
    me.type("materials[0].name", "总平面图（盖章）")
    me.shot("project-correction-form")
    me.submit()
    assert "补正材料已提交" in me.text() and "待企业补正" not in me.text()
    me.go(f"/progress/{CODE}")  # the public sees counts only
    text = me.text()
    assert "已提出 1 件" in text and "按时答复 1" in text and "1 件超时未答复" in text and "施工许可证能否" not in text
    me.shot("public-progress-counts")

    me.sign_in("fgj")
    me.go(f"/console/projects/{CODE}")
    me.driver.find_element(By.CSS_SELECTOR, 'input[name="reason"][value="completed"]').click()
    me.press("移出工作群")
    assert "已移出（办结）" in me.text()
    me.shot("project-removed")
