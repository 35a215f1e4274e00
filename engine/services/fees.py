"""One-window fee payment (一窗缴费): the use cases — set a body's fees on its approval item, show
a case's bills, pay at the window through the payment gateway, confirm a payment once, refund,
waive (减免), the fee gate before a decision, and the daily reconciliation per body.

Every command locks the case row first (as every case verb does), so two bodies adding fees at
the same moment, or a window payment racing the gateway's callback, are serialised; the unique
`bills.open_key` and `payments.reference` hold even so. Every change is a history event on the
case (`fee_item_added`, `fee_bill_paid`, ...) with who and when.
"""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

from engine.domain import expressions, routing
from engine.services import case_access
from engine.domain import access
from engine.adapters import history
from engine.adapters.models import Bill, FeeItem, Payment
from engine.adapters.payment_gateway import GatewayError, GatewayPayment, gateway_for
from engine.domain import fees as rules
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.adapters.models import Case, Task
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.domain.access import Actor
    from engine.adapters.uow import UnitOfWork

BEIJING = timezone(timedelta(hours=8))  # reconciliation days are Beijing calendar days
OPEN_STATUSES = ("running", "suspended")


# --------------------------------------------------------------------------- read models


@dataclass
class ApprovalItem:
    """An approval item of a case that fees can attach to."""

    key: str
    name: str
    department: str
    batch: int | None


@dataclass
class BillView:
    bill: Bill
    items: list[FeeItem]
    payments: list[Payment]
    case: Case


@dataclass
class CaseFees:
    case: Case
    items: list[ApprovalItem]
    bills: list[BillView]

    @property
    def state(self) -> str:
        return settlement([b.bill for b in self.bills])


def settlement(bills: list[Bill]) -> str:
    """`none` (no fees), `due` (something to pay), `settled` (paid or waived; refunded bills
    count as closed) — all the public progress page says about fees: no amounts, no bodies."""
    live = [b for b in bills if b.status != rules.REFUNDED]
    if not bills:
        return "none"
    return "due" if any(b.status == rules.DUE for b in live) else "settled"


def approval_items(uow: "UnitOfWork", case_id: str) -> list[ApprovalItem]:
    """The case's approval items as its task rows name them (the body's resolved code), in the
    order they were opened."""
    rows = uow.tasks.with_items(case_id)
    found: dict[tuple[str, str], ApprovalItem] = {}
    for row in rows:
        key = rules.item_key(row.item)
        if key is None or (key, row.department) in found:
            continue
        found[(key, row.department)] = ApprovalItem(key, str(row.item.get("name") or key), row.department,
                                                    rules.item_batch(row.item))
    return list(found.values())


def _bill_views(uow: "UnitOfWork", case: Case, bills: list[Bill]) -> list[BillView]:
    ids = [b.id for b in bills]
    items = uow.bills.fee_items(ids)
    payments = uow.bills.payments(ids)
    return [BillView(b, [i for i in items if i.bill_id == b.id], [p for p in payments if p.bill_id == b.id], case)
            for b in bills]


def case_bills(uow: "UnitOfWork", case_id: str) -> list[Bill]:
    """The case's bills: the main project's first, then each batch's; within one, oldest first
    (a due bill after the settled ones made the same instant)."""
    bills = uow.bills.of_case(case_id)
    return sorted(bills, key=lambda b: (b.batch is not None, b.batch or 0, b.created_at, b.status == rules.DUE,
                                        b.number))


def case_fees(uow: "UnitOfWork", actor: "Actor", case_id: str) -> CaseFees:
    """A case's approval items, bills and fee items, for whoever may see the case."""
    case = case_access.get_case(uow, actor, case_id)
    return CaseFees(case, approval_items(uow, case_id), _bill_views(uow, case, case_bills(uow, case_id)))


def get_bill(uow: "UnitOfWork", actor: "Actor", bill_id: str) -> BillView:
    """One bill with its fee items and payments (by id or by number), for whoever may see its case."""
    bill = uow.bills.get(bill_id) or uow.bills.by_number(bill_id)
    if bill is None:
        raise NotFound(f"bill {bill_id} does not exist")
    case = case_access.get_case(uow, actor, bill.case_id)
    return _bill_views(uow, case, [bill])[0]


@dataclass
class BillRow:
    """A bill in a list: with its case's project, for the window's and the bodies' lists."""

    bill: Bill
    case: Case
    departments: list[str]


