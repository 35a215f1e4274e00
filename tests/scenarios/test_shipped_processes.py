"""Every shipped BPMN file deploys cleanly and carries full diagram interchange."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.domain.access import Actor
from engine.services.definitions import deploy_directory, latest_definition
from tests.scenarios.story import PROCESSES

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
FILES = sorted(PROCESSES.glob("*.bpmn"))
SHAPED = ("startEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent", "userTask", "scriptTask",
          "serviceTask", "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
          "inclusiveGateway", "eventBasedGateway", "lane", "participant")


def test_the_processes_directory_deploys_cleanly(runtime):
    results = deploy_directory(runtime.unit_of_work, Actor("dora", "designer"), PROCESSES)
    keys = {d.key for r in results for d in r.definitions}
    assert {"one_window_agency", "approval_item", "site_selection"} <= keys
    again = deploy_directory(runtime.unit_of_work, Actor("dora", "designer"), PROCESSES)
    assert not any(r.created for r in again)  # identical bytes: nothing new
    with runtime.unit_of_work(write=False) as uow:
        agency = latest_definition(uow, "one_window_agency")
    # the called item process travels with the case's definition, its tasks routed by the item
    assert agency.elements["ItemReview"]["candidateGroups"] == "${item['department']}"
    assert agency.elements["ItemReview"]["formKey"] == "approval_decision"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_element_has_a_shape_and_every_flow_an_edge(path):
    tree = etree.parse(str(path))
    shapes = {s.get("bpmnElement"): s for s in tree.iter(f"{{{DI}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in tree.iter(f"{{{DI}}}BPMNEdge")}
    for kind in SHAPED:
        for node in tree.iter(f"{{{BPMN}}}{kind}"):
            shape = shapes.get(node.get("id"))
            assert shape is not None, f"{path.name}: {kind} {node.get('id')} has no BPMNShape"
            bounds = shape.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds")
            assert bounds is not None and float(bounds.get("width")) > 0
    flows = list(tree.iter(f"{{{BPMN}}}sequenceFlow"))
    assert flows
    for flow in flows:
        edge = edges.get(flow.get("id"))
        assert edge is not None, f"{path.name}: flow {flow.get('id')} has no BPMNEdge"
        assert len(edge.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2
