"""Overdue work-group questions on the escalation board (督办): the coordinating body sees them
beside the approval items' escalations, marked 企业诉求, linked to the project page, and records
one as coordinated there; bodies not coordinating it do not see it."""
from __future__ import annotations

import re

from engine.services.timers import run_due
from tests.console.test_project_pages import CODE, group  # noqa: F401 - the fixture

SECTION = re.compile(r'<section class="card" id="questions">(.*?)</section>', re.S)


def _questions(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return SECTION.search(response.get_data(as_text=True)).group(1)


def test_an_overdue_question_reaches_the_coordinators_board(group, people, browser, runtime, clock):  # noqa: F811
    assert group.post(f"/console/projects/{CODE}/questions",
                      {"text": "用地预审与规划选址能否合并办理？", "departments": ["county.zjj", "county.zrzyj"]}).status_code == 303
    zjj = browser("zjj")
    page = zjj.get(f"/console/projects/{CODE}").get_data(as_text=True)
    question_id = int(re.search(r'action="/console/questions/(\d+)/answer"', page).group(1))
    assert zjj.post(f"/console/questions/{question_id}/answer",
                    {"answer": "住建局无意见", "preliminary_opinion": "同意"}).status_code == 303

    window = browser("zwfw")
    assert "企业诉求超期（0）" in _questions(window.get("/console/escalations"))
    clock.advance(hours=25)
    run_due(runtime)
    window, zjj = browser("zwfw"), browser("zjj")  # signed in again: a day has passed

    board = _questions(window.get("/console/escalations"))
    assert "企业诉求超期（1）" in board and "企业诉求" in board and "奥特莱斯郫县项目" in board
    assert f'href="/console/projects/{CODE}#q{question_id}"' in board
    assert "郫都区规划和自然资源局" in board and "一级（窗口协调）" in board and "待协调" in board
    assert "用地预审与规划选址能否合并办理？" in board and "记为已协调" in board
    assert "郫都区住房和城乡建设局" not in board  # answered on time: never escalated

    assert "企业诉求超期（0）" in _questions(zjj.get("/console/escalations"))  # not its level
    agent = _questions(browser("alice").get("/console/escalations"))  # the project's agent follows it
    assert "企业诉求超期（1）" in agent and "记为已协调" not in agent and "查看项目" in agent
    assert "企业诉求超期（1）" in _questions(browser("root").get("/console/escalations"))

    done = window.post(f"/console/questions/{question_id}/coordinate", {"department": "county.zrzyj", "note": "已电话督促"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/console/projects/{CODE}?done=coordinated")
    assert "企业诉求超期（0）" in _questions(window.get("/console/escalations"))
    resolved = _questions(window.get("/console/escalations?status=resolved"))
    assert "企业诉求超期（1）" in resolved and "已协调，待答复" in resolved and "记为已协调" not in resolved
    assert "企业诉求超期（1）" in _questions(window.get("/console/escalations?status=all"))
    assert "企业诉求超期（0）" in _questions(window.get("/console/escalations?status=escalated"))