LIST_LIMIT = 500


def list_bills(uow: "UnitOfWork", actor: "Actor", status: str | None = rules.DUE) -> list[BillRow]:
    """Bills the actor deals with, oldest first (at most 500): the window (a case's agent, the
    service centre of the case's region and the regions below) the bills it collects, a body the
    bills carrying its fees, admins and province-wide government all."""
    if status is not None and status not in rules.STATUSES:
        raise Invalid(f"unknown bill status {status!r}", errors={"status": [f"one of {', '.join(rules.STATUSES)}"]})
    organisation = uow.organisation
    watch = access.oversight(actor, organisation)
    window = watch is not None and organisation.get(actor.department).kind == "service_centre"
    if access.sees_everything(actor):
        found = uow.bills.listing(status, limit=LIST_LIMIT)
    elif actor.role == "agent":
        found = uow.bills.listing(status, started_by=actor.name, limit=LIST_LIMIT)
    elif window:
        regions = [watch.region, *watch.below]
        found = uow.bills.listing(status, regions=regions, with_unset_region=organisation.default_region in regions,
                                  limit=LIST_LIMIT)
    elif access.is_department_member(actor):
        found = uow.bills.listing(status, department=actor.department, limit=LIST_LIMIT)
    else:
        raise Forbidden(f"{actor.name} may not list bills")
    departments = uow.bills.departments([b.id for b, _ in found])
    rows = [BillRow(b, c, sorted(departments.get(b.id, ()))) for b, c in found]
    if window:  # a lower region's case only when the window oversees it (an item at one of its bodies)
        rows = [r for r in rows if is_window_for(uow, actor, r.case)]
    return rows


# --------------------------------------------------------------------------- who may


def _case_departments(uow: "UnitOfWork", case_id: str) -> set[str]:
    return case_access.case_departments(uow, case_id)


def is_window_for(uow: "UnitOfWork", actor: "Actor", case: Case) -> bool:
    """The window of a case: its agent, or the staff and leaders of the service centre (政务服务中心)
    that oversees the case's region; admins too."""
    if actor.is_admin:
        return True
    if actor.role == "agent":
        return case.started_by == actor.name
    organisation = uow.organisation
    if not access.is_department_member(actor) or actor.department not in organisation:
        return False
    if organisation.get(actor.department).kind != "service_centre":
        return False
    watch = access.oversight(actor, organisation)
    region = case.region or organisation.default_region
    return watch is not None and watch.sees(region, _case_departments(uow, case.id))


def _require_window(uow: "UnitOfWork", actor: "Actor", case: Case, what: str) -> None:
    if not is_window_for(uow, actor, case):
        raise Forbidden(f"{actor.name} may not {what}: only the case's window (its agent or the service "
                        f"centre's staff) may")


def _require_waiver(uow: "UnitOfWork", actor: "Actor", case: Case, items: list[FeeItem]) -> None:
    """减免 is a leader's decision: a leader of the case's service centre, or of the body that
    levies every fee on the bill; admins too."""
    if actor.is_admin:
        return
    if actor.role == "leader":
        if is_window_for(uow, actor, case):
            return
        if items and all(i.department == actor.department for i in items):
            return
    raise Forbidden(f"{actor.name} may not waive this bill: a leader of the case's service centre, or of the "
                    f"body that levies every fee on it, decides a waiver (减免)")


# --------------------------------------------------------------------------- commands


def _lock_open_case(uow: "UnitOfWork", actor: "Actor", case_id: str) -> Case:
    case_access.get_case(uow, actor, case_id)  # 404 / 403 before anything is locked
    return uow.lock_case(case_id)


def _due_bill(uow: "UnitOfWork", case: Case, batch: int | None, actor: "Actor") -> Bill:
    """The case's (or batch's) due bill, made when its first fee is set. A bill already paid
    stays as it is: a later fee goes on a new bill (a supplementary bill)."""
    key = f"{case.id}:{batch if batch is not None else '-'}"
    found = uow.bills.by_open_key(key)
    if found is not None:
        return found
    now = uow.runtime.clock()
    bill = Bill(id=str(uuid.uuid4()), case_id=case.id, batch=batch, open_key=key, status=rules.DUE, total_fen=0,
                number=f"JF{now.astimezone(BEIJING):%Y%m%d}-{uuid.uuid4().hex[:6].upper()}",
                created_at=now, created_by=actor.name)
    uow.bills.add_now(bill)
    history.record(uow, case.id, "fee_bill_opened", actor.name,
                   data={"bill": bill.number, "batch": batch})
    return bill


