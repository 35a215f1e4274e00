"""One-window fee payment in a real browser: a body sets its fee on the case's fee page, the
decision task says it waits for the fee, the window collects the bill and prints it, and the
body's reconciliation page shows the day's money. Screenshots of each page."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from engine.services import cases
from engine.domain.access import Actor
from tests.browser.test_story import Person
from tests.conftest import deploy_file
from tests.console.conftest import People

CODE = "2026-510117-34-01-000099"
ITEMS = [{"code": "land_planning_permit", "name": "建设用地规划许可证", "department": "county.zrzyj"},
         {"code": "project_approval", "name": "项目审批/核准/备案", "department": "county.fgj"}]


@pytest.fixture
def case_id(runtime):
    People(runtime).add("zrzyj", "staff", "county.zrzyj")
    People(runtime).add("fgj", "staff", "county.fgj")
    People(runtime).add("zwfw", "staff", "county.zwfw")
    deploy_file(runtime, "fee_items.bpmn")
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, Actor("alice", "agent"), "fee_items", CODE,
                                   project={"project_name": "郫都精密零件厂", "enterprise_name": "成都精密零件有限公司"},
                                   variables={"items": ITEMS})
        uow.commit()
        return started.case.id


def test_fees_in_a_real_browser(chrome, server, screenshots, runtime, case_id):
    me = Person(chrome, server, screenshots)
    with runtime.unit_of_work(write=False) as uow:
        land = next(t.id for t in cases.case_tasks(uow, case_id) if t.item["code"] == "land_planning_permit")

    me.sign_in("fgj")
    me.go(f"/console/cases/{case_id}/fees")
    me.type("fee_name", "登记费")
    me.type("legal_basis", "价费字〔1992〕XX号")
    me.type("amount", "500")
    me.submit()

    me.sign_in("zrzyj")
    me.go(f"/console/tasks/{land}")
    assert "本事项须先缴费后才能作出决定" in me.text()
    me.shot("fees-task-waits-for-fee")
    me.go(f"/console/cases/{case_id}/fees")
    me.type("fee_name", "城市基础设施配套费")
    me.type("legal_basis", "川发改价格〔2019〕XX号")
    me.type("amount", "12345.5")
    me.submit()
    assert "收费项目已加入缴费单" in me.text() and "12,845.50" in me.text()
    me.shot("fees-body-sets-its-fee")

    me.sign_in("zwfw")
    me.go("/console/fees")
    assert CODE in me.text()
    me.shot("fees-window-bills-to-collect")
    me.click_and_wait(By.PARTIAL_LINK_TEXT, "JF")
    me.press("窗口收讫")
    assert "已在窗口收讫" in me.text() and "已缴" in me.text()
    me.shot("fees-window-collected")
    me.click_and_wait(By.PARTIAL_LINK_TEXT, "打印缴费单")
    assert "缴费凭证" in me.text() and "12,845.50" in me.text()
    me.shot("fees-printed-bill")

    me.sign_in("zrzyj")
    me.go(f"/console/tasks/{land}")
    assert "本事项须先缴费" not in me.text()
    me.go("/console/fees/reconciliation?date=2026-03-02")
    assert "12,345.50" in me.text() and "500.00" not in me.text()  # only the body's own fees
    me.shot("fees-reconciliation-body")

    chrome.delete_all_cookies()
    me.go(f"/progress/{CODE}")
    assert "已结清" in me.text() and "12,845.50" not in me.text() and "12845" not in me.text()
    me.shot("fees-public-progress-settled")
