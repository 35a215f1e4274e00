"""The shipped decision in a real browser: an agent answers the project's questions, the DMN
table lists the approval items, and the confirmation form shows them ready to confirm or change."""
from __future__ import annotations

from selenium.webdriver.common.by import By

from engine.services import cases
from engine.domain.access import Actor
from tests.browser.test_story import Person
from tests.console.conftest import People

CODE = "2026-510117-34-01-000654"


def test_an_agent_gets_the_decided_checklist(chrome, server, screenshots, runtime, shipped):
    People(runtime).add("alice", "agent")
    with runtime.unit_of_work() as uow:
        cases.start_case(uow, Actor("alice", "agent"), "approval_checklist", CODE,
                         project={"project_name": "郫都区人民医院新院区"})
        uow.commit()
    me = Person(chrome, server, screenshots)
    me.sign_in("alice")
    me.open_task("填写项目基本情况")
    me.choose("project_type", "government")
    me.choose("land_use", "allocated")
    me.type("investment", "120000")
    me.shot("checklist-profile")
    me.submit()

    me.open_task("确认审批事项清单")
    me.shot("checklist-confirm")
    chrome.set_window_size(1400, 1200)  # the top of the page as an agent first sees it
    chrome.execute_script("window.scrollTo(0, 0)")
    chrome.save_screenshot(str(screenshots / "checklist-confirm-top.png"))
    names = [e.get_attribute("value") for e in chrome.find_elements(By.CSS_SELECTOR, 'input[name$="].name"]')]
    assert names[:4] == ["政府投资项目审批（可行性研究报告）", "用地预审与选址意见书", "国有建设用地划拨决定书",
                         "建设用地规划许可证"]
    assert "环境影响评价审批（报告书）" in names and len(names) == 13
    me.tick("confirmed")
    me.submit()
    me.shot("checklist-done")
    with runtime.unit_of_work(write=False) as uow:
        from engine.adapters.models import Case
        [case] = uow.session.query(Case).all()
        assert case.status == "completed"


def test_a_designer_deploys_a_process_with_its_decision_from_the_console(chrome, server, screenshots, runtime,
                                                                         tmp_path):
    from tests.scenarios.test_approval_items_decision import FILES, PROCESSES
    People(runtime).add("dora", "designer")
    me = Person(chrome, server, screenshots)
    me.sign_in("dora")
    me.go("/console/definitions#upload")
    paths = [str(PROCESSES / name) for name in FILES]
    chrome.find_element(By.ID, "bpmn-file").send_keys("\n".join(paths))
    me.shot("designer-upload-bpmn-and-dmn")
    me.submit()
    me.shot("designer-deployed-checklist")
    assert "/console/definitions/approval_checklist" in chrome.current_url and "流程已部署" in me.text()
