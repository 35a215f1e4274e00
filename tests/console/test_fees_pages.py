"""One-window fee payment in the console: a body sets its fee in yuan (kept exactly in fen), the
window collects the bill, the decision task says why it waits, a leader waives, the bill prints,
and the reconciliation page and its CSV add up per body."""
from __future__ import annotations

import csv
import io

import pytest

from engine.services import cases
from engine.domain.access import Actor
from tests.conftest import deploy_file

CODE = "2026-510117-34-01-000088"
LAND = {"code": "land_planning_permit", "name": "建设用地规划许可证", "department": "county.zrzyj"}
APPROVAL = {"code": "project_approval", "name": "项目审批/核准/备案", "department": "county.fgj"}


@pytest.fixture
def case_id(runtime, people):
    deploy_file(runtime, "fee_items.bpmn")
    people.add("zwfw-leader", "leader", "county.zwfw")
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, Actor("alice", "agent"), "fee_items", CODE,
                                   project={"project_name": "郫都精密零件厂", "enterprise_name": "成都精密零件有限公司"},
                                   variables={"items": [LAND, APPROVAL]})
        uow.commit()
        return started.case.id


def land_task(runtime, case_id):
    with runtime.unit_of_work(write=False) as uow:
        return next(t.id for t in cases.case_tasks(uow, case_id) if t.item and t.item.get("code") == "land_planning_permit")


def test_a_fee_from_staff_to_window_to_reconciliation(app, runtime, people, case_id):
    from tests.console.conftest import Browser
    staff = Browser(app)
    staff.sign_in("zrzyj")
    task = staff.get(f"/console/tasks/{land_task(runtime, case_id)}").get_data(as_text=True)
    assert "本事项须先缴费后才能作出决定" in task and "尚未列明本事项的收费项目" in task

    page = staff.get(f"/console/cases/{case_id}/fees").get_data(as_text=True)
    assert "列明收费项目" in page and "建设用地规划许可证" in page
    assert "项目审批/核准/备案" not in page.split("列明收费项目")[-1]  # another body's item is not offered
    bad = staff.post(f"/console/cases/{case_id}/fees", {"item": "land_planning_permit", "fee_name": "配套费",
                                                        "legal_basis": "", "amount": "12.345"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "金额最多到分" in text and "收费依据" in text and 'value="配套费"' in text  # typed values kept
    done = staff.post(f"/console/cases/{case_id}/fees", {"item": "land_planning_permit", "fee_name": "城市基础设施配套费",
                                                         "legal_basis": "川发改价格〔2019〕XX号", "amount": "12,345.5"})
    assert done.status_code == 303
    page = staff.get(done.headers["Location"]).get_data(as_text=True)
    assert "收费项目已加入缴费单" in page and "12,345.50" in page and "待缴" in page
    assert "窗口收讫" not in page  # staff of a body do not collect
    task = staff.get(f"/console/tasks/{land_task(runtime, case_id)}").get_data(as_text=True)
    assert "尚未缴清" in task and "12,345.50" in task

    window = Browser(app)
    window.sign_in("zwfw")
    listed = window.get("/console/fees").get_data(as_text=True)
    assert CODE in listed and "12,345.50" in listed and "待缴" in listed
    page = window.get(f"/console/cases/{case_id}/fees").get_data(as_text=True)
    assert "窗口收讫 12,345.50 元" in page
    from engine.services import fees
    with runtime.unit_of_work(write=False) as uow:
        bill = fees.case_bills(uow, case_id)[0]
    printable = window.get(f"/console/bills/{bill.id}/print").get_data(as_text=True)
    assert "缴费通知书" in printable and bill.number in printable and "成都精密零件有限公司" in printable
    paid = window.post(f"/console/bills/{bill.id}/pay", {"channel": "window"})
    assert paid.status_code == 303
    page = window.get(paid.headers["Location"]).get_data(as_text=True)
    assert "已在窗口收讫" in page and "支付流水号" in page
    assert "缴费凭证" in window.get(f"/console/bills/{bill.id}/print").get_data(as_text=True)
    again = window.post(f"/console/bills/{bill.id}/pay", {"channel": "window"})
    assert again.status_code == 409 and "已缴，不会重复收费" in again.get_data(as_text=True)

    task = staff.get(f"/console/tasks/{land_task(runtime, case_id)}").get_data(as_text=True)
    assert "本事项须先缴费" not in task

    rec = staff.get("/console/fees/reconciliation?date=2026-03-02").get_data(as_text=True)
    assert "12,345.50" in rec and "收款" in rec
    sheet = staff.get("/console/fees/reconciliation.csv?date=2026-03-02&department=county.zrzyj")
    assert sheet.status_code == 200 and sheet.get_data().startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(sheet.get_data().decode("utf-8-sig"))))
    assert rows[1][7] == "城市基础设施配套费" and rows[1][11] == "12345.50"
    other = staff.get("/console/fees/reconciliation?date=2026-03-02&department=county.fgj")
    assert other.status_code == 403


def test_a_leader_waives_with_a_reason(app, runtime, people, case_id):
    from tests.console.conftest import Browser
    fgj = Browser(app)
    fgj.sign_in("fgj")
    fgj.post(f"/console/cases/{case_id}/fees", {"item": "project_approval", "fee_name": "登记费",
                                                "legal_basis": "价费字〔1992〕XX号", "amount": "500"})
    from engine.services import fees
    with runtime.unit_of_work(write=False) as uow:
        bill = fees.case_bills(uow, case_id)[0]
    leader = Browser(app)
    leader.sign_in("zwfw-leader")
    page = leader.get(f"/console/cases/{case_id}/fees").get_data(as_text=True)
    assert "减免依据" in page
    assert leader.post(f"/console/bills/{bill.id}/waive", {"reason": ""}).status_code == 422
    done = leader.post(f"/console/bills/{bill.id}/waive", {"reason": "招商引资重点项目减免"})
    assert done.status_code == 303
    page = leader.get(done.headers["Location"]).get_data(as_text=True)
    assert "已减免" in page and "招商引资重点项目减免" in page
