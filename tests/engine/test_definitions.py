"""Deploying BPMN: versions, idempotence, line-numbered errors, hostile files and expressions."""
from __future__ import annotations

import pytest

from engine.domain.access import Actor
from engine.services.definitions import definition_versions, deploy, find_definition
from engine.errors import Forbidden, InvalidDefinition, TooLarge
from tests.conftest import BPMN

DESIGNER = Actor("dora", "designer")


def _deploy(runtime, data: bytes, name: str = "p.bpmn", actor: Actor = DESIGNER):
    with runtime.unit_of_work() as uow:
        result = deploy(uow, actor, data, name)
        uow.commit()
    return result


def _process(body: str, pid: str = "proc", extra_ns: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" {extra_ns}
  id="D" targetNamespace="http://onewindow.test">
  <bpmn:process id="{pid}" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>""".encode()


SIMPLE = """    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T"/>
    <bpmn:userTask id="T" name="Do it"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>"""


def test_versions_count_up_and_identical_bytes_change_nothing(runtime):
    first = _deploy(runtime, _process(SIMPLE))
    assert first.created and [(d.key, d.version) for d in first.definitions] == [("proc", 1)]
    again = _deploy(runtime, _process(SIMPLE))
    assert not again.created and again.definitions[0].id == first.definitions[0].id
    changed = _deploy(runtime, _process(SIMPLE.replace("Do it", "Do it now")))
    assert changed.created and changed.definitions[0].version == 2
    with runtime.unit_of_work(write=False) as uow:
        assert [d.version for d in definition_versions(uow, "proc")] == [1, 2]
        assert find_definition(uow, "proc").version == 2
        assert find_definition(uow, "proc", 1).sha256 == first.definitions[0].sha256


def test_several_processes_and_a_call_activity_in_one_file(runtime):
    body = """
  <bpmn:process id="main" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Call"/>
    <bpmn:callActivity id="Call" calledElement="item"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:sequenceFlow id="F2" sourceRef="Call" targetRef="E"/>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmn:process id="item" isExecutable="true">
    <bpmn:startEvent id="S2"><bpmn:outgoing>G1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="G1" sourceRef="S2" targetRef="Decide"/>
    <bpmn:userTask id="Decide" name="Decide" camunda:candidateGroups="county.fgj"><bpmn:incoming>G1</bpmn:incoming><bpmn:outgoing>G2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="G2" sourceRef="Decide" targetRef="E2"/>
    <bpmn:endEvent id="E2"><bpmn:incoming>G2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>"""
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="http://onewindow.test">{body}
</bpmn:definitions>""".encode()
    result = _deploy(runtime, data, "two.bpmn")
    assert sorted(d.key for d in result.definitions) == ["item", "main"]
    from engine.services import cases
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, Actor("alice", "agent"), "main", "2026-510117-34-01-000009").case
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        [task] = cases.case_tasks(uow, case.id)
    assert task.element_id == "Decide" and task.department == "county.fgj"


def test_missing_target_is_reported_with_file_line_and_element(runtime):
    data = _process(SIMPLE.replace('targetRef="E"', 'targetRef="Task_9"'))
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, data, "permit.bpmn")
    assert "permit.bpmn:9: sequenceFlow F2: targetRef 'Task_9' does not exist" in error.value.problems


def test_malformed_xml_names_the_line(runtime):
    data = _process(SIMPLE).replace(b'<bpmn:endEvent id="E">', b'<bpmn:endEvent id="E"')
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, data, "broken.bpmn")
    assert error.value.problems[0].startswith("broken.bpmn:10:")


def test_unknown_department_is_refused(runtime):
    data = _process(SIMPLE.replace('name="Do it"', 'name="Do it" camunda:candidateGroups="county.nowhere"'))
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, data)
    assert "candidate group 'county.nowhere' is not a known department" in error.value.detail


