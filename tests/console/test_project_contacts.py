"""The agent opens the enterprise contact's sign-in from the project page: errors per field, the
password and token shown once, the contact then signs in and reads only its project."""
from __future__ import annotations

import re

from tests.console.test_project_pages import CODE, group  # noqa: F401 - the fixture

SHOWN = re.compile(r"<dt>登录密码[^<]*</dt><dd><code>([^<]+)</code></dd>\s*<dt>API 令牌</dt><dd><code>(ow_[^<]+)</code>")


def test_the_agent_opens_the_contacts_sign_in_once(group, people, browser, app):  # noqa: F811
    agent = browser("alice")
    page = agent.get(f"/console/projects/{CODE}").get_data(as_text=True)
    assert "企业联系人账号" in page and 'name="name"' in page and "开通账号" in page

    blank = agent.post(f"/console/projects/{CODE}/contacts", {"name": "", "password": ""})
    text = blank.get_data(as_text=True)
    assert blank.status_code == 422 and "用户名：必填，最多 120 个字符" in text and 'class="field invalid"' in text

    short = agent.post(f"/console/projects/{CODE}/contacts", {"name": "wangxue", "password": "abc"})
    text = short.get_data(as_text=True)
    assert short.status_code == 422 and "初始密码：至少 8 个字符" in text and 'value="wangxue"' in text
    assert 'value="abc"' not in text  # a password is never written back into the page

    taken = agent.post(f"/console/projects/{CODE}/contacts", {"name": "zjj", "password": ""})
    assert taken.status_code == 409 and "用户 zjj 已存在（角色：审批人员），请换一个用户名" in taken.get_data(as_text=True)

    made = agent.post(f"/console/projects/{CODE}/contacts", {"name": "wangxue", "password": ""})
    text = made.get_data(as_text=True)
    assert made.status_code == 200 and "只显示这一次" in text and "（随机生成）" in text
    password, token = SHOWN.search(text).groups()
    assert made.headers["Cache-Control"] == "no-store"

    again = agent.get(f"/console/projects/{CODE}").get_data(as_text=True)
    assert password not in again and token not in again and "账号：wangxue" in again

    enterprise = browser()
    assert enterprise.sign_in("wangxue", password).status_code == 303
    assert enterprise.get("/console/", follow_redirects=True).request.path == "/console/projects"
    assert "奥特莱斯郫县项目" in enterprise.get(f"/console/projects/{CODE}").get_data(as_text=True)
    api = app.test_client()
    assert api.get(f"/api/v1/projects/{CODE}", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    # the same name again: the existing enterprise user keeps its password, nothing new is shown
    linked = agent.post(f"/console/projects/{CODE}/contacts", {"name": "wangxue", "password": "another pass 9"})
    text = linked.get_data(as_text=True)
    assert linked.status_code == 200 and "已关联本项目，原密码和令牌不变" in text and "another pass 9" not in text
    assert browser().sign_in("wangxue", password).status_code == 303


def test_only_the_projects_agent_opens_sign_ins(group, people, browser):  # noqa: F811
    page = group.get(f"/console/projects/{CODE}").get_data(as_text=True)  # 投促局 added it; alice is the agent
    assert "开通账号" not in page
    refused = group.post(f"/console/projects/{CODE}/contacts", {"name": "wangxue", "password": ""})
    assert refused.status_code == 403 and f"只有项目 {CODE} 的代办员可以为企业联系人开通账号" in refused.get_data(as_text=True)
    assert "开通账号" not in browser("bob").get(f"/console/projects/{CODE}").get_data(as_text=True)
    no_csrf = browser("alice").post(f"/console/projects/{CODE}/contacts", {"name": "wangxue"}, csrf=False)
    assert no_csrf.status_code == 400
    assert browser().sign_in("wangxue").status_code != 303  # nothing was created
