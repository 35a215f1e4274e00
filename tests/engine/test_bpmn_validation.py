"""The upload gate for BPMN files: safe parsing, XSD, reference checks, file:line reporting."""
from __future__ import annotations

import resource
import time

import pytest

from engine.domain.bpmn.validation import (
    MAX_BPMN_BYTES, bpmn_schema, describe, element_line, format_problem, load_bpmn,
)
from engine.errors import InvalidDefinition, TooLarge

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="Defs" targetNamespace="http://example.org/permit">\n')
TAIL = "</bpmn:definitions>\n"


def bpmn(body: str) -> bytes:
    """A definitions document whose body starts on line 3."""
    return (HEAD + body + TAIL).encode()


MINIMAL = """\
  <bpmn:process id="Permit" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Review"><bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Review" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Review" targetRef="End" />
  </bpmn:process>
"""

# Saved by Camunda Modeler 5.x (trimmed): camunda:* attributes, extensionElements, lanes,
# a gateway with conditions, a call activity, a timer boundary event, colors and DI.
CAMUNDA = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:modeler="http://camunda.org/schema/modeler/1.0" xmlns:bioc="http://bpmn.io/schema/bpmn/biocolor/1.0" xmlns:color="http://www.omg.org/spec/BPMN/non-normative/color/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.16.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <bpmn:collaboration id="Collab_1">
    <bpmn:participant id="Pool_1" name="\xe4\xb8\x80\xe7\xaa\x97\xe5\x8f\x97\xe7\x90\x86" processRef="Permit" />
  </bpmn:collaboration>
  <bpmn:process id="Permit" name="Permit" isExecutable="true" camunda:versionTag="1" camunda:historyTimeToLive="180">
    <bpmn:documentation>One-window permit</bpmn:documentation>
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="sla" value="P5D" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="Window">
        <bpmn:flowNodeRef>Start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gateway_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Sub</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Timer_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start" camunda:formKey="embedded:app:forms/apply.html" camunda:initiator="applicant">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Review" name="\xe5\xae\xa1\xe6\x9f\xa5" camunda:formKey="review" camunda:candidateGroups="window,fire" camunda:dueDate="${due}">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="approved" label="Approved" type="boolean" />
        </camunda:formData>
        <camunda:properties>
          <camunda:property name="department" value="fire" />
        </camunda:properties>
        <camunda:taskListener class="x.Y" event="create" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_1" default="Flow_4">
      <bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_3</bpmn:outgoing>
      <bpmn:outgoing>Flow_4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:callActivity id="Sub" calledElement="FireCheck">
      <bpmn:extensionElements>
        <camunda:in businessKey="#{execution.processBusinessKey}" />
        <camunda:formField id="approved" label="Repeated extension id is fine" type="boolean" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_3</bpmn:incoming>
      <bpmn:outgoing>Flow_5</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:endEvent id="End">
      <bpmn:incoming>Flow_4</bpmn:incoming>
      <bpmn:incoming>Flow_5</bpmn:incoming>
      <bpmn:incoming>Flow_6</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:boundaryEvent id="Timer_1" attachedToRef="Review">
      <bpmn:outgoing>Flow_6</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerDef_1">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P5D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Review" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Review" targetRef="Gateway_1" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_1" targetRef="Sub">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">approved == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Gateway_1" targetRef="End" />
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Sub" targetRef="End" />
    <bpmn:sequenceFlow id="Flow_6" sourceRef="Timer_1" targetRef="End" />
    <bpmn:textAnnotation id="Note_1"><bpmn:text>SLA 5 days</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="Assoc_1" sourceRef="Review" targetRef="Note_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collab_1">
      <bpmndi:BPMNShape id="Pool_1_di" bpmnElement="Pool_1" isHorizontal="true">
        <dc:Bounds x="100" y="50" width="800" height="300" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Review_di" bpmnElement="Review" bioc:stroke="#1e88e5" bioc:fill="#bbdefb" color:background-color="#bbdefb" color:border-color="#1e88e5">
        <dc:Bounds x="270" y="80" width="100" height="80" />
        <bpmndi:BPMNLabel />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="215" y="120" />
        <di:waypoint x="270" y="120" />
        <bpmndi:BPMNLabel><dc:Bounds x="230" y="100" width="20" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def problems_of(data: bytes, filename: str = "permit.bpmn") -> list[str]:
    with pytest.raises(InvalidDefinition) as exc:
        load_bpmn(data, filename)
    return exc.value.problems


