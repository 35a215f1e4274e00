"""The escalation board (督办) with an overdue work-group question in a real browser: the window
sees it marked 企业诉求 under the approval items, records it as coordinated, lands on the project.
Screenshots (looked at)."""
from __future__ import annotations

from engine.domain.access import Actor
from engine.services import projects, questions
from engine.services.timers import run_due
from tests.browser.test_story import Person
from tests.browser.test_work_group_pages import CODE, people  # noqa: F401 - the fixture


def test_question_escalations_on_the_board(chrome, server, screenshots, runtime, clock, people):  # noqa: F811
    promoter = Actor("tcj", "staff", "county.tcj")
    with runtime.unit_of_work() as uow:
        projects.add_project(uow, promoter, {
            "code": CODE, "name": "奥特莱斯郫县项目", "enterprise": {"name": "成都奥特莱斯商业管理有限公司"},
            "contact": {"name": "王雪"}, "agent": "alice"})
        questions.ask(uow, promoter, CODE, {"text": "用地预审与规划选址能否合并办理？临时用地需要哪些材料？",
                                            "departments": ["county.zrzyj", "county.xfjy"]})
        uow.commit()
    clock.advance(hours=25)
    run_due(runtime)

    me = Person(chrome, server, screenshots)
    me.step = 80
    me.sign_in("zwfw")
    me.go("/console/escalations")
    text = me.text()
    assert "企业诉求超期（2）" in text and "郫都区规划和自然资源局" in text and "待协调" in text
    me.shot("board-with-questions")
    me.type(me.driver.find_element("css selector", "#questions input[name=note]").get_attribute("name"), "已电话督促")
    me.press("记为已协调")
    assert "已记录为已协调" in me.text() and me.driver.current_url.split("?")[0].endswith(f"/console/projects/{CODE}")
    me.go("/console/escalations")
    assert "企业诉求超期（1）" in me.text()
    me.shot("board-after-coordination")