def test_billion_laughs_and_external_entities_are_refused(runtime):
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"><bpmn:process id="p" name="&lol3;"/></bpmn:definitions>"""
    external = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"><bpmn:process id="p" name="&xxe;"/></bpmn:definitions>"""
    for data in (laughs, external):
        with pytest.raises(InvalidDefinition) as error:
            _deploy(runtime, data, "evil.bpmn")
        assert "DOCTYPE" in error.value.detail and "root:" not in error.value.detail
    with runtime.unit_of_work(write=False) as uow:
        assert definition_versions(uow, "p") == []


def test_oversized_file_is_refused_before_parsing(runtime):
    with pytest.raises(TooLarge):
        _deploy(runtime, b"<" + b"x" * (5 * 1024 * 1024 + 1))


@pytest.mark.parametrize("script", [
    "__import__('os').popen('id').read()",
    "x = ().__class__.__base__.__subclasses__()",
    "import os",
])
def test_hostile_script_is_refused_at_deploy_naming_the_element(runtime, script):
    body = SIMPLE.replace(
        '<bpmn:userTask id="T" name="Do it"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
        f'<bpmn:scriptTask id="Evil" name="Evil"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>'
        f'<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>').replace('targetRef="T"', 'targetRef="Evil"').replace(
        'sourceRef="T"', 'sourceRef="Evil"')
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, _process(body), "evil.bpmn")
    assert "scriptTask Evil" in error.value.detail


def test_hostile_condition_is_refused(runtime):
    body = SIMPLE.replace('<bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>',
                          '<bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"><bpmn:conditionExpression>'
                          "[c for c in ().__class__.__mro__]</bpmn:conditionExpression></bpmn:sequenceFlow>")
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, _process(body))
    assert "sequenceFlow F2" in error.value.detail


@pytest.mark.parametrize("timer", ["PT24H", "R3/PT1H", "2026-03-01T09:00:00+08:00", "'PT2H'"])
def test_timers_as_modelers_write_them_are_accepted(runtime, timer):
    kind = "timeCycle" if timer.startswith("R") else "timeDate" if timer[0].isdigit() else "timeDuration"
    body = SIMPLE.replace(
        '<bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>',
        '<bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="W"/>'
        f'<bpmn:intermediateCatchEvent id="W"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>'
        f'<bpmn:timerEventDefinition><bpmn:{kind}>{timer}</bpmn:{kind}></bpmn:timerEventDefinition>'
        '</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="F3" sourceRef="W" targetRef="E"/>'
    ).replace("<bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>", "<bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>")
    assert _deploy(runtime, _process(body)).created


def test_reserved_ids_are_refused_with_a_hint(runtime):
    data = _process(SIMPLE.replace('id="S"', 'id="Start"').replace('sourceRef="S"', 'sourceRef="Start"'))
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, data)
    assert "the id 'Start' is reserved" in error.value.detail


def test_only_designers_deploy(runtime):
    with pytest.raises(Forbidden):
        _deploy(runtime, _process(SIMPLE), actor=Actor("alice", "agent"))


def test_specs_are_loaded_once_per_version_in_a_new_process(runtime, clock):
    from engine.config import Settings
    from engine.runtime import Runtime
    from engine.services.workflow import load_definition, specs_of
    definition_id = _deploy(runtime, (BPMN / "parallel_approval.bpmn").read_bytes(),
                            "parallel_approval.bpmn").definitions[0].id
    fresh = Runtime(Settings(database_url=runtime.settings.database_url), clock=clock)
    try:
        assert len(fresh.specs) == 0
        loaded = []
        for _ in range(3):
            with fresh.unit_of_work(write=False) as uow:
                loaded.append(specs_of(uow, load_definition(uow, definition_id))[0])
        assert len(fresh.specs) == 1 and loaded[0] is loaded[1] is loaded[2]
        assert loaded[0].name == "parallel_approval"
    finally:
        fresh.close()