def line_of(data: bytes, needle: str) -> int:
    """1-based line where `needle` first occurs, so tests do not hard-code line numbers."""
    text = data.decode()
    return text[: text.index(needle)].count("\n") + 1


# ----------------------------------------------------------------------------- valid files

def test_minimal_process_passes() -> None:
    tree = load_bpmn(bpmn(MINIMAL), "permit.bpmn")
    assert tree.getroot().get("id") == "Defs"


def test_camunda_modeler_file_passes_and_is_unchanged() -> None:
    tree = load_bpmn(CAMUNDA, "camunda.bpmn")
    assert tree.getroot().find(".//{*}userTask").get(
        "{http://camunda.org/schema/1.0/bpmn}candidateGroups") == "window,fire"


def test_bpmn_io_correlation_formal_expression_is_accepted_and_kept() -> None:
    data = bpmn(MINIMAL + """\
  <bpmn:correlationProperty id="CP_1" name="caseId">
    <bpmn:correlationPropertyRetrievalExpression messageRef="Msg_1">
      <bpmn:formalExpression>case_id</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:message id="Msg_1" name="fire_done" />
""")
    tree = load_bpmn(data, "permit.bpmn")
    assert tree.getroot().find(".//{*}correlationPropertyRetrievalExpression/{*}formalExpression") is not None


def test_unmarked_processes_count_as_executable() -> None:
    load_bpmn(bpmn(MINIMAL.replace(' isExecutable="true"', "")), "permit.bpmn")


# ----------------------------------------------------------------------------- helpers

def test_describe_format_problem_and_element_line() -> None:
    tree = load_bpmn(bpmn(MINIMAL), "permit.bpmn")
    flow = tree.getroot().find(".//{*}sequenceFlow")
    assert describe(flow) == "sequenceFlow Flow_1"
    assert element_line(tree, "Flow_1") == flow.sourceline == 7
    assert element_line(tree, "Nope") is None
    assert format_problem("permit.bpmn", flow, "bad") == "permit.bpmn:7: sequenceFlow Flow_1: bad"
    assert format_problem("permit.bpmn", None, "bad", line=3) == "permit.bpmn:3: bad"


def test_schema_is_cached() -> None:
    assert bpmn_schema() is bpmn_schema()


# ----------------------------------------------------------------------------- malformed / semantic

def test_malformed_xml_reports_line() -> None:
    data = bpmn(MINIMAL.replace('<bpmn:endEvent id="End">', '<bpmn:endEvent id="End>'))
    line = line_of(data, 'id="End>')
    assert problems_of(data)[0].startswith(f"permit.bpmn:{line}: ")


def test_missing_target_ref_exact_message() -> None:
    data = bpmn(MINIMAL.replace('targetRef="End"', 'targetRef="Task_9"').replace('"Flow_2"', '"Flow_7"')
                .replace(">Flow_2<", ">Flow_7<"))
    line = line_of(data, 'id="Flow_7"')
    assert f"permit.bpmn:{line}: sequenceFlow Flow_7: targetRef 'Task_9' does not exist" in problems_of(data)


def test_duplicate_id_reported_once_with_both_lines() -> None:
    data = bpmn(MINIMAL.replace('<bpmn:endEvent id="End">', '<bpmn:endEvent id="Review">')
                .replace('targetRef="End"', 'targetRef="Review"'))
    dup = [p for p in problems_of(data) if "duplicate" in p]
    assert dup == ["permit.bpmn:6: endEvent Review: duplicate id 'Review' (first used on line 5)"]


