"""One-window fee payment (一窗缴费) in the console: a case's fees and bills (bodies set the fees of
their own items; the window collects the bill, refunds it; a leader waives it), a print-friendly
bill, and the daily reconciliation per body with its CSV. The same engine functions as the API."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, request, url_for

from api.console.blueprint import blueprint
from api.console.web import actor, page, see_other
from api.csv_download import csv_file
from api.runtime import runtime
from engine.domain import access
from engine.domain import fees as rules
from engine.errors import Invalid
from engine.services import fees

NOTICES = {"fee_added": "收费项目已加入缴费单。", "fee_removed": "收费项目已删除。", "paid": "已在窗口收讫，缴费单已缴。",
           "pending": "已生成线上支付，等待支付平台确认。", "refunded": "已退费。", "waived": "已减免。"}
FIELD_NAMES = {"item": "审批事项", "fee_name": "收费项目", "legal_basis": "收费依据", "amount_fen": "金额",
               "amount": "金额（元）", "payer": "缴款人", "reason": "原因", "department": "部门", "date": "日期"}


def fen_from_yuan(text: str) -> int:
    """`1234.5` or `1,234.50` yuan → 123450 fen, exactly; more than two decimals is refused."""
    cleaned = (text or "").replace(",", "").replace("，", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Invalid("amount is not a number", errors={"amount": ["请填写金额（元），如 1500 或 1500.50"]}) from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("amount has more than two decimals", errors={"amount": ["金额最多到分（两位小数）"]})
    return int(value * 100)


def _context(case_id: str) -> dict[str, Any]:
    who = actor()
    with runtime().unit_of_work(write=False) as uow:
        found = fees.case_fees(uow, who, case_id)
        window = fees.is_window_for(uow, who, found.case)
    mine = [i for i in found.items if who.is_admin or (who.role in ("staff", "leader") and i.department == who.department)]
    return {"found": found, "case": found.case, "window": window, "my_items": mine, "rules": rules,
            "notice": NOTICES.get(request.args.get("done", ""))}


@blueprint.get("/fees")
def bills() -> Response:
    """The bills the signed-in person deals with: the window's to collect, a body's carrying its fees."""
    status = request.args.get("status") or rules.DUE
    with runtime().unit_of_work(write=False) as uow:
        rows = fees.list_bills(uow, actor(), None if status == "all" else status)
    return page("bills.html", rows=rows, status=status, rules=rules)


@blueprint.get("/cases/<case_id>/fees")
def case_fees(case_id: str) -> Response:
    return page("fees.html", **_context(case_id), form={}, errors={})


@blueprint.post("/cases/<case_id>/fees")
def add_fee(case_id: str) -> Response:
    form = {k: request.form.get(k, "") for k in ("item", "fee_name", "legal_basis", "amount", "payer")}
    try:
        data = {k: form[k] for k in ("item", "fee_name", "legal_basis") if form[k].strip()}
        data["amount_fen"] = fen_from_yuan(form["amount"])
        if form["payer"].strip():
            data["payer"] = form["payer"]
        fees.add_fee_item(runtime().unit_of_work(), actor(), case_id, data)
    except Invalid as error:
        errors = {FIELD_NAMES.get(k.replace("amount_fen", "amount"), k): [_words(m) for m in v]
                  for k, v in error.errors.items()}
        return page("fees.html", status=422, **_context(case_id), form=form, errors=errors)
    return see_other("console.case_fees", case_id=case_id, done="fee_added", _anchor="bills")


def _words(message: str) -> str:
    return {"required": "必填", "must be a non-empty string": "必填"}.get(message, message)


@blueprint.post("/fee-items/<int:fee_item_id>/remove")
def remove_fee(fee_item_id: int) -> Response:
    view = fees.remove_fee_item(runtime().unit_of_work(), actor(), fee_item_id)
    case_id = view.case.id
    return see_other("console.case_fees", case_id=case_id, done="fee_removed")


@blueprint.post("/bills/<bill_id>/pay")
def pay_bill(bill_id: str) -> Response:
    result = fees.pay_bill(runtime().unit_of_work(), actor(), bill_id, request.form.get("channel", "window"))
    case_id = result.view.case.id
    return see_other("console.case_fees", case_id=case_id, done="paid" if result.settled else "pending")


@blueprint.post("/bills/<bill_id>/refund")
def refund_bill(bill_id: str) -> Response:
    view = fees.refund_bill(runtime().unit_of_work(), actor(), bill_id, request.form.get("reason", ""))
    case_id = view.case.id
    return see_other("console.case_fees", case_id=case_id, done="refunded")


@blueprint.post("/bills/<bill_id>/waive")
def waive_bill(bill_id: str) -> Response:
    view = fees.waive_bill(runtime().unit_of_work(), actor(), bill_id, request.form.get("reason", ""))
    case_id = view.case.id
    return see_other("console.case_fees", case_id=case_id, done="waived")


@blueprint.get("/bills/<bill_id>/print")
def print_bill(bill_id: str) -> Response:
    """The bill as the enterprise takes it away (缴费通知书 / 缴费凭证): print-friendly, no navigation."""
    with runtime().unit_of_work(write=False) as uow:
        view = fees.get_bill(uow, actor(), bill_id)
        now = uow.runtime.clock()
    return page("bill_print.html", view=view, bill=view.bill, case=view.case, rules=rules, now=now)


def _reconciliation_args() -> tuple[date, str | None]:
    raw = request.args.get("date", "")
    try:
        day = date.fromisoformat(raw) if raw else runtime().clock().astimezone(fees.BEIJING).date()
    except ValueError:
        raise Invalid(f"date {raw!r} is not a date (YYYY-MM-DD)", errors={"date": ["日期格式应为 YYYY-MM-DD"]}) from None
    department = request.args.get("department") or None
    return day, department


@blueprint.get("/fees/reconciliation")
def reconciliation() -> Response:
    who = actor()
    day, department = _reconciliation_args()
    if department is None and access.is_department_member(who) and who.department:
        own_only = access.oversight(who, runtime().organisation) is None
        department = who.department if own_only else None
    with runtime().unit_of_work(write=False) as uow:
        found = fees.reconciliation(uow, who, day, department)
        organisation = uow.organisation
        if access.sees_everything(who):
            choices = [b for b in organisation if b.kind in ("department", "archive")]
        else:
            watch = access.oversight(who, organisation)
            codes = [who.department] + [c for c in (watch.bodies if watch else ()) if c != who.department]
            choices = [organisation.get(c) for c in codes if c in organisation]
    csv_url = url_for("console.reconciliation_csv", date=day.isoformat(), **({"department": department} if department else {}))
    return page("reconciliation.html", found=found, day=day, department=department, choices=choices,
                csv_url=csv_url, rules=rules, kind_names=fees.KIND_NAMES)


@blueprint.get("/fees/reconciliation.csv")
def reconciliation_csv() -> Response:
    day, department = _reconciliation_args()
    with runtime().unit_of_work(write=False) as uow:
        found = fees.reconciliation(uow, actor(), day, department)
    return csv_file(fees.reconciliation_csv(found), fees.reconciliation_filename(found))
