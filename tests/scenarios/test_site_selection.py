"""Deyang's 220 kV substation: 4 candidate sites, 30 bodies at province, city and county level give
their opinions in parallel (in a random, seeded order), then the centre coordinates a decision."""
from __future__ import annotations

import random

from api.app import create_app
from engine.domain.organisation import Organisation
from tests.scenarios.story import Story

SITES = ["秋月一号站址", "秋月二号站址", "黄许站址", "孝泉站址"]


def thirty_bodies():
    organisation = Organisation.load()
    chain = {r.code for r in organisation.region_chain("pidu")}  # 郫都区, 成都市, 四川省
    codes = [d.code for d in organisation.list() if d.region in chain
             and d.kind not in ("service_centre", "government")]
    bodies = [{"department": code} for code in codes][:30]
    assert len(bodies) == 30
    assert {code.split(".")[0] for code in (b["department"] for b in bodies)} == {"province", "city", "county"}
    return bodies


def test_four_sites_thirty_bodies_three_levels_in_random_order(runtime):
    story = Story(create_app({"TESTING": True}, runtime=runtime).test_client(), runtime)
    story.deploy("site_selection.bpmn")
    bodies = thirty_bodies()
    story.start("site_selection", "2026-510600-44-01-000220", project={"project_name": "德阳秋月220千伏输变电工程"},
                variables={"sites": SITES, "bodies": bodies})
    tasks = story.open_tasks()
    assert len(tasks) == 30 and {t["department"] for t in tasks} == {b["department"] for b in bodies}
    rng = random.Random(220)
    rng.shuffle(tasks)
    for task in tasks:
        opinions = []
        for site in SITES:
            decision = "agree" if site == "黄许站址" else rng.choice(["agree", "conditional", "disagree"])
            opinions.append({"site": site, "decision": decision} if decision == "agree"
                            else {"site": site, "decision": decision, "opinion": "需避让基本农田"})
        story.complete(task, {"sites": opinions})
    summary = story.case()["variables"]["site_summary"]
    assert [row["site"] for row in summary] == SITES
    assert all(row["agree"] + row["conditional"] + row["disagree"] == 30 for row in summary)
    assert "黄许站址" in story.case()["variables"]["acceptable_sites"]
    # every body's opinion landed in its own item of the list
    assert all(len(b["site_opinion"]["sites"]) == 4 for b in story.case()["variables"]["bodies"])
    story.do("Coordinate", {"decision": "escalate", "instructions": "涉及市县两级用地调整，报市政府协调"})
    story.do("MunicipalDecision", {"decision": "resolved", "instructions": "确定黄许站址"})
    assert story.case()["status"] == "completed"