def test_all_problems_collected() -> None:
    data = bpmn("""\
  <bpmn:process id="Permit" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L"><bpmn:flowNodeRef>Ghost</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:userTask id="Review"><bpmn:outgoing>Flow_X</bpmn:outgoing></bpmn:userTask>
    <bpmn:callActivity id="Call_1" />
    <bpmn:boundaryEvent id="B_1" attachedToRef="Nowhere" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Missing" targetRef="Review" />
  </bpmn:process>
  <bpmn:process id="Other" isExecutable="false"><bpmn:task id="T" /></bpmn:process>
  <bpmn:collaboration id="C">
    <bpmn:participant id="P1" processRef="Permit" />
    <bpmn:participant id="P2" processRef="Other" />
    <bpmn:messageFlow id="MF_1" sourceRef="Review" targetRef="Nobody" />
  </bpmn:collaboration>
""")
    problems = problems_of(data)
    expected = [
        "permit.bpmn:3: process Permit: process has no start event",
        "permit.bpmn:4: lane L: flowNodeRef 'Ghost' does not exist",
        "permit.bpmn:5: userTask Review: outgoing 'Flow_X' does not exist",
        "permit.bpmn:6: callActivity Call_1: callActivity has no calledElement",
        "permit.bpmn:7: boundaryEvent B_1: attachedToRef 'Nowhere' does not exist",
        "permit.bpmn:8: sequenceFlow Flow_1: sourceRef 'Missing' does not exist",
        "permit.bpmn:14: messageFlow MF_1: targetRef 'Nobody' does not exist",
    ]
    for p in expected:
        assert p in problems
    assert len(problems) == len(expected), problems
    assert problems == sorted(problems, key=lambda p: int(p.split(":")[1]))


def test_sequence_flow_across_processes_refused() -> None:
    data = bpmn(MINIMAL + """\
  <bpmn:process id="Other"><bpmn:task id="T" /></bpmn:process>
""").replace(b'targetRef="End"', b'targetRef="T"')
    assert any("targetRef 'T' is not in the same process" in p for p in problems_of(data))


def test_no_executable_process() -> None:
    data = bpmn(MINIMAL.replace('isExecutable="true"', 'isExecutable="false"'))
    assert problems_of(data) == ['permit.bpmn:2: definitions Defs: no executable process '
                                 '(mark one isExecutable="true")']


def test_wrong_root_element() -> None:
    problems = problems_of(b'<?xml version="1.0"?>\n<process id="P"/>\n')
    assert any("root element must be bpmn:definitions" in p for p in problems)


# ----------------------------------------------------------------------------- XSD

def test_unknown_bpmn_element_reported_with_line() -> None:
    data = bpmn(MINIMAL.replace('    <bpmn:endEvent', '    <bpmn:approvalStep id="X" />\n    <bpmn:endEvent'))
    line = line_of(data, "approvalStep")
    assert any(p.startswith(f"permit.bpmn:{line}: approvalStep X: This element is not expected")
               for p in problems_of(data))


def test_sequence_flow_without_source_ref_reported_with_line() -> None:
    data = bpmn(MINIMAL.replace('sourceRef="Start" ', ""))
    assert ("permit.bpmn:7: sequenceFlow Flow_1: The attribute 'sourceRef' is required but missing."
            in problems_of(data))


def test_missing_target_namespace_is_xsd_error() -> None:
    data = bpmn(MINIMAL).replace(b' targetNamespace="http://example.org/permit"', b"")
    assert any(p.startswith("permit.bpmn:2: definitions Defs:") and "targetNamespace" in p
               for p in problems_of(data))


