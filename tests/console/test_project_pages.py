"""The work-group pages (issue 13) through the console's forms, as 投促局, the enterprise contact, a
member body and 发改局 use them: add, ask, answer (both fields), remove; the list's filters."""
from __future__ import annotations

import re

import pytest

from engine.services import projects

CODE = "2026-510117-52-01-000016"


@pytest.fixture
def group(people, browser):  # type: ignore[no-untyped-def]
    people.add("tcj", "staff", "county.tcj")
    people.add("zjj", "staff", "county.zjj")
    people.add("jy-tcj", "staff", "jingyang.tcj")
    promoter = browser("tcj")
    form = promoter.get("/console/projects/new").get_data(as_text=True)
    assert form.count('type="checkbox" name="members"') == 18 and form.count("checked>") == 16
    members = [c for c in ("county.zwfw", "county.fgj", "county.tcj", "county.zjj", "county.zrzyj", "county.xfjy")]
    response = promoter.post("/console/projects", {
        "code": CODE, "name": "奥特莱斯郫县项目", "enterprise_name": "成都奥特莱斯商业管理有限公司",
        "contact_name": "王雪", "contact_phone": "13800000001", "investment": "150000", "agent": "alice",
        "members": members})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/console/projects/{CODE}?done=added")
    return promoter


def test_add_ask_answer_remove_through_the_pages(group, people, browser, runtime):
    page = group.get(f"/console/projects/{CODE}").get_data(as_text=True)
    assert "项目已加入工作群" not in page and "成员部门（6）" in page and "交代办员立案" in page
    with runtime.unit_of_work() as uow:
        projects.create_enterprise_user(uow, projects.Actor("alice", "agent"), "wangxue", CODE, password="correct horse 7")
        uow.commit()
    enterprise = browser("wangxue")
    assert enterprise.get("/console/", follow_redirects=True).request.path == "/console/projects"
    page = enterprise.get(f"/console/projects/{CODE}").get_data(as_text=True)
    assert "提出问题" in page and "移出工作群（发改局）" not in page
    asked = enterprise.post(f"/console/projects/{CODE}/questions",
                            {"text": "施工许可证能否与施工图审查同步办理？", "departments": ["county.zjj", "county.xfjy"]})
    assert asked.status_code == 303
    body = browser("zjj")
    page = body.get(f"/console/projects/{CODE}").get_data(as_text=True)
    assert page.count("提交答复") == 1  # its own row only
    answer_url = re.search(r'action="(/console/questions/\d+/answer)"', page).group(1)
    refused = body.post(answer_url, {"answer": "可以", "preliminary_opinion": " "})
    assert refused.status_code == 422 and "初步意见</strong>：此项必填" in refused.get_data(as_text=True)
    assert "初步意见" in refused.get_data(as_text=True)
    done = body.post(answer_url, {"answer": "可以同步办理", "preliminary_opinion": "3个工作日内核发"})
    assert done.status_code == 303
    page = enterprise.get(f"/console/projects/{CODE}").get_data(as_text=True)
    assert "可以同步办理" in page and "3个工作日内核发" in page and "按时答复" in page

    # the list: filters by state, region and body
    listing = group.get("/console/projects?state=active&region=pidu&department=county.zjj").get_data(as_text=True)
    assert "奥特莱斯郫县项目" in listing and "共 1 个项目" in listing
    assert "共 0 个项目" in group.get("/console/projects?department=county.sthjj").get_data(as_text=True)
    assert browser("jy-tcj").get(f"/console/projects/{CODE}").status_code == 403

    # 发改局 removes it as 办结: the open question (消防) closes
    people.add("fgj-staff", "staff", "county.fgj")
    owner = browser("fgj-staff")
    assert group.post(f"/console/projects/{CODE}/remove", {"reason": "completed"}).status_code == 403
    assert owner.post(f"/console/projects/{CODE}/remove", {"reason": "completed", "note": "建成"}).status_code == 303
    page = owner.get(f"/console/projects/{CODE}").get_data(as_text=True)
    assert "已移出（办结）" in page and "恢复到工作群" in page and "已关闭" in page
    assert owner.post(f"/console/projects/{CODE}/restore", {}).status_code == 303
    assert "工作群中" in owner.get(f"/console/projects/{CODE}").get_data(as_text=True)


def test_a_bad_project_form_says_what_is_wrong_and_keeps_the_input(group):
    response = group.post("/console/projects", {"code": "2026-1234", "name": "x", "enterprise_name": "",
                                                "contact_name": "王雪", "members": ["county.zjj"]})
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "项目代码：格式应为 YYYY-DDDDDD-II-TT-NNNNNN" in text and "企业名称：此项必填" in text
    assert text.count('class="field invalid"') == 2 and 'value="2026-1234"' in text


def test_only_the_projects_contact_or_agent_opens_a_correction_form(group, people, browser, runtime, shipped):
    from tests.browser.test_work_group_pages import run_to_a_correction
    people.add("zwfw2", "staff", "county.zwfw")
    assert group.post(f"/console/projects/{CODE}/cases", {}).status_code == 303
    run_to_a_correction(runtime)
    page = browser("alice").get(f"/console/projects/{CODE}").get_data(as_text=True)
    url = re.search(r'href="(/console/projects/[^"]+/corrections/[^"]+)"', page).group(1)
    assert browser("alice").get(url).status_code == 200
    assert browser("zwfw2").get(url).status_code == 403  # a member reads the project, answers no 补正
    assert browser("bob").get(url).status_code == 403  # not its agent
    assert browser("alice").get(f"/console/projects/{CODE}/corrections/nope").status_code == 404