@use_case
def add_fee_item(uow: "UnitOfWork", actor: "Actor", case_id: str, data: Any) -> FeeItem:
    """A body sets one fee of its own approval item; it goes on the case's (or batch's) due bill."""
    clean = rules.check_fee_item(data)
    case = _lock_open_case(uow, actor, case_id)
    if case.status not in OPEN_STATUSES:
        raise Conflict(f"case {case_id} is {case.status}; fees are set while it is open")
    items = [i for i in approval_items(uow, case_id) if i.key == clean["item"]]
    if not items:
        known = ", ".join(sorted({i.key for i in approval_items(uow, case_id)})) or "none yet"
        raise Invalid(f"case {case_id} has no approval item {clean['item']!r}",
                      errors={"item": [f"not an approval item of this case (its items: {known})"]})
    if not actor.is_admin:
        mine = [i for i in items if i.department == actor.department]
        if actor.role not in ("staff", "leader") or not mine:
            raise Forbidden(f"{actor.name} may not set fees of item {clean['item']!r}: a body sets the fees of "
                            f"its own items ({', '.join(i.department for i in items)})")
        items = mine
    item = items[0]
    bill = _due_bill(uow, case, item.batch, actor)
    _refuse_while_paying(uow, bill)
    payer = clean.get("payer") or (case.project or {}).get("enterprise_name") or case.name or case.business_key
    fee = FeeItem(bill_id=bill.id, case_id=case.id, item_key=item.key, item_name=item.name,
                  department=item.department, fee_name=clean["fee_name"], legal_basis=clean["legal_basis"],
                  amount_fen=clean["amount_fen"], payer=str(payer)[:200], created_at=uow.runtime.clock(),
                  created_by=actor.name)
    uow.bills.add(fee)
    bill.total_fen += fee.amount_fen
    uow.bills.flush()
    history.record(uow, case.id, "fee_item_added", actor.name,
                   data={"bill": bill.number, "fee_item": fee.id, "item": item.key, "department": item.department,
                         "fee_name": fee.fee_name, "legal_basis": fee.legal_basis, "amount_fen": fee.amount_fen,
                         "payer": fee.payer})
    return fee


@use_case
def remove_fee_item(uow: "UnitOfWork", actor: "Actor", fee_item_id: int) -> BillView:
    """A body takes back one of its fees while the bill is still due (a wrong amount is removed
    and set again); a bill left empty is deleted (its history events remain)."""
    fee = uow.bills.fee_item(fee_item_id)
    if fee is None:
        raise NotFound(f"fee item {fee_item_id} does not exist")
    case = _lock_open_case(uow, actor, fee.case_id)
    uow.bills.reload(fee)
    bill = uow.bills.fresh(fee.bill_id)
    if not actor.is_admin and (actor.role not in ("staff", "leader") or actor.department != fee.department):
        raise Forbidden(f"{actor.name} may not remove a fee of {fee.department}: each body changes its own fees")
    if bill.status != rules.DUE:
        raise Conflict(f"bill {bill.number} is {bill.status} ({rules.STATUS_NAMES[bill.status]}); "
                       f"its fees are fixed — only a due bill's fees can be removed")
    _refuse_while_paying(uow, bill)
    bill.total_fen -= fee.amount_fen
    uow.bills.delete(fee)
    history.record(uow, case.id, "fee_item_removed", actor.name,
                   data={"bill": bill.number, "fee_item": fee_item_id, "item": fee.item_key,
                         "fee_name": fee.fee_name, "amount_fen": fee.amount_fen})
    uow.bills.flush()
    if not uow.bills.has_fee_items(bill.id):
        history.record(uow, case.id, "fee_bill_cancelled", actor.name, data={"bill": bill.number})
        uow.bills.delete(bill)
        uow.bills.flush()
        return BillView(bill, [], [], case)
    return _bill_views(uow, case, [bill])[0]