# ----------------------------------------------------------------------------- hostile input

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="P" name="&lol9;" isExecutable="true"><bpmn:startEvent id="S" /></bpmn:process>
</bpmn:definitions>
"""


def test_billion_laughs_refused_fast_without_expansion() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    problems = problems_of(BILLION_LAUGHS, "lol.bpmn")
    assert time.perf_counter() - start < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB on Linux
    assert problems == ["lol.bpmn:2: DOCTYPE is not allowed in BPMN files "
                        "(DTDs and entity declarations are refused for safety)"]


def test_external_entity_refused_and_file_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4242")
    data = (f'<?xml version="1.0"?>\n<!-- harmless -->\n<!DOCTYPE d [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>\n'
            + HEAD.split("\n", 1)[1] + '<bpmn:process id="P" name="&xxe;" />\n' + TAIL).encode()
    problems = problems_of(data)
    assert problems[0].startswith("permit.bpmn:3: DOCTYPE is not allowed")
    assert "TOPSECRET" not in " ".join(problems)
    assert "/etc/passwd" not in " ".join(problems_of(data.replace(str(secret).encode(), b"/etc/passwd")))


def test_external_dtd_refused() -> None:
    data = b'<?xml version="1.0"?>\n<!DOCTYPE definitions SYSTEM "http://evil.example/bpmn.dtd">\n' + bpmn(MINIMAL).split(b"\n", 1)[1]
    assert problems_of(data)[0].startswith("permit.bpmn:2: DOCTYPE is not allowed")


def test_utf16_doctype_refused_before_entities_are_read() -> None:
    data = BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
    data = data.decode().encode("utf-16")
    start = time.perf_counter()
    assert problems_of(data) == ["permit.bpmn:2: DOCTYPE is not allowed in BPMN files "
                                 "(DTDs and entity declarations are refused for safety)"]
    assert time.perf_counter() - start < 0.5


def test_xinclude_and_schema_location_never_fetched(tmp_path) -> None:
    secret = tmp_path / "inc.xml"
    secret.write_text("<bpmn:startEvent xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL' id='INCLUDED'/>")
    body = MINIMAL.replace(
        "<bpmn:process ",
        f'<bpmn:process xmlns:xi="http://www.w3.org/2001/XInclude" ').replace(
        "    <bpmn:startEvent",
        f'    <bpmn:extensionElements><xi:include href="{secret}" /></bpmn:extensionElements>\n    <bpmn:startEvent')
    data = bpmn(body).replace(
        b'id="Defs"',
        b'id="Defs" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="http://www.omg.org/spec/BPMN/20100524/MODEL http://evil.example/BPMN20.xsd"')
    tree = load_bpmn(data, "permit.bpmn")  # valid: xi:include sits in lax extensionElements
    assert element_line(tree, "INCLUDED") is None
    assert tree.getroot().find(".//{http://www.w3.org/2001/XInclude}include") is not None


def test_xinclude_outside_extension_elements_is_xsd_error() -> None:
    data = bpmn('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" />\n' + MINIMAL)
    problems = problems_of(data)
    assert any(p.startswith("permit.bpmn:3: include: This element is not expected") for p in problems)
    assert "root:" not in " ".join(problems)


def test_over_size_limit_refused_before_parsing() -> None:
    data = b"<" * (MAX_BPMN_BYTES + 1)  # not XML at all: would fail parsing if parsed
    with pytest.raises(TooLarge) as exc:
        load_bpmn(data, "big.bpmn")
    assert exc.value.detail == f"big.bpmn: {MAX_BPMN_BYTES + 1} bytes is over the 5 MB limit"
    load_bpmn(bpmn(MINIMAL + " " * (MAX_BPMN_BYTES - len(bpmn(MINIMAL)))), "edge.bpmn")  # exactly 5 MB passes


def test_empty_and_garbage_input() -> None:
    assert problems_of(b"")[0].startswith("permit.bpmn:")
    assert problems_of(b"not xml")[0].startswith("permit.bpmn:1: ")


def test_hostile_prologs_do_not_backtrack() -> None:
    for data in (b"<!-- -->" * 5000 + b"x", b" " * 1_000_000 + b"x", b"<?pi?>" * 5000 + b"x"):
        start = time.perf_counter()
        problems_of(data)
        assert time.perf_counter() - start < 0.5


def test_doctype_after_long_prolog_still_refused() -> None:
    data = b'<?xml version="1.0"?>\n' + b" " * 100_000 + BILLION_LAUGHS.split(b"\n", 1)[1]
    assert "DOCTYPE is not allowed" in problems_of(data)[0]
