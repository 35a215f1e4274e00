"""The agent opens the enterprise contact's sign-in from the project page in a real browser: a
refused password is said at its field, the generated password and token are shown once, the
contact signs in with them. Screenshots (looked at)."""
from __future__ import annotations

from selenium.webdriver.common.by import By

from engine.domain.access import Actor
from engine.services import projects
from tests.browser.test_story import Person
from tests.browser.test_work_group_pages import CODE, people  # noqa: F401 - the fixture


def test_contact_sign_in_from_the_project_page(chrome, server, screenshots, runtime, people):  # noqa: F811
    with runtime.unit_of_work() as uow:
        projects.add_project(uow, Actor("tcj", "staff", "county.tcj"), {
            "code": CODE, "name": "奥特莱斯郫县项目", "enterprise": {"name": "成都奥特莱斯商业管理有限公司"},
            "contact": {"name": "王雪", "phone": "13800000001"}, "agent": "alice", "facts": {"investment": 150000}})
        uow.commit()
    me = Person(chrome, server, screenshots)
    me.step = 70
    me.sign_in("alice")
    me.go(f"/console/projects/{CODE}")
    me.type("name", "wangxue")
    me.type("password", "short1")
    me.driver.execute_script("document.getElementById('c-pass').removeAttribute('minlength')")
    me.press("开通账号")
    assert "初始密码：至少 8 个字符" in me.text()
    me.shot("contact-refused")
    assert me.field("name").get_attribute("value") == "wangxue"
    me.press("开通账号")
    assert "只显示这一次" in me.text()
    me.shot("contact-created")
    values = me.driver.find_elements(By.CSS_SELECTOR, "#contact-account dd code")
    password = values[1].text
    assert values[2].text.startswith("ow_")

    me.driver.delete_all_cookies()
    me.go("/console/login")
    me.field("username").send_keys("wangxue")
    me.field("password").send_keys(password)
    me.submit()
    assert me.driver.current_url.endswith("/console/projects")
    me.go(f"/console/projects/{CODE}")
    assert "奥特莱斯郫县项目" in me.text() and not me.driver.find_elements(By.ID, "c-name")
    me.shot("contact-signed-in")
