"""Diagrams drawn from BPMN DI: every drawn element of the shipped files, BPMN markers, states of
a case, multi-instance counts, escaping, and a clear message for a file without DI."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.services import diagram
from engine.services.diagram import ElementState, parse_layout, render_svg
from tests.conftest import BPMN

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


@pytest.fixture
def shipped_case(runtime) -> str:
    """A one_window_agency case with its stage-1 items open (3 items, the EIA alongside)."""
    from engine.domain.access import SYSTEM
    from engine.services.definitions import deploy_directory
    from tests.console.test_permissions import open_agency_case
    deploy_directory(runtime.unit_of_work, SYSTEM, PROCESSES)
    return open_agency_case(runtime)


def test_every_shape_and_edge_of_the_shipped_diagrams_is_drawn():
    for path in sorted(PROCESSES.glob("*.bpmn")):
        xml = path.read_bytes()
        root = etree.fromstring(xml)
        process = root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process").get("id")
        layout = parse_layout(xml, process)
        shapes = {s.get("bpmnElement") for s in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")}
        edges = {e.get("bpmnElement") for e in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNEdge")}
        assert {s.id for s in layout.shapes} == shapes, path.name
        assert {e.id for e in layout.edges} == edges, path.name
        svg = render_svg(layout)
        etree.fromstring(svg.encode())  # well-formed XML
        assert "style=" not in svg and "<style" not in svg and "<script" not in svg


def test_pools_lanes_markers_and_labels_are_drawn():
    layout = parse_layout((PROCESSES / "one_window_agency.bpmn").read_bytes(), "one_window_agency")
    kinds = {s.id: s for s in layout.shapes}
    assert kinds["Pool_one_window_agency"].kind == "participant" and kinds["Pool_approval_item"].kind == "participant"
    assert kinds["Stage1"].kind == "callActivity" and kinds["Stage1"].loop == "parallel"
    svg = render_svg(layout)
    assert 'writing-mode="tb"' in svg and "一窗受理、全程代办" in svg  # the pool's name in its band
    assert 'marker-end="url(#ow-arrow)"' in svg
    drawn = parse_layout(MARKERS, "m")
    by_id = {s.id: s for s in drawn.shapes}
    assert by_id["Lane1"].kind == "lane" and by_id["Pool"].kind == "participant"
    assert by_id["Remind"].event == "timer" and not by_id["Remind"].interrupting
    assert by_id["Wait"].event == "message" and by_id["Seq"].loop == "sequential"
    assert by_id["Fork"].kind == "parallelGateway" and by_id["End"].event == "terminate"
    svg = render_svg(drawn)
    assert 'stroke-dasharray="5 3"' in svg  # a non-interrupting boundary event is dashed
    assert svg.count('data-element-id="Lane') == 2


MARKERS = """<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="x">
  <bpmn:collaboration id="C"><bpmn:participant id="Pool" name="窗口" processRef="m"/></bpmn:collaboration>
  <bpmn:process id="m" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="Lane1" name="county.zwfw"><bpmn:flowNodeRef>Seq</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane2" name="county.fgj"><bpmn:flowNodeRef>Wait</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"/>
    <bpmn:parallelGateway id="Fork"/>
    <bpmn:userTask id="Seq" name="逐一审查"><bpmn:multiInstanceLoopCharacteristics isSequential="true"/></bpmn:userTask>
    <bpmn:boundaryEvent id="Remind" attachedToRef="Seq" cancelActivity="false"><bpmn:timerEventDefinition/></bpmn:boundaryEvent>
    <bpmn:intermediateCatchEvent id="Wait" name="等待企业补正"><bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="End"><bpmn:terminateEventDefinition/></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="C">
    <bpmndi:BPMNShape id="Pool_di" bpmnElement="Pool" isHorizontal="true"><dc:Bounds x="0" y="0" width="700" height="300"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Lane1_di" bpmnElement="Lane1" isHorizontal="true"><dc:Bounds x="30" y="0" width="670" height="150"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Lane2_di" bpmnElement="Lane2" isHorizontal="true"><dc:Bounds x="30" y="150" width="670" height="150"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="60" y="50" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Fork_di" bpmnElement="Fork"><dc:Bounds x="130" y="43" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Seq_di" bpmnElement="Seq"><dc:Bounds x="230" y="30" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Remind_di" bpmnElement="Remind"><dc:Bounds x="262" y="92" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Wait_di" bpmnElement="Wait"><dc:Bounds x="262" y="200" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="End_di" bpmnElement="End"><dc:Bounds x="600" y="50" width="36" height="36"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def test_a_case_colours_each_element_by_its_state_with_words_and_counts():
    layout = parse_layout((PROCESSES / "one_window_agency.bpmn").read_bytes(), "one_window_agency")
    states = {"Register": ElementState("completed"), "Stage1": ElementState("active", 1, 3),
              "JoinAll": ElementState("waiting"), "Plan": ElementState("error"),
              "Stage2": ElementState("not_reached")}
    svg = render_svg(layout, states, title="测试")
    assert re.search(r'data-element-id="Register" data-state="completed"><title>项目登记（一张表单）：已完成</title>', svg)
    assert re.search(r'data-element-id="Stage1" data-state="active"><title>[^<]*办理中（完成 1 / 共 3）</title>', svg)
    assert ">1/3</text>" in svg  # the count on the multi-instance element
    assert 'data-state="waiting"' in svg and 'data-state="error"' in svg and 'data-state="not_reached"' in svg
    for words in ("已完成", "办理中", "等待中", "出错", "未到达"):
        assert f">{words}</text>" in svg  # the legend says every colour in words


