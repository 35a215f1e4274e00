"""One-window fee payment (一窗缴费) through the REST API: bodies set their items' fees, the window
collects one bill, a decision waits for its fee, refunds and waivers follow the rules, the
gateway's confirmation counts once, and each body's day reconciles."""
from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import deploy_file

API = "/api/v1"
CODE = "2026-510117-34-01-000077"
LAND = {"code": "land_planning_permit", "name": "建设用地规划许可证", "department": "county.zrzyj"}
APPROVAL = {"code": "project_approval", "name": "项目审批/核准/备案", "department": "county.fgj"}
LAND_FEE = {"item": "land_planning_permit", "fee_name": "城市基础设施配套费",
            "legal_basis": "川发改价格〔2019〕XX号", "amount_fen": 1_234_550}


@pytest.fixture
def case(runtime, client, api_users):
    deploy_file(runtime, "fee_items.bpmn")
    api_users.create("window", "staff", "county.zwfw")
    api_users.create("window-leader", "leader", "county.zwfw")
    api_users.create("zrzyj-leader", "leader", "county.zrzyj")
    response = client.post(f"{API}/cases", headers=api_users.header("alice"), json={
        "process_key": "fee_items", "business_key": CODE,
        "project": {"project_name": "郫都精密零件厂", "enterprise_name": "成都精密零件有限公司"},
        "variables": {"items": [LAND, APPROVAL]}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def tasks(client, api_users, case):
    found = client.get(f"{API}/tasks?case_id={case}", headers=api_users.header("root")).get_json()["items"]
    return {t["item"]["code"]: t for t in found}


def add_fee(client, api_users, case, who="zrzyj", **changes):
    return client.post(f"{API}/cases/{case}/fees", headers=api_users.header(who), json={**LAND_FEE, **changes})


def test_a_body_sets_its_fee_and_the_window_collects_the_bill_once(client, api_users, case, runtime):
    listed = client.get(f"{API}/cases/{case}/fees", headers=api_users.header("alice")).get_json()
    assert listed["state"] == "none" and listed["bills"] == []
    assert {i["key"]: i["department"] for i in listed["items"]} == {
        "land_planning_permit": "county.zrzyj", "project_approval": "county.fgj"}

    created = add_fee(client, api_users, case)
    assert created.status_code == 201, created.get_json()
    bill = created.get_json()["bill"]
    assert created.headers["Location"] == f"{API}/bills/{bill['id']}"
    assert (bill["status"], bill["status_name"], bill["total_fen"], bill["total_yuan"]) == ("due", "待缴", 1_234_550, "12,345.50")
    assert bill["items"][0]["payer"] == "成都精密零件有限公司"  # default payer: the enterprise
    second = add_fee(client, api_users, case, who="fgj", item="project_approval", fee_name="登记费",
                     legal_basis="价费字〔1992〕XX号", amount_fen=50_000, payer="成都精密零件有限公司（代缴）")
    assert second.get_json()["bill"]["id"] == bill["id"]  # one bill per case
    assert second.get_json()["bill"]["total_fen"] == 1_284_550

    paid = client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"), json={"channel": "window"})
    assert paid.status_code == 200, paid.get_json()
    body = paid.get_json()
    assert body["settled"] is True and body["bill"]["status"] == "paid" and body["bill"]["paid_by"] == "alice"
    reference = body["bill"]["payment_reference"]
    assert reference.startswith("LOCAL-") and body["payment"]["reference"] == reference

    again = client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"), json={})
    assert again.status_code == 409
    assert "already paid" in again.get_json()["detail"] and reference in again.get_json()["detail"]

    # A fee set after payment goes on a new (supplementary) bill.
    later = add_fee(client, api_users, case, fee_name="测绘成果审核费", amount_fen=20_000).get_json()["bill"]
    assert later["id"] != bill["id"] and later["status"] == "due" and later["total_fen"] == 20_000
    summary = client.get(f"{API}/cases/{case}/fees", headers=api_users.header("alice")).get_json()
    assert summary["state"] == "due" and summary["total_due_fen"] == 20_000
    assert [b["status"] for b in summary["bills"]] == ["paid", "due"]

    history = client.get(f"{API}/cases/{case}/history", headers=api_users.header("root")).get_json()
    kinds = [e["type"] for e in (history["items"] if isinstance(history, dict) else history)]
    assert kinds.count("fee_item_added") == 3 and kinds.count("fee_bill_paid") == 1


def test_bad_fee_items_name_the_field_and_change_nothing(client, api_users, case):
    for changes, field in [({"amount_fen": 12.5}, "amount_fen"), ({"amount_fen": "100"}, "amount_fen"),
                           ({"amount_fen": 0}, "amount_fen"), ({"legal_basis": ""}, "legal_basis"),
                           ({"item": "no_such_item"}, "item")]:
        response = add_fee(client, api_users, case, **changes)
        assert response.status_code == 422, (changes, response.get_json())
        assert field in response.get_json()["errors"], (changes, response.get_json())
    missing = client.post(f"{API}/cases/{case}/fees", headers=api_users.header("zrzyj"),
                          json={"item": "land_planning_permit"})
    assert missing.status_code == 422
    assert {"fee_name", "legal_basis", "amount_fen"} <= set(missing.get_json()["errors"])
    assert client.get(f"{API}/cases/{case}/fees", headers=api_users.header("alice")).get_json()["bills"] == []


def test_each_body_sets_fees_of_its_own_items_only_and_the_window_pays(client, api_users, case):
    other_body = add_fee(client, api_users, case, who="fgj")  # the land item is zrzyj's
    assert other_body.status_code == 403
    assert add_fee(client, api_users, case, who="alice").status_code == 403  # agents do not set fees
    unseen = client.get(f"{API}/cases/{case}/fees", headers=api_users.header("bob"))
    assert unseen.status_code == 403  # another agent's case
    bill = add_fee(client, api_users, case).get_json()["bill"]
    assert client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("zrzyj")).status_code == 403
    assert client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("bob")).status_code == 403
    # The service centre's window staff collect it.
    paid = client.post(f"{API}/bills/{bill['number']}/pay", headers=api_users.header("window"))
    assert paid.status_code == 200 and paid.get_json()["bill"]["paid_by"] == "window"
    # A paid bill's fees are fixed.
    fee_id = bill["items"][0]["id"]
    removed = client.delete(f"{API}/fee-items/{fee_id}", headers=api_users.header("zrzyj"))
    assert removed.status_code == 409 and "paid" in removed.get_json()["detail"]


