"""The shipped decision (processes/approval_items.dmn) run by the shipped process
(processes/approval_checklist.bpmn) for projects whose approval items were worked out by hand."""
from __future__ import annotations

import ast

import pytest

from engine.services import cases
from engine.domain.access import Actor
from engine.services.definitions import deploy_files
from engine.adapters.queries import case_variables
from engine.adapters.models import Case
from tests.engine.test_dmn_decisions import AGENT, DESIGNER

PROCESSES = __import__("pathlib").Path(__file__).resolve().parents[2] / "processes"
FILES = ("approval_checklist.bpmn", "approval_items.dmn")

STAGE3_4 = ["drawing_review", "fire_design_review", "construction_permit", "joint_acceptance", "completion_filing"]


def checklist(runtime, answers: dict, business_key: str = "2026-510117-34-01-000001") -> tuple[list, str]:
    with runtime.unit_of_work() as uow:
        deploy_files(uow, DESIGNER, [((PROCESSES / name).read_bytes(), name) for name in FILES])
        started = cases.start_case(uow, AGENT, "approval_checklist", business_key,
                                   project={"project_name": answers["project_name"]})
        [profile] = [t for t in cases.case_tasks(uow, started.case.id) if t.state == "ready"]
        cases.complete_task(uow, AGENT, profile.id, answers)
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        row = uow.session.get(Case, started.case.id)
        [confirm] = [t for t in cases.case_tasks(uow, row.id) if t.state == "ready"]
        return case_variables(uow, row)["approval_items"], confirm.element_id


def codes(items: list[dict]) -> list[str]:
    return [item["code"] for item in items]


def test_a_filed_factory_on_transferred_land(runtime):
    """企业备案类 · 出让 · 8,000 万元: 备案, no 选址/划拨, 能评 (≥ 5,000), EIA 报告表 at the county."""
    items, next_step = checklist(runtime, {"project_name": "德阳玉龙钢管厂（一期）", "project_type": "filing",
                                           "land_use": "transferred", "investment": 8000, "hazardous": False})
    assert next_step == "ConfirmChecklist"
    assert codes(items) == ["project_filing", "land_planning_permit", "energy_review", "eia", "design_review",
                            "works_planning_permit", *STAGE3_4]
    assert items[0] == {"code": "project_filing", "name": "企业投资项目备案", "department": "county.fgj",
                        "stage": "stage1_project_land", "time_limit": "3 working days"}
    assert [i["department"] for i in items if i["code"] == "eia"] == ["county.sthjj"]


def test_a_large_government_project_on_allocated_land(runtime):
    """政府投资 · 划拨 · 12 亿元: 审批, 用地预审与选址, 划拨决定书, EIA 报告书 at the city."""
    items, _ = checklist(runtime, {"project_name": "郫都区人民医院新院区", "project_type": "government",
                                   "land_use": "allocated", "investment": 120000, "hazardous": False})
    assert codes(items) == ["project_approval", "site_land_pre_review", "land_allocation", "land_planning_permit",
                            "energy_review", "eia", "design_review", "works_planning_permit", *STAGE3_4]
    eia = next(i for i in items if i["code"] == "eia")
    assert (eia["name"], eia["department"], eia["time_limit"]) == ("环境影响评价审批（报告书）", "city.sthjj", "60 days")


def test_a_small_hazardous_renovation_on_existing_land(runtime):
    """核准 · 存量自有用地 · 20 万元 · 危化品: no land items, 安评 twice, no works permit below 30 万元."""
    items, _ = checklist(runtime, {"project_name": "危化品仓库改造", "project_type": "approval",
                                   "land_use": "existing", "investment": 20, "hazardous": True})
    assert codes(items) == ["project_approval", "eia", "safety_review", "safety_design_review", "design_review",
                            "works_planning_permit", "joint_acceptance"]
    assert items[0]["department"] == "county.fgj"


@pytest.mark.parametrize("investment, department, energy", [(99999.99, "county.fgj", True),
                                                            (100000, "province.fgw", True),
                                                            (4999.99, "county.fgj", False),
                                                            (5000, "county.fgj", True)])
def test_thresholds_of_approval_level_and_energy_review(runtime, investment, department, energy):
    items, _ = checklist(runtime, {"project_name": "项目", "project_type": "approval", "land_use": "transferred",
                                   "investment": investment, "hazardous": False})
    assert items[0]["code"] == "project_approval" and items[0]["department"] == department
    assert ("energy_review" in codes(items)) is energy


def test_every_department_of_the_table_is_a_known_body(runtime):
    from engine.domain.dmn.decision_files import read
    from engine.domain.bpmn.validation import parse_xml
    data = (PROCESSES / "approval_items.dmn").read_bytes()
    table = read(parse_xml(data, "approval_items.dmn"), "approval_items.dmn").tables["approval_items"]
    departments = {ast.literal_eval(rule.outputEntries[2].text) for rule in table.rules}
    assert departments and all(runtime.organisation.is_known(code) for code in departments)


def test_the_agent_confirms_the_decided_items_or_changes_them(runtime):
    items, _ = checklist(runtime, {"project_name": "德阳玉龙钢管厂（一期）", "project_type": "filing",
                                   "land_use": "existing", "investment": 800, "hazardous": False})
    with runtime.unit_of_work() as uow:
        [confirm] = [t for c in uow.session.query(Case).all() for t in cases.case_tasks(uow, c.id)
                     if t.state == "ready"]
        assert confirm.prefill == {"items": items}  # the form starts from the decision
        cases.complete_task(uow, AGENT, confirm.id, {"confirmed": True})
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        [row] = uow.session.query(Case).all()
        assert row.status == "completed"
        assert case_variables(uow, row)["checklist_confirmation"]["items"] == items


def test_the_diagram_marks_the_decision_with_a_table_not_a_gear():
    from engine.services.diagram import parse_layout, render_svg
    svg = render_svg(parse_layout((PROCESSES / "approval_checklist.bpmn").read_bytes(), "approval_checklist"))
    assert 'height="3.5"' in svg  # the table's header row
    assert 'stroke-dasharray="2.5 2"' not in svg  # a service task's gear