def _refuse_while_paying(uow: "UnitOfWork", bill: Bill) -> None:
    """While the enterprise is paying a bill online its total must not move (the provider
    would confirm the old amount for the new bill): change fees after it settles (they then go
    on a new bill) or after the window abandons that payment."""
    pending = uow.bills.pending_payment(bill.id)
    if pending is not None:
        raise Conflict(f"bill {bill.number} is being paid online (payment {pending.reference}); its fees cannot change "
                       f"until that payment is confirmed or abandoned")


def _lock_bill(uow: "UnitOfWork", actor: "Actor", bill_id: str) -> tuple[Bill, Case]:
    view = get_bill(uow, actor, bill_id)  # 404 / 403 first
    case = uow.lock_case(view.bill.case_id)
    bill = uow.bills.fresh(view.bill.id)
    return bill, case


def _gateway(uow: "UnitOfWork"):  # type: ignore[no-untyped-def]
    try:
        return gateway_for(uow.runtime)
    except GatewayError as error:
        raise Conflict(f"payment gateway: {error}") from error


@dataclass
class PayResult:
    view: BillView
    payment: Payment
    settled: bool  # the bill is paid now (else the payment waits for the provider's confirmation)


@use_case
def pay_bill(uow: "UnitOfWork", actor: "Actor", bill_id: str, channel: str = "window") -> PayResult:
    """The window collects a bill through the payment gateway. At the till (`window`) it settles
    at once; `online` (scan to pay) waits for the provider's callback. Asking again while an
    online payment waits returns that payment (asking the provider first), never a second one."""
    if channel not in rules.CHANNELS:
        raise Invalid(f"unknown payment channel {channel!r}", errors={"channel": [f"one of {', '.join(rules.CHANNELS)}"]})
    bill, case = _lock_bill(uow, actor, bill_id)
    _require_window(uow, actor, case, "collect fees")
    rules.transition(bill.number, bill.status, rules.PAY, bill.payment_reference)
    if bill.total_fen <= 0:
        raise Conflict(f"bill {bill.number} has no fees to pay")
    gateway = _gateway(uow)
    pending = uow.bills.pending_payment(bill.id)
    if pending is not None:
        state = gateway.query(pending.reference)
        if state.status == "paid" and state.amount_fen == pending.amount_fen:
            _settle(uow, pending, bill, case, actor.name)
            return PayResult(_bill_views(uow, case, [bill])[0], pending, True)
        if pending.channel == channel and pending.amount_fen == bill.total_fen:
            return PayResult(_bill_views(uow, case, [bill])[0], pending, False)
        # The enterprise pays another way (cash at the till after a QR code it did not use), or
        # the bill changed: the waiting payment is abandoned; if it is confirmed after all, the
        # confirmation is refused and shows up for a refund.
        pending.status = "abandoned"
        history.record(uow, case.id, "fee_payment_abandoned", actor.name,
                       data={"bill": bill.number, "reference": pending.reference, "channel": pending.channel})
    try:
        made = gateway.create_payment(bill.number, bill.total_fen, channel, f"一窗缴费 {case.business_key}")
    except GatewayError as error:
        raise Conflict(f"the payment gateway refused bill {bill.number}: {error}") from error
    now = uow.runtime.clock()
    payment = Payment(bill_id=bill.id, gateway=gateway.name, channel=channel, reference=made.reference,
                      amount_fen=bill.total_fen, status="pending", created_at=now, created_by=actor.name)
    uow.bills.add_now(payment)
    history.record(uow, case.id, "fee_payment_started", actor.name,
                   data={"bill": bill.number, "reference": made.reference, "channel": channel,
                         "amount_fen": bill.total_fen, "gateway": gateway.name})
    if made.status == "paid":
        _settle(uow, payment, bill, case, actor.name)
    return PayResult(_bill_views(uow, case, [bill])[0], payment, bill.status == rules.PAID)


def _settle(uow: "UnitOfWork", payment: Payment, bill: Bill, case: Case, by: str) -> None:
    now = uow.runtime.clock()
    payment.status, payment.confirmed_at = "paid", now
    bill.status = rules.transition(bill.number, bill.status, rules.PAY, bill.payment_reference)
    bill.open_key, bill.payment_reference, bill.paid_at, bill.paid_by = None, payment.reference, now, by
    uow.bills.flush()
    history.record(uow, case.id, "fee_bill_paid", by,
                   data={"bill": bill.number, "reference": payment.reference, "amount_fen": payment.amount_fen,
                         "channel": payment.channel, "gateway": payment.gateway})