def test_names_are_escaped_and_a_file_without_di_says_so():
    xml = (BPMN / "parallel_approval.bpmn").read_text()
    layout = parse_layout(xml)
    assert layout.empty
    svg = render_svg(layout)
    assert "不含图形信息" in svg and "no diagram interchange" in svg
    tricky = '''<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="S" name="&lt;script&gt;alert(1)&lt;/script&gt;"/>
    <bpmn:userTask id="T" name="a &amp; b &quot;c&quot;"/>
    <bpmn:sequenceFlow id="F" sourceRef="S" targetRef="T" name="&lt;img src=x onerror=alert(1)&gt;"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="p">
    <bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="10" y="10" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="T_di" bpmnElement="T"><dc:Bounds x="100" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="X_di" bpmnElement="T"><dc:Bounds x="nan" y="0" width="1e309" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="F_di" bpmnElement="F"><di:waypoint x="46" y="28"/><di:waypoint x="100" y="40"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>'''
    svg = render_svg(parse_layout(tricky, "p"))
    assert "<script>" not in svg and "<img" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg
    assert "nan" not in svg and "inf" not in svg  # an absurd shape is skipped, not drawn
    etree.fromstring(svg.encode())


def test_states_come_from_the_live_workflow(runtime, shipped_case):
    case_id = shipped_case
    from engine.domain.access import Actor
    with runtime.unit_of_work(write=False) as uow:
        svg = diagram.case_diagram(uow, Actor("root", "admin"), case_id)
    assert 'data-element-id="Register" data-state="completed"' in svg
    assert 'data-element-id="Stage1" data-state="active"' in svg and ">0/3</text>" in svg
    assert 'data-element-id="ItemAccept" data-state="active"' in svg
    assert 'data-element-id="Closure" data-state="not_reached"' in svg
    assert 'class="edge sequenceFlow taken"' in svg


def test_a_case_in_error_marks_the_failing_element(runtime):
    from engine.services import cases
    from engine.domain.access import Actor
    from engine.services.definitions import deploy
    demo = Path(__file__).resolve().parents[2] / "api" / "console" / "demo" / "land_efficiency.bpmn"
    with runtime.unit_of_work() as uow:
        deploy(uow, Actor("dora", "designer"), demo.read_bytes(), demo.name)
        uow.commit()
    with runtime.unit_of_work() as uow:
        case_id = cases.start_case(uow, Actor("alice", "agent"), "demo_land_efficiency", "2026-510117-34-01-000009",
                                   project={"investment": 8000, "land_area": 0}).case.id
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        svg = diagram.case_diagram(uow, Actor("root", "admin"), case_id)
    assert 'data-element-id="PerMu" data-state="error"' in svg and "计算亩均投资：出错" in svg
    assert 'data-element-id="DemoStart" data-state="completed"' in svg
    assert 'data-element-id="ReviewPerMu" data-state="not_reached"' in svg
