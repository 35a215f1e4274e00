"""One-window fee payment (一窗缴费): a case's fees and bills, paying, refunding and waiving a bill,
the payment gateway's callback, and the daily reconciliation per body (JSON or CSV)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, request

from api.csv_download import csv_file, wants_csv
from api.routes import API_PREFIX
from api.operation import operation
from api.runtime import runtime
from api.schemas.fees import (CallbackResultSchema, CallbackSchema, CaseFeesSchema, FeeItemCreatedSchema,
                              FeeItemCreateSchema, FeeItemRemovedSchema, FeeItemSchema, PayBodySchema,
                              PayResultSchema, BillReasonSchema, ReconciliationQuerySchema, ReconciliationSchema,
                              BillSchema, BillListQuerySchema, BillListSchema, bill_dict, dump_bill,
                              dump_case_fees, summary_dict)
from engine.services import fees

blueprint = Blueprint("fees", __name__)
TAGS = ["fees"]


@blueprint.get("/cases/<case_id>/fees")
@operation("A case's fees: its approval items, bills and fee items", tags=TAGS, response=CaseFeesSchema,
           description="Whoever may see the case. `state`: none (no fees), due (something to pay), settled.")
def case_fees(actor, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return dump_case_fees(fees.case_fees(uow, actor, case_id))


@blueprint.post("/cases/<case_id>/fees")
@operation("Set a fee of one of the body's approval items (收费项目)", tags=TAGS, body=FeeItemCreateSchema,
           response=FeeItemCreatedSchema, status=201, conflicts=True,
           response_headers={201: {"Location": {"description": "the bill", "schema": {"type": "string"}}}},
           description="Staff or leaders of the item's body (admins: any). The fee goes on the case's due bill "
                       "(one per case, one per auxiliary batch; a new bill once the last was paid). 422 names "
                       "the field (`item` not an approval item of the case, `amount_fen` not whole fen); 409 when "
                       "the case is closed.")
def add_fee(actor, body, case_id):  # type: ignore[no-untyped-def]
    fee, view = fees.add_fee(runtime().unit_of_work(), actor, case_id, body)
    result = {"fee_item": FeeItemSchema().dump(fee), "bill": dump_bill(view)}
    return result, 201, {"Location": f"{API_PREFIX}/bills/{quote(view.bill.id)}"}


@blueprint.delete("/fee-items/<int:fee_item_id>")
@operation("Remove a fee while its bill is due", tags=TAGS, response=FeeItemRemovedSchema, conflicts=True,
           description="The fee's own body (admins: any); 409 once the bill is paid, refunded or waived.")
def remove_fee(actor, fee_item_id):  # type: ignore[no-untyped-def]
    view = fees.remove_fee_item(runtime().unit_of_work(), actor, fee_item_id)
    return {"bill": dump_bill(view) if view.items else None}


@blueprint.get("/bills")
@operation("Bills to collect or that carry the caller's fees", tags=TAGS, query=BillListQuerySchema,
           response=BillListSchema,
           description="The window (an agent: its cases; a service centre: its region's and the lower regions' "
                       "cases it oversees) the bills it collects; a body the bills carrying its fees; admins all. "
                       "Oldest first, at most 500.")
def list_bills(actor, query):  # type: ignore[no-untyped-def]
    status = None if query["status"] == "all" else query["status"]
    with runtime().unit_of_work(write=False) as uow:
        rows = fees.list_bills(uow, actor, status)
        return BillListSchema().dump({"items": [summary_dict(r) for r in rows], "total": len(rows)})


@blueprint.get("/bills/<bill_id>")
@operation("One bill (by id or number) with its fee items and payments", tags=TAGS, response=BillSchema)
def get_bill(actor, bill_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return dump_bill(fees.get_bill(uow, actor, bill_id))


@blueprint.post("/bills/<bill_id>/pay")
@operation("Collect a bill at the window through the payment gateway", tags=TAGS, body=PayBodySchema,
           body_required=False, response=PayResultSchema, conflicts=True,
           description="The case's agent or its service centre's staff (admins). `window` settles at once; "
                       "`online` returns a pending payment that the gateway's callback settles. Asking again "
                       "while an online payment waits returns the same payment. 409 names the state that "
                       "refuses it (already paid with reference …, waived, refunded).")
def pay(actor, body, bill_id):  # type: ignore[no-untyped-def]
    result = fees.pay_bill(runtime().unit_of_work(), actor, bill_id, body.get("channel", "window"))
    return PayResultSchema().dump({"settled": result.settled, "payment": result.payment,
                                   "bill": bill_dict(result.view)})


@blueprint.post("/bills/<bill_id>/refund")
@operation("Refund a paid bill (退费) through the gateway", tags=TAGS, body=BillReasonSchema, response=BillSchema,
           conflicts=True, description="The case's window (its agent, its service centre's staff) or an admin; "
                                       "409 unless the bill is paid (an unpaid bill cannot be refunded).")
def refund(actor, body, bill_id):  # type: ignore[no-untyped-def]
    return dump_bill(fees.refund_bill(runtime().unit_of_work(), actor, bill_id, body["reason"]))


@blueprint.post("/bills/<bill_id>/waive")
@operation("Waive an unpaid bill (减免) with its reason", tags=TAGS, body=BillReasonSchema, response=BillSchema,
           conflicts=True, description="A leader of the case's service centre, or of the body that levies "
                                       "every fee on the bill; admins. 409 unless the bill is due.")
def waive(actor, body, bill_id):  # type: ignore[no-untyped-def]
    return dump_bill(fees.waive_bill(runtime().unit_of_work(), actor, bill_id, body["reason"]))


@blueprint.post("/payments/callback")
@operation("The payment gateway's notification that a payment was made", tags=TAGS, body=CallbackSchema,
           response=CallbackResultSchema, auth=False, conflicts=True,
           problems=(403,),
           description="Called by the payment provider, not by people: authenticated by the gateway's "
                       "signature (403 when it does not match). The same reference twice counts once "
                       "(`already`: true).")
def callback(body):  # type: ignore[no-untyped-def]
    confirmation = fees.confirm_callback(runtime().unit_of_work(), body)
    return CallbackResultSchema().dump({"already": confirmation.already, "bill": bill_dict(confirmation.view)})


@blueprint.get("/fees/reconciliation")
@operation("A day's fee reconciliation per body (对账): collected, refunded, waived", tags=TAGS,
           query=ReconciliationQuerySchema, response_media={
               "application/json": {"schema": ReconciliationSchema},
               "text/csv": {"schema": {"type": "string"},
                            "example": "\ufeff日期,部门编码,部门,项目代码,项目名称,缴费单号,审批事项,收费项目,收费依据,缴款人,类型,金额（元）,支付流水号,时间,经办人"}},
           description="A body's staff: their body; a service centre's or government's staff: the bodies of "
                       "their region; admins: all. `format=csv` or `Accept: text/csv`: a spreadsheet, UTF-8 "
                       "with BOM, one row per fee and a total line per body.")
def reconciliation(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        found = fees.reconciliation(uow, actor, query["date"], query.get("department"))
    if wants_csv(query):
        return csv_file(fees.reconciliation_csv(found), fees.reconciliation_filename(found))
    return ReconciliationSchema().dump(found)