@dataclass
class Confirmation:
    view: BillView
    already: bool  # this reference had been confirmed before: nothing changed


def confirm_payment(uow: "UnitOfWork", confirmed: GatewayPayment, by: str = "gateway") -> Confirmation:
    """Apply a payment the gateway confirms. The same reference confirmed twice (a provider
    retrying its callback, the window and the callback at once) counts once."""
    payment = uow.bills.payment_by_reference(confirmed.reference)
    if payment is None:
        raise NotFound(f"no payment has reference {confirmed.reference}")
    case = uow.lock_case(uow.bills.get(payment.bill_id).case_id)
    uow.bills.reload(payment)
    bill = uow.bills.fresh(payment.bill_id)
    if payment.status == "abandoned":
        raise Conflict(f"payment {payment.reference} was abandoned (bill {bill.number} is {bill.status}, paid "
                       f"{'with ' + bill.payment_reference if bill.payment_reference else 'otherwise'}); the money "
                       f"it confirms must be refunded through the gateway")
    if payment.status != "pending":
        return Confirmation(_bill_views(uow, case, [bill])[0], already=True)
    if confirmed.status != "paid":
        raise Invalid(f"payment {confirmed.reference} is {confirmed.status}, not paid",
                      errors={"status": ["only `paid` confirms a payment"]})
    if confirmed.amount_fen != payment.amount_fen or payment.amount_fen != bill.total_fen:
        raise Conflict(f"payment {confirmed.reference} was for {payment.amount_fen} fen, the gateway confirms "
                       f"{confirmed.amount_fen}; it needs a person to look at it")
    _settle(uow, payment, bill, case, by)
    return Confirmation(_bill_views(uow, case, [bill])[0], already=False)


@use_case
def confirm_callback(uow: "UnitOfWork", payload: Any) -> Confirmation:
    """A payment provider's notification (`POST /payments/callback`): authenticated by the
    gateway's signature, then applied once."""
    if not isinstance(payload, dict):
        raise Invalid("the notification must be an object", errors={"_schema": ["must be an object"]})
    gateway = _gateway(uow)
    confirmed = gateway.verify_callback(payload)
    return confirm_payment(uow, confirmed, by=f"gateway:{gateway.name}")


@use_case
def refund_bill(uow: "UnitOfWork", actor: "Actor", bill_id: str, reason: Any) -> BillView:
    """The window returns a paid bill's money through the gateway (退费), with the reason."""
    text = rules.check_reason(reason)
    bill, case = _lock_bill(uow, actor, bill_id)
    _require_window(uow, actor, case, "refund fees")
    after = rules.transition(bill.number, bill.status, rules.REFUND, bill.payment_reference)
    try:
        refund = _gateway(uow).refund(bill.payment_reference or "", bill.total_fen, text)
    except GatewayError as error:
        raise Conflict(f"the payment gateway refused the refund of bill {bill.number}: {error}") from error
    now = uow.runtime.clock()
    bill.status, bill.refund_reference, bill.refunded_at, bill.refunded_by, bill.refund_reason = (
        after, refund.reference, now, actor.name, text)
    uow.bills.mark_payments(bill.payment_reference, "refunded")
    history.record(uow, case.id, "fee_bill_refunded", actor.name,
                   data={"bill": bill.number, "reference": bill.payment_reference,
                         "refund_reference": refund.reference, "amount_fen": bill.total_fen, "reason": text})
    return _bill_views(uow, case, [bill])[0]


@use_case
def waive_bill(uow: "UnitOfWork", actor: "Actor", bill_id: str, reason: Any) -> BillView:
    """A leader waives an unpaid bill (减免) with its reason (the policy relied on)."""
    text = rules.check_reason(reason)
    bill, case = _lock_bill(uow, actor, bill_id)
    items = uow.bills.fee_items([bill.id])
    _require_waiver(uow, actor, case, items)
    after = rules.transition(bill.number, bill.status, rules.WAIVE, bill.payment_reference)
    now = uow.runtime.clock()
    bill.status, bill.open_key, bill.waived_at, bill.waived_by, bill.waiver_reason = after, None, now, actor.name, text
    history.record(uow, case.id, "fee_bill_waived", actor.name,
                   data={"bill": bill.number, "amount_fen": bill.total_fen, "reason": text})
    return _bill_views(uow, case, [bill])[0]