def test_a_wrong_fee_is_removed_while_due_and_an_empty_bill_goes(client, api_users, case):
    bill = add_fee(client, api_users, case, amount_fen=999).get_json()["bill"]
    fee_id = bill["items"][0]["id"]
    assert client.delete(f"{API}/fee-items/{fee_id}", headers=api_users.header("fgj")).status_code == 403
    removed = client.delete(f"{API}/fee-items/{fee_id}", headers=api_users.header("zrzyj"))
    assert removed.status_code == 200 and removed.get_json() == {"bill": None}
    assert client.get(f"{API}/bills/{bill['id']}", headers=api_users.header("alice")).status_code == 404


def test_the_decision_waits_for_its_fee(client, api_users, case):
    land = tasks(client, api_users, case)["land_planning_permit"]
    approval = tasks(client, api_users, case)["project_approval"]
    url = f"{API}/tasks/{land['id']}/complete"
    blocked = client.post(url, headers=api_users.header("zrzyj"), json={"data": {"decision": "approve"}})
    assert blocked.status_code == 409 and "no fee is set yet" in blocked.get_json()["detail"]
    bill = add_fee(client, api_users, case).get_json()["bill"]
    blocked = client.post(url, headers=api_users.header("zrzyj"), json={"data": {"decision": "approve"}})
    assert blocked.status_code == 409
    assert bill["number"] in blocked.get_json()["detail"] and "12,345.50" in blocked.get_json()["detail"]
    # The other item does not require its fee first.
    done = client.post(f"{API}/tasks/{approval['id']}/complete", headers=api_users.header("fgj"), json={"data": {}})
    assert done.status_code == 200, done.get_json()
    client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"))
    done = client.post(url, headers=api_users.header("zrzyj"), json={"data": {"decision": "approve"}})
    assert done.status_code == 200, done.get_json()


