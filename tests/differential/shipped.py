"""Scenarios for the shipped processes (processes/*.bpmn) with payloads valid for forms/*.json."""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from tests.differential.harness import Scenario
from tests.scenarios.story import agreement, materials, registration

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
SITES = ["秋月一号站址", "秋月二号站址", "黄许站址", "孝泉站址"]
PLANT, CODE = "德阳玉龙钢管厂（一期）", "2026-510117-33-03-000321"


def _pick(text: str, choices: list[Any]) -> Any:
    """A deterministic choice (the same in every run and process)."""
    return choices[zlib.crc32(text.encode()) % len(choices)]


def bodies(count: int) -> list[dict[str, str]]:
    from engine.domain.organisation import Organisation
    codes = [d.code for d in Organisation.load().list() if d.code not in ("city.zwfw", "county.zwfw", "city.zf")]
    return [{"department": codes[i % len(codes)], "name": f"body-{i:02d}"} for i in range(count)]


def site_opinion(item: Any, n: int) -> dict[str, Any]:
    opinions = []
    for site in SITES:
        decision = "agree" if site == "黄许站址" else _pick(f"{item['name']}{site}", ["agree", "conditional", "disagree"])
        opinions.append({"site": site, "decision": decision} if decision == "agree"
                        else {"site": site, "decision": decision, "opinion": "需避让基本农田"})
    return {"sites": opinions}


def site_selection(count: int = 35, escalate: bool = True) -> Scenario:
    return Scenario(
        name=f"site_selection_{count}x4", files={"site_selection.bpmn": (PROCESSES / "site_selection.bpmn").read_bytes()},
        process="site_selection", project={"project_name": "德阳秋月220千伏输变电工程"},
        variables={"sites": SITES, "bodies": bodies(count)},
        data={"SiteOpinion": site_opinion,
              "Coordinate": {"decision": "escalate" if escalate else "resolved", "instructions": "报市政府协调"},
              "MunicipalDecision": {"decision": "resolved", "instructions": "确定黄许站址"}})


def item_decision(item: Any, n: int) -> dict[str, Any]:
    """Each approval item gets a decision that depends on its code: most approve, one needs
    correction first, one is approved pending materials, one is refused once then resubmitted."""
    code = (item or {}).get("code", "")
    if code == "land_planning_permit" and n == 1:
        return {"decision": "correction", "opinion": "总平面图与规划条件不符", "conditions": ["修改后的总平面图"]}
    if code == "fire_design_review":
        return {"decision": "approve_pending_materials", "opinion": "补交消防设施清单", "conditions": ["消防设施清单"]}
    if code == "design_review" and n == 1:
        return {"decision": "refuse", "opinion": "容积率超标"}
    return {"decision": "approve", "opinion": "同意"}


def one_window_agency(stages: list[str] | None = None, commitment: bool = True, auxiliary: bool = True,
                      name: str = "one_window_agency") -> Scenario:
    intake = ({"decision": "accept_with_commitment", "missing_materials": [{"name": "节能报告"}],
               "commitment_due": "2026-04-01"} if commitment else {"decision": "accept"})
    aux_items = [{"name": "附属仓库消防设计审查", "department": "county.zjj", "time_limit": "15 working days",
                  "code": "aux_fire"}]
    # 分期报建: a batch of auxiliary items arrives as a message once the window has accepted the case
    steps = ([{"complete": "Register"}, {"complete": "Agreement"}, {"complete": "PreReview"},
              {"complete": "PrepareMaterials"}, {"complete": "PreReview"}, {"complete": "Intake"},
              {"message": "auxiliary_batch", "payload": {"facility": "附属仓库", "items": aux_items}},
              {"auto": 400}] if auxiliary else None)
    return Scenario(
        name=name, files={"one_window_agency.bpmn": (PROCESSES / "one_window_agency.bpmn").read_bytes()},
        process="one_window_agency", project={"project_name": PLANT}, steps=steps, business_key=CODE,
        data={
            "Register": registration(PLANT, CODE, stages),
            "Agreement": agreement(stages),
            "PreReview": [{"materials": [{"name": "营业执照", "checked": True}], "complete": False,
                           "missing": [{"name": "项目可行性研究报告", "reason": "未提供"}]},
                          {"materials": [{"name": "项目可行性研究报告", "checked": True}], "complete": True}],
            "PrepareMaterials": materials("项目可行性研究报告"),
            "Intake": intake,
            "SupplyMissing": materials("节能报告"),
            "VerifyMissing": {"materials": [{"name": "节能报告", "checked": True}], "complete": True},
            "ItemAccept": {"decision": "accept"},
            "ItemReview": item_decision,
            "ItemReviewCorrection": materials("修改后的总平面图"),
            "ItemAcceptCorrection": materials("补正材料"),
            "SupplyPending": materials("消防设施清单"),
            "AfterRefusal": {"action": "resubmit", "note": "调整容积率后重新申报"},
            "Closure": {"outcome": "completed", "files_handed_over": ["施工许可证", "竣工验收备案表"]},
        })


def enterprise_enquiry() -> Scenario:
    return Scenario(
        name="enterprise_enquiry", files={"enterprise_enquiry.bpmn": (PROCESSES / "enterprise_enquiry.bpmn").read_bytes()},
        process="enterprise_enquiry", project={"project_name": PLANT},
        variables={"department": "county.zrzyj", "question": "用地红线能否调整？"},
        steps=[{"advance": {"hours": 30}}, {"complete": "AnswerEnquiry",
                                            "data": {"answer": "可以调整", "preliminary_opinion": "同意按程序办理"}}])


def shipped_scenarios() -> list[Scenario]:
    return [site_selection(35), site_selection(5, escalate=False), one_window_agency(),
            one_window_agency(stages=["stage1_project_land", "stage2_works_permit"], commitment=False,
                              auxiliary=False, name="one_window_agency_stages12"),
            enterprise_enquiry()]
