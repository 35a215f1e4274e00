"""The demo's work group, questions and fees (issues 13 and 14), made with the engine's own verbs
like the rest of `onewindow demo load`: 投促局 adds the 并联审批 project to a work group, the
agent opens the enterprise contact's sign-in, the contact asks two questions — one answered
within the 24 hours, one left to run overdue into coordination as the demo clock walks to now —
and the planning bureau sets a fee the window collects, so the project, escalation, notification,
fee and statistics pages have something to show."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.domain.access import Actor
from engine.services import fees, projects, questions

if TYPE_CHECKING:
    from api.console.demo import Demo

PROMOTER = ("ma.tcj", "staff", "county.tcj", "郫都区投资促进局（把项目加入工作群）")
ENTERPRISE = ("li.qiye", "enterprise", None, "企业联系人（只能看本企业的项目）")


def add_work_group(demo: "Demo", code: str, name: str, enterprise: str, credit_code: str, agent: str) -> None:
    """投促局 adds the project; the agent links the contact's sign-in (made with the demo people)."""
    projects.add_project(demo.rt.unit_of_work(), demo.actors[PROMOTER[0]], {
        "code": code, "name": name, "enterprise": {"name": enterprise, "credit_code": credit_code},
        "contact": {"name": "李明", "phone": "13800000000"}, "agent": agent,
        "facts": {"investment": 30000, "industry": "制造业", "address": "四川省成都市郫都区德源街道"}})
    projects.create_enterprise_user(demo.rt.unit_of_work(), demo.actors[agent], ENTERPRISE[0], code)


def ask(demo: "Demo", code: str, text: str, departments: list[str]) -> int:
    question = questions.ask(demo.rt.unit_of_work(), demo.actors[ENTERPRISE[0]], code,
                             {"text": text, "departments": departments})
    return question.id


def answer(demo: "Demo", question_id: int, who: Actor, text: str, opinion: str) -> None:
    questions.answer(demo.rt.unit_of_work(), who, question_id, {"answer": text, "preliminary_opinion": opinion})


def set_fee(demo: "Demo", case_id: str, department: str, fee_name: str, legal_basis: str, amount_fen: int) -> str:
    """The body's fee on its approval item of the case; the bill's id."""
    who = demo.staff_of[department]
    with demo.rt.unit_of_work(write=False) as uow:
        item = next(i for i in fees.approval_items(uow, case_id) if i.department == department)
    fee, _ = fees.add_fee(demo.rt.unit_of_work(), who, case_id, {"item": item.key, "fee_name": fee_name,
                                                                 "legal_basis": legal_basis, "amount_fen": amount_fen})
    return fee.bill_id


def pay_at_window(demo: "Demo", bill_id: str, agent: str) -> None:
    fees.pay_bill(demo.rt.unit_of_work(), demo.actors[agent], bill_id, "window")
