"""The notification bell in a real browser (issue 13): the worker delivers a task ready in the
department; the header shows the unread count; the list opens the task and the count drops."""
from __future__ import annotations

from selenium.webdriver.common.by import By

from engine.services import cases
from engine.domain.access import Actor
from engine.services.timers import run_due
from tests.browser.test_story import Person
from tests.conftest import deploy_file
from tests.console.conftest import People


def test_bell_in_the_header(runtime, server, chrome, screenshots):
    people = People(runtime)
    people.add("fgj", "staff", "county.fgj")
    deploy_file(runtime, "parallel_approval.bpmn")
    for i in range(3):
        with runtime.unit_of_work() as uow:
            cases.start_case(uow, Actor("alice", "agent"), "parallel_approval", f"2026-510117-34-01-00000{i}",
                             project={"project_name": f"郫都区新材料产业园 {i + 1} 期"})
            uow.commit()
    run_due(runtime)  # the worker's round: the outbox becomes notifications
    person = Person(chrome, server, screenshots)
    person.sign_in("fgj")
    bell = chrome.find_element(By.CSS_SELECTOR, "header.top a.bell")
    assert bell.find_element(By.CSS_SELECTOR, ".badge").text == "3"
    person.shot("notifications-header")
    person.click_and_wait(By.CSS_SELECTOR, "header.top a.bell")
    rows = chrome.find_elements(By.CSS_SELECTOR, "table.notifications tbody tr.unread")
    assert len(rows) == 3 and "新待办：" in rows[0].text and "郫都区新材料产业园 3 期" in rows[0].text
    person.shot("notifications-list")
    person.click_and_wait(By.XPATH, '(//table[contains(@class,"notifications")]//button)[1]')
    assert "/console/tasks/" in chrome.current_url
    assert chrome.find_element(By.CSS_SELECTOR, "header.top a.bell .badge").text == "2"
    person.shot("notifications-opened-task")


def test_dead_letters_page(runtime, server, chrome, screenshots, clock):
    from engine.services import webhooks
    from engine.services.webhooks import Deliverer
    from tests.webhook_receiver import Receiver
    people = People(runtime)
    people.add("root", "admin")
    receiver = Receiver(always_fail=True).start()
    try:
        with runtime.unit_of_work() as uow:
            webhooks.add_hook(uow, Actor("root", "admin"), receiver.url, "case.*,task.ready",
                              "0123456789abcdef-secret", "投资项目在线审批监管平台")
            uow.commit()
        deploy_file(runtime, "parallel_approval.bpmn")
        with runtime.unit_of_work() as uow:
            cases.start_case(uow, Actor("alice", "agent"), "parallel_approval", "2026-510117-34-01-000001")
            uow.commit()
        run_due(runtime)
        deliverer = Deliverer(runtime, "test")
        for _ in range(100):
            deliverer.run_once()
            clock.advance(minutes=30)
        person = Person(chrome, server, screenshots)
        person.sign_in("root")
        person.go("/console/admin/webhooks")
        assert "死信（1）" in person.text()
        person.shot("webhooks-dead-letters")
        receiver.always_fail = False
        person.press("重新投递")
        assert "已重新投递" in person.text() and "没有死信" in person.text()
    finally:
        receiver.stop()
