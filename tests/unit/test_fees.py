"""One-window fees (一窗缴费) as services on the in-memory unit of work: a body sets its fees, the
window collects them, the decision's fee gate, a body's reconciliation."""
from __future__ import annotations

from datetime import date

import pytest

from engine.adapters.models import Case, Task
from engine.domain.access import Actor
from engine.errors import Conflict, Forbidden
from engine.services import fees
from tests.unit.fakes import START, FakeUnitOfWork

AGENT = Actor("li", "agent", "county.zwfw")
LAND = Actor("zrzyj", "staff", "county.zrzyj")
REFORM = Actor("fgj", "staff", "county.fgj")
FEE = {"item": "land", "fee_name": "城市基础设施配套费", "legal_basis": "财综〔2002〕3号", "amount_fen": 150_000}


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.cases.add(Case(id="c1", process_key="p", status="running", started_by="li", started_at=START,
                       updated_at=START, version=0, state="", business_key="XM-1", name="厂房",
                       project={"enterprise_name": "某公司"}))
    for task_id, department, item in (("t1", "county.zrzyj", {"code": "land", "name": "用地规划许可"}),
                                      ("t2", "county.fgj", {"code": "approval", "name": "项目备案"})):
        uow.tasks.add(Task(id=task_id, case_id="c1", element_id=f"decide_{task_id}", department=department,
                           state="READY", item=item, created_at=START))
    return uow


def test_a_bodys_fees_go_on_one_due_bill_which_the_window_collects(uow):
    first = fees.add_fee_item(uow, LAND, "c1", FEE)
    fees.add_fee_item(uow, LAND, "c1", {**FEE, "fee_name": "登记费", "amount_fen": 5_000})
    bill = uow.bills.get(first.bill_id)
    assert bill.total_fen == 155_000 and bill.status == "due" and first.payer == "某公司"
    assert [b.bill.number for b in fees.list_bills(uow, LAND)] == [bill.number]
    assert fees.list_bills(uow, REFORM) == []  # no fee of its own on the bill

    uow.runtime.advance(hours=2)
    paid = fees.pay_bill(uow, AGENT, bill.id)
    assert paid.settled and paid.view.bill.status == "paid" and paid.view.bill.paid_by == "li"
    assert [p.status for p in paid.view.payments] == ["paid"]
    assert [e.type for e in uow.events.of_case("c1")] == [
        "fee_bill_opened", "fee_item_added", "fee_item_added", "fee_payment_started", "fee_bill_paid"]
    # a later fee goes on a new (supplementary) bill; the paid one stays as it was
    later = fees.add_fee_item(uow, LAND, "c1", {**FEE, "amount_fen": 1_000})
    assert later.bill_id != bill.id and bill.total_fen == 155_000

    day = fees.reconciliation(uow, LAND, date(2026, 3, 2))
    assert [(r.kind, r.amount_fen) for r in day.rows] == [("paid", 150_000), ("paid", 5_000)]
    assert day.totals[0].net_fen == 155_000


def test_a_body_sets_only_its_own_items_fees_and_a_removed_last_fee_cancels_the_bill(uow):
    with pytest.raises(Forbidden, match="its own items"):
        fees.add_fee_item(uow, REFORM, "c1", FEE)
    fee = fees.add_fee_item(uow, LAND, "c1", FEE)
    with pytest.raises(Forbidden, match="each body changes its own fees"):
        fees.remove_fee_item(uow, REFORM, fee.id)
    view = fees.remove_fee_item(uow, LAND, fee.id)
    assert view.items == [] and fees.case_bills(uow, "c1") == []
    assert uow.events.of_case("c1")[-1].type == "fee_bill_cancelled"


def test_the_decision_waits_for_its_fee(uow):
    meta = {"properties": {"fee_required": "true"}}
    row = uow.tasks.get("t1")
    with pytest.raises(Conflict, match="no fee is set yet"):
        fees.require_fee_paid(uow, row, meta)
    fee = fees.add_fee_item(uow, LAND, "c1", FEE)
    with pytest.raises(Conflict, match="is not paid"):
        fees.require_fee_paid(uow, row, meta)
    fees.waive_bill(uow, Actor("boss", "leader", "county.zrzyj"), fee.bill_id, "小微企业减免")
    fees.require_fee_paid(uow, row, meta)  # waived: the decision may go ahead
    assert fees.public_state(uow, "c1") == "settled"