# --------------------------------------------------------------------------- the fee gate


def _gate_on(row: Task, meta: dict[str, Any] | None) -> bool:
    """Whether the task is a decision that waits for its fee: its element declares `fee_required`
    (`true`, or `${...}` over the task's item) — only decision elements do, so an item's
    acceptance never waits. An item's own `fee_required` key, where the element declares the
    property at all, wins (as an item's own time rules do)."""
    properties = (meta or {}).get("properties") or {}
    if "fee_required" not in properties:
        return False
    item = row.item if isinstance(row.item, dict) else {}
    if "fee_required" in item:
        return rules.fee_required(item["fee_required"])
    value = properties["fee_required"]
    if isinstance(value, str) and value.strip().startswith("${"):
        name = properties.get("item") or "item"
        try:
            value = expressions.evaluate(routing.expression_of(value.strip()), {name: item, "item": item})
        except expressions.ExpressionError:
            return False
    return rules.fee_required(value)


@dataclass
class FeeBlock:
    """Why a decision waits for its fee: the item, and its unpaid bills (none: no fee set yet)."""

    item: str
    department: str | None
    bills: list[tuple[str, str, int]]  # (number, status, total in fen)

    @property
    def message(self) -> str:
        if not self.bills:
            return (f"item {self.item!r} requires its fee paid before its decision, and no fee is set yet: "
                    f"{self.department} sets the item's fees, the window collects them")
        names = ", ".join(f"{number} ({rules.STATUS_NAMES[status]}, {rules.yuan(total)} yuan)"
                          for number, status, total in self.bills)
        return f"item {self.item!r} requires its fee paid before its decision: bill {names} is not paid"


def unpaid_for_task(uow: "UnitOfWork", row: Task, meta: dict[str, Any] | None) -> FeeBlock | None:
    """Why a decision task may not be completed yet because of its fees (None: it may)."""
    if not _gate_on(row, meta):
        return None
    key = rules.item_key(row.item) or row.element_id
    bills = uow.bills.of_item(row.case_id, key, row.department)
    if not bills:
        return FeeBlock(key, row.department, [])
    open_ = [(b.number, b.status, b.total_fen) for b in bills if b.status not in rules.SETTLED]
    return FeeBlock(key, row.department, sorted(open_)) if open_ else None


def require_fee_paid(uow: "UnitOfWork", row: Task, meta: dict[str, Any] | None) -> None:
    """The fee gate (`cases.complete_task`): 409 naming the unpaid bill."""
    block = unpaid_for_task(uow, row, meta)
    if block is not None:
        raise Conflict(block.message)


def public_state(uow: "UnitOfWork", case_id: str) -> str:
    return settlement(case_bills(uow, case_id))


# --------------------------------------------------------------------------- reconciliation


KIND_NAMES = {"paid": "收款", "refunded": "退款", "waived": "减免"}
CSV_COLUMNS = ["日期", "部门编码", "部门", "项目代码", "项目名称", "缴费单号", "审批事项", "收费项目", "收费依据",
               "缴款人", "类型", "金额（元）", "支付流水号", "时间", "经办人"]


@dataclass
class ReconciliationRow:
    kind: str  # paid | refunded | waived
    at: datetime
    by: str | None
    department: str
    business_key: str
    project_name: str | None
    bill: str
    item: str
    fee_name: str
    legal_basis: str
    payer: str
    amount_fen: int  # positive; a refund takes it away, a waiver collects nothing
    reference: str | None


@dataclass
class DepartmentTotals:
    department: str
    name: str
    collected_fen: int = 0
    refunded_fen: int = 0
    waived_fen: int = 0
    count: int = 0

    @property
    def net_fen(self) -> int:
        return self.collected_fen - self.refunded_fen


@dataclass
class Reconciliation:
    day: date
    department: str | None
    rows: list[ReconciliationRow] = field(default_factory=list)
    totals: list[DepartmentTotals] = field(default_factory=list)