def test_refund_and_waiver_follow_the_states(client, api_users, case):
    bill = add_fee(client, api_users, case).get_json()["bill"]
    url = f"{API}/bills/{bill['id']}"
    unpaid_refund = client.post(f"{url}/refund", headers=api_users.header("alice"), json={"reason": "重复收费"})
    assert unpaid_refund.status_code == 409 and "unpaid" in unpaid_refund.get_json()["detail"]
    no_reason = client.post(f"{url}/waive", headers=api_users.header("window-leader"), json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    assert client.post(f"{url}/waive", headers=api_users.header("window"),
                       json={"reason": "x"}).status_code == 403  # staff, not a leader
    assert client.post(f"{url}/waive", headers=api_users.header("fgj-leader"),
                       json={"reason": "x"}).status_code == 403  # not their fee
    waived = client.post(f"{url}/waive", headers=api_users.header("zrzyj-leader"),
                         json={"reason": "小微企业减免（川财税〔2020〕XX号）"})
    assert waived.status_code == 200, waived.get_json()
    assert (waived.get_json()["status"], waived.get_json()["waived_by"]) == ("waived", "zrzyj-leader")
    pay = client.post(f"{url}/pay", headers=api_users.header("alice"))
    assert pay.status_code == 409 and "waived" in pay.get_json()["detail"]
    land = tasks(client, api_users, case)["land_planning_permit"]
    assert client.post(f"{API}/tasks/{land['id']}/complete", headers=api_users.header("zrzyj"),
                       json={"data": {}}).status_code == 200  # a waived fee counts as settled

    second = add_fee(client, api_users, case, item="project_approval", who="fgj").get_json()["bill"]
    client.post(f"{API}/bills/{second['id']}/pay", headers=api_users.header("alice"))
    waive_paid = client.post(f"{API}/bills/{second['id']}/waive", headers=api_users.header("root"),
                             json={"reason": "x"})
    assert waive_paid.status_code == 409 and "refund it instead" in waive_paid.get_json()["detail"]
    refunded = client.post(f"{API}/bills/{second['id']}/refund", headers=api_users.header("alice"),
                           json={"reason": "项目取消"})
    assert refunded.status_code == 200
    assert refunded.get_json()["status"] == "refunded" and refunded.get_json()["refund_reference"].startswith("LOCALR-")
    twice = client.post(f"{API}/bills/{second['id']}/refund", headers=api_users.header("alice"), json={"reason": "x"})
    assert twice.status_code == 409


def test_an_online_payment_is_confirmed_once_by_the_gateways_callback(client, api_users, case, runtime):
    bill = add_fee(client, api_users, case).get_json()["bill"]
    started = client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"), json={"channel": "online"})
    assert started.status_code == 200
    assert started.get_json()["settled"] is False and started.get_json()["bill"]["status"] == "due"
    reference = started.get_json()["payment"]["reference"]
    again = client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"), json={"channel": "online"})
    assert again.get_json()["payment"]["reference"] == reference  # no second payment while one waits

    from engine.adapters.payment_gateway import gateway_for
    notice = gateway_for(runtime).simulate_callback(reference)
    forged = client.post(f"{API}/payments/callback", json={**notice, "amount_fen": 1})
    assert forged.status_code == 403
    first = client.post(f"{API}/payments/callback", json=notice)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["already"] is False and first.get_json()["bill"]["status"] == "paid"
    second = client.post(f"{API}/payments/callback", json=notice)
    assert second.status_code == 200 and second.get_json()["already"] is True
    history = client.get(f"{API}/cases/{case}/history", headers=api_users.header("root")).get_json()
    kinds = [e["type"] for e in (history["items"] if isinstance(history, dict) else history)]
    assert kinds.count("fee_bill_paid") == 1


def test_a_days_reconciliation_per_body_in_json_and_csv(client, api_users, case, clock):
    land = add_fee(client, api_users, case).get_json()["bill"]
    client.post(f"{API}/cases/{case}/fees", headers=api_users.header("fgj"),
                json={**LAND_FEE, "item": "project_approval", "fee_name": "登记费", "amount_fen": 50_000})
    client.post(f"{API}/bills/{land['id']}/pay", headers=api_users.header("alice"))
    query = "date=2026-03-02"
    mine = client.get(f"{API}/fees/reconciliation?{query}", headers=api_users.header("zrzyj")).get_json()
    assert [(r["kind"], r["amount_fen"], r["department"]) for r in mine["rows"]] == [("paid", 1_234_550, "county.zrzyj")]
    assert mine["totals"][0]["net_fen"] == 1_234_550
    everyone = client.get(f"{API}/fees/reconciliation?{query}", headers=api_users.header("root")).get_json()
    assert {t["department"]: t["collected_fen"] for t in everyone["totals"]} == {
        "county.zrzyj": 1_234_550, "county.fgj": 50_000}
    assert client.get(f"{API}/fees/reconciliation?{query}&department=county.fgj",
                      headers=api_users.header("zrzyj")).status_code == 403
    assert client.get(f"{API}/fees/reconciliation?{query}", headers=api_users.header("alice")).status_code == 403
    assert client.get(f"{API}/fees/reconciliation?date=2026-03-03",
                      headers=api_users.header("root")).get_json()["rows"] == []
    bad = client.get(f"{API}/fees/reconciliation?date=2026-02-30", headers=api_users.header("root"))
    assert bad.status_code == 422 and "date" in bad.get_json()["errors"]

    as_csv = client.get(f"{API}/fees/reconciliation?{query}&department=county.zrzyj",
                        headers={**api_users.header("zrzyj"), "Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    raw = as_csv.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["日期", "部门编码", "部门"]
    assert rows[1][1] == "county.zrzyj" and rows[1][7] == "城市基础设施配套费" and rows[1][11] == "12345.50"
    assert rows[1][10] == "收款" and rows[-1][10].startswith("合计")


def test_reconcile_from_the_command_line(app, client, api_users, case, tmp_path):
    bill = add_fee(client, api_users, case).get_json()["bill"]
    client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"))
    runner = app.test_cli_runner()
    target = tmp_path / "zrzyj.csv"
    done = runner.invoke(args=["fees", "reconcile", "--date", "2026-03-02", "--department", "county.zrzyj",
                               "-o", str(target)])
    assert done.exit_code == 0, done.output
    text = target.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff日期,部门编码") and "城市基础设施配套费" in text and "12345.50" in text
    as_json = runner.invoke(args=["fees", "reconcile", "--date", "2026-03-02", "--format", "json"])
    assert as_json.exit_code == 0 and '"net_fen": 1234550' in as_json.output
    bad = runner.invoke(args=["fees", "reconcile", "--date", "2026-13-01"])
    assert bad.exit_code == 2 and "is not a date" in bad.output
    unknown = runner.invoke(args=["fees", "reconcile", "--date", "2026-03-02", "--department", "nowhere"])
    assert unknown.exit_code == 1 and "not a known department" in unknown.output


# who: (GET fees, POST fee on the land item, pay, waive, reconciliation)
MATRIX = {
    "root": (200, 201, 200, 200, 200),
    "dora": (403, 403, 403, 403, 403),
    "alice": (200, 403, 200, 403, 403),
    "bob": (403, 403, 403, 403, 403),
    "zrzyj": (200, 201, 403, 403, 200),
    "fgj": (200, 403, 403, 403, 200),
    "zrzyj-leader": (200, 201, 403, 200, 200),
    "fgj-leader": (200, 403, 403, 403, 200),
    "window": (200, 403, 200, 403, 200),
    "window-leader": (200, 403, 200, 200, 200),
    "gov": (200, 403, 403, 403, 200),
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_who_may_do_what_with_fees(client, api_users, case, who):
    expected = MATRIX[who]
    got = [client.get(f"{API}/cases/{case}/fees", headers=api_users.header(who)).status_code,
           add_fee(client, api_users, case, who=who).status_code]
    bill = add_fee(client, api_users, case).get_json()["bill"]["id"]  # zrzyj's, on the one due bill
    got.append(client.post(f"{API}/bills/{bill}/pay", headers=api_users.header(who)).status_code)
    second = add_fee(client, api_users, case).get_json()["bill"]["id"]  # a new due bill after payment, if any
    got.append(client.post(f"{API}/bills/{second}/waive", headers=api_users.header(who),
                           json={"reason": "减免"}).status_code)
    got.append(client.get(f"{API}/fees/reconciliation?date=2026-03-02", headers=api_users.header(who)).status_code)
    assert tuple(got) == expected
    assert client.get(f"{API}/cases/{case}/fees").status_code == 401


def test_simultaneous_confirmations_and_fees_count_once(runtime, client, api_users, case):
    """Two bodies setting fees at the same instant share one bill; the gateway's notification
    arriving twice at once (a retry racing the first) settles the bill once."""
    import threading

    from engine.domain.access import Actor
    from engine.adapters.payment_gateway import gateway_for
    from engine.services import fees

    def at_once(*jobs):
        barrier, errors = threading.Barrier(len(jobs)), []

        def run(job):
            barrier.wait()
            try:
                with runtime.unit_of_work() as uow:
                    job(uow)
                    uow.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
        threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
        [t.start() for t in threads]
        [t.join(60) for t in threads]
        assert not errors, errors

    zrzyj, fgj = Actor("zrzyj", "staff", "county.zrzyj"), Actor("fgj", "staff", "county.fgj")
    at_once(lambda uow: fees.add_fee_item(uow, zrzyj, case, LAND_FEE),
            lambda uow: fees.add_fee_item(uow, fgj, case, {**LAND_FEE, "item": "project_approval"}))
    summary = client.get(f"{API}/cases/{case}/fees", headers=api_users.header("alice")).get_json()
    assert len(summary["bills"]) == 1 and summary["bills"][0]["total_fen"] == 2 * LAND_FEE["amount_fen"]

    bill = summary["bills"][0]["id"]
    pending = client.post(f"{API}/bills/{bill}/pay", headers=api_users.header("alice"), json={"channel": "online"})
    notice = gateway_for(runtime).simulate_callback(pending.get_json()["payment"]["reference"])
    at_once(lambda uow: fees.confirm_callback(uow, notice), lambda uow: fees.confirm_callback(uow, notice))
    history = client.get(f"{API}/cases/{case}/history", headers=api_users.header("root")).get_json()
    kinds = [e["type"] for e in (history["items"] if isinstance(history, dict) else history)]
    assert kinds.count("fee_bill_paid") == 1 and kinds.count("fee_bill_opened") == 1


def test_odd_callbacks_and_days_are_refused_cleanly(client, api_users, case):
    forged = client.post(f"{API}/payments/callback", json={"reference": "补正中", "status": "paid", "amount_fen": 1,
                                                          "signature": "签名"})
    assert forged.status_code == 403
    mistyped = client.post(f"{API}/payments/callback", json={"reference": "R1", "status": "paid", "amount_fen": "1",
                                                            "signature": "签名"})
    assert mistyped.status_code == 422 and set(mistyped.get_json()["errors"]) == {"amount_fen"}
    for day in ("0001-01-01", "9999-12-31"):
        response = client.get(f"{API}/fees/reconciliation?date={day}", headers=api_users.header("root"))
        assert response.status_code == 422 and "date" in response.get_json()["errors"]


def test_cash_at_the_window_after_an_unused_qr_code_abandons_the_online_payment(client, api_users, case, runtime):
    bill = add_fee(client, api_users, case).get_json()["bill"]
    online = client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"),
                         json={"channel": "online"}).get_json()["payment"]["reference"]
    cash = client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"), json={"channel": "window"})
    assert cash.get_json()["settled"] is True and cash.get_json()["payment"]["reference"] != online
    assert {p["reference"]: p["status"] for p in cash.get_json()["bill"]["payments"]}[online] == "abandoned"
    from engine.adapters.payment_gateway import gateway_for
    late = client.post(f"{API}/payments/callback", json=gateway_for(runtime).simulate_callback(online))
    assert late.status_code == 409 and "abandoned" in late.get_json()["detail"] and "refunded" in late.get_json()["detail"]


def test_fees_do_not_change_under_a_payment_in_progress(client, api_users, case):
    bill = add_fee(client, api_users, case).get_json()["bill"]
    client.post(f"{API}/bills/{bill['id']}/pay", headers=api_users.header("alice"), json={"channel": "online"})
    more = add_fee(client, api_users, case, fee_name="测绘成果审核费", amount_fen=100)
    assert more.status_code == 409 and "being paid online" in more.get_json()["detail"]
    fewer = client.delete(f"{API}/fee-items/{bill['items'][0]['id']}", headers=api_users.header("zrzyj"))
    assert fewer.status_code == 409
    assert client.get(f"{API}/bills/{bill['id']}", headers=api_users.header("alice")).get_json()["total_fen"] == 1_234_550


def test_each_sees_the_bills_it_deals_with(client, api_users, case):
    add_fee(client, api_users, case)
    def numbers(who, status=""):
        response = client.get(f"{API}/bills{status}", headers=api_users.header(who))
        assert response.status_code == 200, response.get_json()
        return [(b["business_key"], b["status"], b["departments"]) for b in response.get_json()["items"]]
    due = [(CODE, "due", ["county.zrzyj"])]
    assert numbers("alice") == numbers("window") == numbers("zrzyj") == numbers("root") == due
    assert numbers("bob") == [] and numbers("fgj") == []
    assert client.get(f"{API}/bills", headers=api_users.header("dora")).status_code == 403
    assert client.get(f"{API}/bills?status=nope", headers=api_users.header("root")).status_code == 422
    bill = client.get(f"{API}/bills", headers=api_users.header("alice")).get_json()["items"][0]["id"]
    client.post(f"{API}/bills/{bill}/pay", headers=api_users.header("alice"))
    assert numbers("window") == [] and numbers("window", "?status=paid") == [(CODE, "paid", ["county.zrzyj"])]
    assert len(numbers("root", "?status=all")) == 1
