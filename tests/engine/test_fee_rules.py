"""The rules of one-window fees without HTTP: amounts in fen, the bill's state machine, item keys,
and which tasks wait for their fee."""
from __future__ import annotations

import pytest

from engine.domain import fees as rules
from engine.errors import Conflict, Invalid
from engine.services.fees import _gate_on
from engine.adapters.models import Task


def test_yuan_is_exact():
    assert rules.yuan(0) == "0.00" and rules.yuan(5) == "0.05" and rules.yuan(123456789) == "1,234,567.89"
    assert rules.yuan(-1050) == "-10.50"


@pytest.mark.parametrize("status, action, after", [("due", "pay", "paid"), ("paid", "refund", "refunded"),
                                                   ("due", "waive", "waived")])
def test_the_allowed_transitions(status, action, after):
    assert rules.transition("JF1", status, action) == after


@pytest.mark.parametrize("status, action, words", [
    ("paid", "pay", "already paid (已缴, payment reference R1)"), ("waived", "pay", "waived (减免)"),
    ("refunded", "pay", "refunded (已退)"), ("due", "refund", "unpaid (待缴); only a paid bill can be refunded"),
    ("waived", "refund", "only a paid bill"), ("paid", "waive", "refund it instead"),
    ("refunded", "waive", "only an unpaid bill can be waived")])
def test_every_refused_transition_says_why(status, action, words):
    with pytest.raises(Conflict) as raised:
        rules.transition("JF1", status, action, "R1")
    assert words in raised.value.detail and "JF1" in raised.value.detail


def test_a_fee_item_names_each_bad_field():
    with pytest.raises(Invalid) as raised:
        rules.check_fee_item({"item": " ", "amount_fen": True, "legal_basis": "x" * 501, "colour": "red"})
    assert set(raised.value.errors) == {"item", "fee_name", "legal_basis", "amount_fen", "colour"}
    assert rules.check_fee_item({"item": "eia", "fee_name": " 审查费 ", "legal_basis": "文件", "amount_fen": 1}) == {
        "item": "eia", "fee_name": "审查费", "legal_basis": "文件", "amount_fen": 1}


def test_item_keys_and_batches():
    assert rules.item_key({"code": "eia", "name": "环评"}) == "eia"
    assert rules.item_key({"name": "门卫室规划许可", "batch": 2}) == "b2/门卫室规划许可"
    assert rules.item_key({"value": 3}) is None and rules.item_batch({"batch": True}) is None


def _task(item):
    return Task(id="t", case_id="c", element_id="E", item=item, department="county.zrzyj")


def test_only_elements_that_declare_the_gate_wait_for_the_fee():
    declared = {"properties": {"item": "item", "fee_required": "${item.get('code') == 'eia'}"}}
    assert _gate_on(_task({"code": "eia"}), declared)
    assert not _gate_on(_task({"code": "design_review"}), declared)
    assert not _gate_on(_task({"code": "design_review", "fee_required": "false"}), {"properties": {"fee_required": "true"}})
    assert _gate_on(_task({"code": "design_review", "fee_required": True}), {"properties": {"fee_required": "false"}})
    # An item that requires its fee does not make its acceptance (no property) wait.
    assert not _gate_on(_task({"code": "eia", "fee_required": True}), {"properties": {"item": "item"}})
    assert not _gate_on(_task({"code": "eia"}), None)
