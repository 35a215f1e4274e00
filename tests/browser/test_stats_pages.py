"""The supervision pages (issue 14) in chromium on the hand-checked cases: the charts load as
images, a click on a column header sorts the league table, the case page shows its timing.
Screenshots of each page go to the screenshots folder."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import PASSWORD, People
from tests.scenarios.test_statistics import cases, story  # noqa: F401 (fixtures)

MARCH = "from=2026-03-01&to=2026-03-31"


def _click_and_wait(driver, text: str) -> None:  # type: ignore[no-untyped-def]
    """Click a header link and wait for the page it loads (the old table goes stale)."""
    old = driver.find_element(By.CSS_SELECTOR, "table.league")
    driver.find_element(By.PARTIAL_LINK_TEXT, text).click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))


def _shot(driver, screenshots, name: str) -> None:  # type: ignore[no-untyped-def]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, max(900, min(int(height) + 40, 6000)))
    driver.save_screenshot(str(screenshots / f"stats-{name}.png"))


def test_statistics_pages_in_a_browser(story, cases, runtime, server, chrome, screenshots):  # noqa: F811
    People(runtime).add("director", "leader", "county.zwfw")  # the centre's director: 郫都区
    chrome.get(server + "/console/login")
    chrome.find_element(By.NAME, "username").send_keys("director")
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "main form button.primary").click()
    WebDriverWait(chrome, 30).until(lambda d: "/console/login" not in d.current_url)  # signed in
    chrome.get(f"{server}/console/stats?{MARCH}")
    assert "并联审批节省 56%" in chrome.find_element(By.TAG_NAME, "main").text
    images = chrome.find_elements(By.CSS_SELECTOR, "img.chart")
    assert images and all(chrome.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    _shot(chrome, screenshots, "overview")

    chrome.get(f"{server}/console/stats/departments?{MARCH}")
    _click_and_wait(chrome, "用时中位数")  # lower is better: fastest first
    first = chrome.find_elements(By.CSS_SELECTOR, "table.league tbody tr")[0].text
    _click_and_wait(chrome, "用时中位数")  # again: slowest first
    again = chrome.find_elements(By.CSS_SELECTOR, "table.league tbody tr")[0].text
    assert first != again and "生态环境" in again
    images = chrome.find_elements(By.CSS_SELECTOR, "img.chart")
    assert len(images) == 2 and all(chrome.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    _shot(chrome, screenshots, "departments")

    chrome.get(f"{server}/console/cases/{cases['A']}")
    assert "关键路径（8 个工作日）" in chrome.find_element(By.TAG_NAME, "main").text
    _shot(chrome, screenshots, "case")
    section = chrome.find_element(By.XPATH, "//section[h2[text()='用时与并联节省']]")
    section.screenshot(str(screenshots / "stats-case-timing.png"))
