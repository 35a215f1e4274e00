"""One-window fee payment (一窗缴费): fee items, bills, payments, the daily reconciliation."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine.domain import fees as rules
from engine.services import fees as service

STATUS_DESCRIPTION = "due 待缴 · paid 已缴 · refunded 已退 · waived 减免"


class FeeItemCreateSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=300), metadata={
        "description": "the approval item's key, as `items[].key` of `GET /cases/{id}/fees` lists it "
                       "(its catalogue code, e.g. `land_planning_permit`; `b1/...` for batch 1's items)"})
    fee_name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"example": "城市基础设施配套费"})
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "收费依据: the law, regulation or price decision the fee rests on",
        "example": "川发改价格〔2019〕XX号"})
    amount_fen = fields.Integer(required=True, strict=True,
                                validate=validate.Range(min=1, max=rules.MAX_AMOUNT_FEN),
                                metadata={"description": "the amount in fen (分): 150000 is 1,500.00 yuan"})
    payer = fields.String(validate=validate.Length(min=1, max=200),
                          metadata={"description": "缴款人; default: the case's enterprise"})


class FeeItemSchema(Schema):
    id = fields.Integer(required=True)
    item = fields.String(required=True, attribute="item_key")
    item_name = fields.String(allow_none=True)
    department = fields.String(required=True)
    fee_name = fields.String(required=True)
    legal_basis = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    payer = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)


class PaymentSchema(Schema):
    reference = fields.String(required=True, metadata={"description": "the gateway's reference (支付流水号)"})
    gateway = fields.String(required=True)
    channel = fields.String(required=True, metadata={"enum": list(rules.CHANNELS)})
    amount_fen = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "paid", "refunded", "abandoned"]})
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)
    confirmed_at = fields.DateTime(allow_none=True)


class BillSchema(Schema):
    id = fields.String(required=True)
    number = fields.String(required=True, metadata={"description": "缴费单号, e.g. JF20260302-3FA2C1"})
    case_id = fields.String(required=True)
    business_key = fields.String(required=True, metadata={"description": "the project code"})
    batch = fields.Integer(allow_none=True, metadata={"description": "the auxiliary batch; null: the main project"})
    status = fields.String(required=True, metadata={"enum": list(rules.STATUSES), "description": STATUS_DESCRIPTION})
    status_name = fields.String(required=True, metadata={"example": "待缴"})
    total_fen = fields.Integer(required=True)
    total_yuan = fields.String(required=True, metadata={"example": "1,500.00"})
    items = fields.List(fields.Nested(FeeItemSchema), required=True)
    payments = fields.List(fields.Nested(PaymentSchema), required=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)
    payment_reference = fields.String(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    paid_by = fields.String(allow_none=True)
    refund_reference = fields.String(allow_none=True)
    refunded_at = fields.DateTime(allow_none=True)
    refunded_by = fields.String(allow_none=True)
    refund_reason = fields.String(allow_none=True)
    waived_at = fields.DateTime(allow_none=True)
    waived_by = fields.String(allow_none=True)
    waiver_reason = fields.String(allow_none=True)


class ApprovalItemSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    department = fields.String(required=True)
    batch = fields.Integer(allow_none=True)


class CaseFeesSchema(Schema):
    case_id = fields.String(required=True)
    business_key = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": ["none", "due", "settled"]})
    total_due_fen = fields.Integer(required=True)
    items = fields.List(fields.Nested(ApprovalItemSchema), required=True,
                        metadata={"description": "the case's approval items a body can attach fees to"})
    bills = fields.List(fields.Nested(BillSchema), required=True)


class FeeItemCreatedSchema(Schema):
    fee_item = fields.Nested(FeeItemSchema, required=True)
    bill = fields.Nested(BillSchema, required=True)


class FeeItemRemovedSchema(Schema):
    bill = fields.Nested(BillSchema, allow_none=True, required=True,
                         metadata={"description": "the bill after; null when it had no other fee and was deleted"})


class PayBodySchema(Schema):
    channel = fields.String(load_default="window", validate=validate.OneOf(rules.CHANNELS), metadata={
        "description": "window: paid at the window's till, settles at once; online: scan to pay, settles "
                       "when the gateway's notification arrives"})


class PayResultSchema(Schema):
    settled = fields.Boolean(required=True, metadata={"description": "false: waiting for the gateway's confirmation"})
    payment = fields.Nested(PaymentSchema, required=True)
    bill = fields.Nested(BillSchema, required=True)


class BillReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "退费原因 / 减免依据, kept on the bill and in the history"})


class CallbackSchema(Schema):
    gateway = fields.String(metadata={"example": "local"})
    reference = fields.String(required=True, validate=validate.Length(min=1, max=120))
    status = fields.String(required=True, metadata={"example": "paid"})
    amount_fen = fields.Integer(required=True, strict=True)
    signature = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CallbackResultSchema(Schema):
    already = fields.Boolean(required=True, metadata={"description": "true: this reference was confirmed before; nothing changed"})
    bill = fields.Nested(BillSchema, required=True)


class ReconciliationQuerySchema(Schema):
    date = fields.Date(required=True, validate=validate.Range(min=rules.FIRST_DAY, max=rules.LAST_DAY),
                       metadata={"description": "a Beijing calendar day, e.g. 2026-03-02"})
    department = fields.String(validate=validate.Length(min=1, max=120),
                               metadata={"description": "one body's code; default: every body the caller may see"})
    format = fields.String(validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "csv: UTF-8 with BOM (also `Accept: text/csv`)"})


class ReconciliationRowSchema(Schema):
    kind = fields.String(required=True, metadata={"enum": ["paid", "refunded", "waived"]})
    at = fields.DateTime(required=True)
    by = fields.String(allow_none=True)
    department = fields.String(required=True)
    business_key = fields.String(required=True)
    project_name = fields.String(allow_none=True)
    bill = fields.String(required=True)
    item = fields.String(required=True)
    fee_name = fields.String(required=True)
    legal_basis = fields.String(required=True)
    payer = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    reference = fields.String(allow_none=True)


class ReconciliationTotalsSchema(Schema):
    department = fields.String(required=True)
    name = fields.String(required=True)
    collected_fen = fields.Integer(required=True)
    refunded_fen = fields.Integer(required=True)
    waived_fen = fields.Integer(required=True)
    net_fen = fields.Integer(required=True, metadata={"description": "collected − refunded"})
    count = fields.Integer(required=True)


class ReconciliationSchema(Schema):
    date = fields.Date(required=True, attribute="day")
    department = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(ReconciliationRowSchema), required=True)
    totals = fields.List(fields.Nested(ReconciliationTotalsSchema), required=True)


class BillListQuerySchema(Schema):
    status = fields.String(load_default="due", validate=validate.OneOf([*rules.STATUSES, "all"]),
                           metadata={"description": "due (default), paid, refunded, waived, or all"})


class BillSummarySchema(Schema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    case_id = fields.String(required=True)
    business_key = fields.String(required=True)
    project_name = fields.String(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    batch = fields.Integer(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(rules.STATUSES)})
    status_name = fields.String(required=True)
    total_fen = fields.Integer(required=True)
    total_yuan = fields.String(required=True)
    departments = fields.List(fields.String(), required=True, metadata={"description": "the bodies whose fees it carries"})
    created_at = fields.DateTime(required=True)
    paid_at = fields.DateTime(allow_none=True)


class BillListSchema(Schema):
    items = fields.List(fields.Nested(BillSummarySchema), required=True)
    total = fields.Integer(required=True)


def summary_dict(row: service.BillRow) -> dict[str, Any]:
    bill, case = row.bill, row.case
    return {"id": bill.id, "number": bill.number, "case_id": case.id, "business_key": case.business_key,
            "project_name": case.name, "enterprise_name": (case.project or {}).get("enterprise_name"),
            "batch": bill.batch, "status": bill.status, "status_name": rules.STATUS_NAMES[bill.status],
            "total_fen": bill.total_fen, "total_yuan": rules.yuan(bill.total_fen), "departments": row.departments,
            "created_at": bill.created_at, "paid_at": bill.paid_at}


def bill_dict(view: service.BillView) -> dict[str, Any]:
    bill = view.bill
    data = {column.key: getattr(bill, column.key) for column in bill.__table__.columns if column.key != "open_key"}
    data.update(business_key=view.case.business_key, status_name=rules.STATUS_NAMES[bill.status],
                total_yuan=rules.yuan(bill.total_fen), items=view.items, payments=view.payments)
    return data


def dump_bill(view: service.BillView) -> dict[str, Any]:
    return BillSchema().dump(bill_dict(view))


def dump_case_fees(found: service.CaseFees) -> dict[str, Any]:
    return CaseFeesSchema().dump({
        "case_id": found.case.id, "business_key": found.case.business_key, "state": found.state,
        "total_due_fen": sum(v.bill.total_fen for v in found.bills if v.bill.status == rules.DUE),
        "items": found.items, "bills": [bill_dict(v) for v in found.bills]})