def _reconciliation_scope(uow: "UnitOfWork", actor: "Actor", department: str | None) -> list[str] | None:
    """The bodies whose accounts the actor may reconcile: None means every body."""
    organisation = uow.organisation
    if department is not None and department not in organisation:
        raise Invalid(f"{department!r} is not a known department", errors={"department": ["unknown department"]})
    if access.sees_everything(actor):
        return None if department is None else [department]
    if not access.is_department_member(actor):
        raise Forbidden(f"{actor.name} may not read fee reconciliations (bodies, service centres, governments do)")
    watch = access.oversight(actor, organisation)
    allowed = {actor.department} | set(watch.bodies if watch else ())
    if department is None:
        return sorted(allowed) if watch else [actor.department]
    if department not in allowed:
        raise Forbidden(f"{actor.name} may not read the accounts of {department}")
    return [department]


def reconciliation(uow: "UnitOfWork", actor: "Actor", day: date, department: str | None = None) -> Reconciliation:
    """Per body, what was collected, refunded and waived on one Beijing calendar day: a row per
    fee item, the totals per body (the body checks them against its bank statement)."""
    rules.check_day(day)
    scope = _reconciliation_scope(uow, actor, department)
    start = datetime.combine(day, time(), BEIJING)
    end = start + timedelta(days=1)
    result = Reconciliation(day, department)
    totals: dict[str, DepartmentTotals] = {}
    organisation = uow.organisation
    for bill, fee, case in uow.bills.settled_between(start, end, scope):
        events = []
        if bill.paid_at is not None and start <= bill.paid_at < end:
            events.append(("paid", bill.paid_at, bill.paid_by, bill.payment_reference))
        if bill.refunded_at is not None and start <= bill.refunded_at < end:
            events.append(("refunded", bill.refunded_at, bill.refunded_by, bill.refund_reference))
        if bill.waived_at is not None and start <= bill.waived_at < end:
            events.append(("waived", bill.waived_at, bill.waived_by, None))
        body = totals.get(fee.department)
        if body is None:
            name = organisation.get(fee.department).name_zh if fee.department in organisation else fee.department
            body = totals[fee.department] = DepartmentTotals(fee.department, name)
        for kind, at, by, reference in events:
            result.rows.append(ReconciliationRow(kind, at, by, fee.department, case.business_key, case.name,
                                                 bill.number, fee.item_name or fee.item_key, fee.fee_name,
                                                 fee.legal_basis, fee.payer, fee.amount_fen, reference))
            body.count += 1
            if kind == "paid":
                body.collected_fen += fee.amount_fen
            elif kind == "refunded":
                body.refunded_fen += fee.amount_fen
            else:
                body.waived_fen += fee.amount_fen
    result.rows.sort(key=lambda r: (r.department, r.at, r.bill))
    result.totals = [totals[k] for k in sorted(totals)]
    return result


def reconciliation_filename(result: Reconciliation) -> str:
    """`fees-2026-03-02-county.zrzyj.csv` (ASCII: body codes, never names)."""
    return f"fees-{result.day.isoformat()}{'-' + result.department if result.department else ''}.csv"


def reconciliation_csv(result: Reconciliation, department_names: dict[str, str] | None = None) -> bytes:
    """UTF-8 with a BOM (Excel then reads the Chinese right); a refund's amount is negative,
    a waiver's is shown but collects nothing; one total line per body at the end."""
    names = {t.department: t.name for t in result.totals} | (department_names or {})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        amount = -row.amount_fen if row.kind == "refunded" else row.amount_fen
        writer.writerow([result.day.isoformat(), row.department, names.get(row.department, row.department),
                         row.business_key, row.project_name or "", row.bill, row.item, row.fee_name,
                         row.legal_basis, row.payer, KIND_NAMES[row.kind], rules.yuan(amount).replace(",", ""),
                         row.reference or "", row.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                         row.by or ""])
    for total in result.totals:
        writer.writerow([result.day.isoformat(), total.department, total.name, "", "", "", "", "", "", "",
                         "合计（实收净额）", rules.yuan(total.net_fen).replace(",", ""), "", "",
                         f"收款 {rules.yuan(total.collected_fen)} / 退款 {rules.yuan(total.refunded_fen)} / "
                         f"减免 {rules.yuan(total.waived_fen)}"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@use_case
def add_fee(uow: "UnitOfWork", actor: "Actor", case_id: str, data: Any) -> tuple[FeeItem, BillView]:
    """`add_fee_item` answered with the bill it went on, as it is after the commit."""
    fee = add_fee_item(uow, actor, case_id, data)
    return fee, get_bill(uow, actor, fee.bill_id)
