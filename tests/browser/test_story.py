"""The console in a real browser, the issue's story end to end: an agent signs in and starts a
one_window_agency case through the registration form (a wrong credit code is shown at its
field), the window and three departments' staff sign in and work their items (one asks for 补正),
a leader resolves an escalation, the case page's diagram marks completed and active elements,
and the public page shows the items."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from engine.services.timers import Worker
from tests.console.conftest import PASSWORD, People
from tests.scenarios.story import credit_code

CODE = "2026-510117-34-01-000321"


def _gone(error: WebDriverException) -> bool:
    """A node of a page that was replaced: chromium says so in one of two ways."""
    return isinstance(error, StaleElementReferenceException) or "does not belong to the document" in str(error)


def _replaced(page) -> bool:  # type: ignore[no-untyped-def]
    try:
        page.is_enabled()
    except WebDriverException as error:
        if _gone(error):
            return True
        raise
    return False


class Person:
    """One browser session at a time, with the few moves the story needs."""

    def __init__(self, driver, base: str, shots: Path) -> None:  # type: ignore[no-untyped-def]
        self.driver, self.base, self.shots = driver, base, shots
        self.step = 0

    def go(self, path: str) -> None:
        self.driver.get(self.base + path)

    def shot(self, name: str) -> None:
        self.step += 1
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1400, max(900, min(int(height) + 40, 6000)))
        self.driver.save_screenshot(str(self.shots / f"{self.step:02d}-{name}.png"))

    def sign_in(self, name: str) -> None:
        self.driver.delete_all_cookies()
        self.go("/console/login")
        self.field("username").send_keys(name)
        self.field("password").send_keys(PASSWORD)
        self.click_and_wait(By.CSS_SELECTOR, "main form button.primary")
        assert "/console/login" not in self.driver.current_url, self.text()

    def field(self, name: str):  # type: ignore[no-untyped-def]
        return self.driver.find_element(By.NAME, name)

    def type(self, name: str, value: str) -> None:
        element = self.field(name)
        element.clear()
        element.send_keys(value)

    def set(self, name: str, value: str) -> None:
        """For inputs whose typing depends on the browser's locale (dates)."""
        self.driver.execute_script("arguments[0].value = arguments[1]", self.field(name), value)

    def choose(self, name: str, value: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]').click()

    def tick(self, name: str) -> None:
        box = self.field(name)
        if not box.is_selected():
            box.click()

    def click_and_wait(self, by: str, value: str, within=None) -> None:  # type: ignore[no-untyped-def]
        """Click what `by`/`value` finds, then wait until the next page has loaded (a click returns
        before it does). A node replaced between finding and clicking (a busy machine) is found again."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        for attempt in range(3):
            try:
                (within or self.driver).find_element(by, value).click()
                break
            except WebDriverException as error:
                if attempt == 2 or not _gone(error):
                    raise
                time.sleep(0.5)
        WebDriverWait(self.driver, 30).until(lambda d: _replaced(page))
        WebDriverWait(self.driver, 30).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def submit(self) -> None:
        self.click_and_wait(By.CSS_SELECTOR, "main form button.primary")

    def press(self, text: str) -> None:
        self.click_and_wait(By.XPATH, f'//button[contains(normalize-space(.), "{text}")]')

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def open_task(self, words: str) -> None:
        """From the workbench, the task whose row mentions `words`."""
        self.go("/console/")
        row = self.driver.find_element(By.XPATH, f'//tr[td[contains(., "{words}")]]')
        self.click_and_wait(By.PARTIAL_LINK_TEXT, "办理", within=row)


@pytest.fixture
def people(runtime) -> People:
    p = People(runtime)
    for name, role, department in [("alice", "agent", None), ("zwfw", "staff", "county.zwfw"),
                                   ("fgj", "staff", "county.fgj"), ("zrzyj", "staff", "county.zrzyj"),
                                   ("shizrzyj", "staff", "city.zrzyj"), ("sthjj-leader", "leader", "county.sthjj")]:
        p.add(name, role, department)
    return p


def test_the_story_in_a_real_browser(chrome, server, screenshots, runtime, clock, people, shipped):
    me = Person(chrome, server, screenshots)

    # The agent signs in; the keyboard reaches the skip link first.
    me.go("/console/login")
    me.shot("sign-in")
    me.sign_in("alice")
    chrome.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert chrome.switch_to.active_element.text == "跳到主要内容"
    me.shot("agent-workbench")

    # ... starts a case through the registration form; a wrong credit code is shown at its field.
    me.go("/console/cases/new")
    values = {"project_code": CODE, "project_name": "德阳玉龙钢管厂（一期）", "enterprise_name": "德阳玉龙钢管有限公司",
              "credit_code": credit_code()[:17] + ("0" if credit_code()[17] != "0" else "1"),
              "legal_representative": "张建国", "contact_name": "李明", "contact_phone": "13800000000",
              "investment": "30000", "land_area": "120", "location.province": "四川省", "location.city": "成都市",
              "location.county": "郫都区", "industry": "金属制品业"}
    for name, value in values.items():
        me.type(name, value)
    for stage in ("stage1_project_land", "stage2_works_permit"):
        me.choose("stages_requested", stage)
    me.submit()
    message = chrome.find_element(By.ID, "f-credit_code-msg")
    assert "校验位错误" in message.text
    assert chrome.find_element(By.ID, "f-credit_code").get_attribute("aria-invalid") == "true"
    assert me.field("project_name").get_attribute("value") == "德阳玉龙钢管厂（一期）"  # kept
    me.shot("registration-wrong-credit-code")
    me.type("credit_code", credit_code())
    me.submit()
    assert "案件已创建" in me.text() and "签订代办协议" in me.text()
    case_url = chrome.current_url.split("?")[0]
    me.shot("case-created")

    # ... signs the agency agreement (a task form: checkboxes, a nested object, a date).
    me.click_and_wait(By.PARTIAL_LINK_TEXT, "签订代办协议")
    # pre-filled from the registration: the stages asked for, the contact, and who signs (the agent)
    assert me.field("agent_name").get_attribute("value") == "alice"
    assert me.field("enterprise_contact.phone").get_attribute("value") == "13800000000"
    assert chrome.find_element(By.CSS_SELECTOR, 'input[name="stages_agreed"][value="stage2_works_permit"]').is_selected()
    me.set("signed_date", "2026-03-02")
    me.shot("agreement-form")
    me.submit()
    assert "任务已办结" in me.text()

    # The window pre-reviews (rows of materials) and accepts.
    me.sign_in("zwfw")
    me.open_task("德阳玉龙钢管厂")
    me.type("materials[0].name", "营业执照")
    me.tick("materials[0].checked")
    me.press("添加一项")  # a second row, by a form post (no script needed)
    me.type("materials[1].name", "项目备案证明")
    me.tick("materials[1].checked")
    me.tick("complete")
    me.shot("pre-review-form")
    me.submit()
    me.open_task("德阳玉龙钢管厂")
    me.choose("decision", "accept")
    me.submit()

    # Three departments work their items; the district planning bureau asks for 补正.
    me.sign_in("fgj")
    me.shot("fgj-inbox")
    for decision in ("accept", "approve"):
        me.open_task("项目审批/核准/备案")
        me.choose("decision", decision)
        me.submit()
    me.sign_in("shizrzyj")
    for decision in ("accept", "approve"):
        me.open_task("用地预审与选址意见书")
        me.choose("decision", decision)
        me.submit()
    me.sign_in("zrzyj")
    me.open_task("建设用地规划许可证")
    me.choose("decision", "correction")
    me.type("opinion", "缺少规划总平面图")
    me.submit()  # the engine says the missing materials must be listed: shown at the list, in Chinese
    assert "此项必填" in chrome.find_element(By.ID, "f-missing_materials-msg").text
    me.shot("correction-needs-materials")
    me.press("添加一项")
    me.type("missing_materials[0].name", "规划总平面图")
    me.type("missing_materials[0].reason", "未提交")
    me.submit()
    assert "任务已办结" in me.text()

    # The agent supplies the missing material; the item goes back to the bureau's inbox.
    me.sign_in("alice")
    me.open_task("补正材料")
    me.type("materials[0].name", "规划总平面图")
    me.shot("agent-correction-response")
    me.submit()
    assert "任务已办结" in me.text()

    # Time passes: the environmental assessment (30 days) runs late and escalates to the
    # window (level 1), then a working day later to the bureau's leaders (level 2).
    worker = Worker(runtime, name="browser-test", poll_seconds=0)
    for _ in range(126):  # 31.5 days
        clock.advance(hours=6)
        while worker.run_once():
            pass
    me.sign_in("sthjj-leader")
    assert "二级（部门领导）" in me.text()
    me.shot("leader-escalations")
    note = chrome.find_element(By.CSS_SELECTOR, 'input[name="note"]')
    note.send_keys("已督促，三个工作日内办结")
    me.press("记为已协调")
    assert "督办已记录为已协调" in me.text()

    # The case page: items by stage, and the diagram marks completed and active elements.
    me.sign_in("alice")
    chrome.get(case_url)
    assert "阶段一：立项用地规划许可" in me.text() and "建设用地规划许可证" in me.text()
    completed = chrome.find_elements(By.CSS_SELECTOR, 'svg g[data-state="completed"]')
    active = chrome.find_elements(By.CSS_SELECTOR, 'svg g[data-state="active"]')
    assert {"Register", "Agreement", "PreReview", "Intake"} <= {g.get_attribute("data-element-id") for g in completed}
    assert "Stage1" in {g.get_attribute("data-element-id") for g in active}
    assert "已约谈" not in me.text() and "已督促，三个工作日内办结" in me.text()
    me.shot("case-page")
    chrome.find_element(By.CSS_SELECTOR, ".diagram").screenshot(str(screenshots / "case-diagram.png"))

    # The public page shows the items, without signing in.
    chrome.delete_all_cookies()
    me.go(f"/progress/{CODE}")
    public = me.text()
    for item in ("项目审批/核准/备案", "用地预审与选址意见书", "建设用地规划许可证"):
        assert item in public
    me.shot("public-progress")
