"""Bad values are refused at deploy, naming file, line and element, every one at once; values
that only turn bad at run time become an error on the case and its task, never a hang."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.services import cases
from engine.domain import expressions
from engine.domain.access import Actor
from engine.domain.bpmn.timer_values import TimerValueError, check_value
from engine.services.definitions import deploy
from engine.errors import InvalidDefinition
from engine.adapters.models import Case, Task
from tests.bpmn_text import around, process, timer_event

DESIGNER = Actor("dora", "designer")
AGENT = Actor("alice", "agent")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def _deploy(runtime, data: bytes, name: str = "p.bpmn"):
    with runtime.unit_of_work() as uow:
        result = deploy(uow, DESIGNER, data, name)
        uow.commit()
    return result


def _refused(runtime, data: bytes, name: str = "p.bpmn") -> list[str]:
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, data, name)
    return error.value.problems


# -- timers --------------------------------------------------------------------------------------

REFUSED_TIMERS = [
    ("timeDuration", "P99999999Y", "the duration 'P99999999Y' is longer than 100 years"),
    ("timeCycle", "R/PT0S", "the cycle 'R/PT0S' repeats more often than once a minute"),
    ("timeCycle", "R999999999/PT0S", "the cycle 'R999999999/PT0S' repeats more often than once a minute"),
    ("timeDuration", "PT2X", "'PT2X' is not an ISO 8601 duration such as 'PT24H' or 'P5D'"),
    ("timeDate", "9999-12-31T23:59:59.9999+00:00",
     "the date '9999-12-31T23:59:59.9999+00:00' is more than 100 years from now"),
    ("timeDate", "0001-01-01T00:00:00+14:00", "the date '0001-01-01T00:00:00+14:00' is more than 100 years from now"),
    ("timeDuration", "'P200Y'", "the duration 'P200Y' is longer than 100 years"),
    ("timeDate", "P1D", "'P1D' is a duration; a timeDate needs a date and time such as '2026-09-30T17:00:00+08:00'"),
]


@pytest.mark.parametrize("kind, value, message", REFUSED_TIMERS, ids=[v for _, v, _ in REFUSED_TIMERS])
def test_bad_timer_values_are_refused_at_deploy_naming_file_line_and_element(runtime, kind, value, message):
    problems = _refused(runtime, around(timer_event(kind, value)), "timers.bpmn")
    assert problems == [f"timers.bpmn:9: intermediateCatchEvent T: {kind}: {message}"]


@pytest.mark.parametrize("kind, value", [
    ("timeDuration", "PT24H"), ("timeDuration", "P100Y"), ("timeCycle", "R3/PT1M"),
    ("timeCycle", "R/2026-03-02T09:00:00+08:00/P7D"), ("timeDate", "2026-09-30T17:00:00+08:00"),
    ("timeDuration", "wait"), ("timeDuration", "'PT' + str(days) + 'D'"),
])
def test_good_and_computed_timer_values_deploy(runtime, kind, value):
    assert _deploy(runtime, around(timer_event(kind, value))).created


def test_a_bad_boundary_and_start_timer_are_refused_too(runtime):
    data = process("""    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TS"><bpmn:timeCycle>R/PT10S</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T"/>
    <bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="Late" attachedToRef="T"><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TB"><bpmn:timeDuration>P1000Y</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Late" targetRef="E"/>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>""")
    assert _refused(runtime, data) == [
        "p.bpmn:9: startEvent S: timeCycle: the cycle 'R/PT10S' repeats more often than once a minute",
        "p.bpmn:14: boundaryEvent Late: timeDuration: the duration 'P1000Y' is longer than 100 years"]


def test_the_timer_checks_hold_for_values_outside_a_bpmn_file():
    for kind, value, message in REFUSED_TIMERS:
        with pytest.raises(TimerValueError, match="100 years|minute|ISO 8601|timeDate"):
            check_value(kind, value.strip("'"), NOW)
    for value in ("garbage", 5, [1], None, "P" + "9" * 30 + "D", "x" * 500):
        with pytest.raises(TimerValueError):
            check_value("timeDuration", value, NOW)


@pytest.mark.parametrize("value, message", [
    ("garbage", "'garbage' is not an ISO 8601 duration such as 'PT24H' or 'P5D'"),
    (5, "the timeDuration value is int 5, not ISO 8601 text"),
    ([1], "the timeDuration value is list [1], not ISO 8601 text"),
    ("P99999999Y", "the duration 'P99999999Y' is longer than 100 years"),
    ("P" + "9" * 20 + "D", "the duration 'P99999999999999999999D' is longer than 100 years"),
], ids=["garbage", "int", "list", "huge", "20-digits"])
def test_a_bad_timer_value_from_case_data_is_an_error_on_the_case_and_its_task(runtime, value, message):
    _deploy(runtime, around(timer_event("timeDuration", "wait")))
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, AGENT, "proc", "2026-510117-34-01-000001", variables={"wait": value}).case
        uow.commit()
        case_id = case.id
    with runtime.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, case_id)
        [row] = [t for t in cases.case_tasks(uow, case_id) if t.element_id == "T"]
    assert case.status == "running" and case.error.startswith(f"T: timer 'wait': {message}")
    assert row.state == "error" and row.error.startswith(f"timer 'wait': {message}")


def test_a_good_timer_value_from_case_data_still_waits(runtime, clock):
    _deploy(runtime, around(timer_event("timeDuration", "wait")))
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, AGENT, "proc", "2026-510117-34-01-000001", variables={"wait": "PT1H"}).case
        uow.commit()
        assert case.error is None and case.status == "running"
    from engine.services.timers import run_due
    clock.advance(hours=2)
    run_due(runtime)
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.get(Case, case.id).status == "completed"


# -- never a 500 ---------------------------------------------------------------------------------

def test_a_condition_of_9000_terms_is_refused_naming_the_element(runtime):
    condition = "+".join(["1"] * 9000)
    data = process(f"""    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="G"/>
    <bpmn:exclusiveGateway id="G" default="F3"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="E">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F3" sourceRef="G" targetRef="E"/>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>""")
    assert _refused(runtime, data, "deep.bpmn") == [
        f"deep.bpmn:12: sequenceFlow F2: conditionExpression: {expressions._TOO_NESTED}"]


def test_expressions_too_deep_to_compile_are_an_expression_error():
    for source in ("+".join(["1"] * 9000), "(" * 5000 + "1" + ")" * 5000, "[" * 3000 + "]" * 3000):
        with pytest.raises(expressions.ExpressionError):
            expressions.check(source, "eval")


@pytest.mark.parametrize("attributes, message", [
    ('camunda:class="com.example.Approve"', 'camunda:class (Java code) cannot run here; use '
                                            'camunda:type="external" camunda:topic="..." and a worker instead'),
    ('camunda:delegateExpression="${approver}"', "camunda:delegateExpression (Java code) cannot run here"),
    ('camunda:expression="${mailer.send(execution)}"', 'camunda:expression (Java code) cannot run here; use '
                                                       'camunda:type="external"'),
    ("", 'a service task needs an implementation; use camunda:type="external" camunda:topic="..."'),
    ('camunda:type="external"', 'camunda:type="external" needs a camunda:topic'),
    ('camunda:type="external" camunda:topic="${topic}"', "camunda:topic must be a plain name"),
    ('camunda:type="external" camunda:topic="t" camunda:taskPriority="high"', "camunda:taskPriority 'high' must "
                                                                              "be a whole number"),
    ('camunda:type="mail"', 'camunda:type="mail" is not supported; use camunda:type="external"'),
], ids=["class", "delegate", "expression", "bare", "no-topic", "topic-expression", "priority", "other-type"])
def test_service_tasks_are_refused_naming_the_element(runtime, attributes, message):
    element = f'    <bpmn:serviceTask id="T" {attributes}><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>'
    [problem] = _refused(runtime, around(element), "service.bpmn")
    assert problem.startswith("service.bpmn:8: serviceTask T: ") and message in problem


def test_every_problem_of_a_file_is_reported_at_once_in_line_order(runtime):
    data = process("""    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="A"/>
    <bpmn:userTask id="A" camunda:candidateGroups="county.nowhere"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="W"/>
    <bpmn:intermediateCatchEvent id="W"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TW"><bpmn:timeDuration>PT2X</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="F3" sourceRef="W" targetRef="Run"/>
    <bpmn:scriptTask id="Run"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
      <bpmn:script>import os</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="F4" sourceRef="Run" targetRef="Call"/>
    <bpmn:serviceTask id="Call" camunda:class="x.Y"><bpmn:incoming>F4</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:sequenceFlow id="F5" sourceRef="Call" targetRef="Done"/>
    <bpmn:endEvent id="Done"><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>""")
    problems = _refused(runtime, data, "many.bpmn")
    assert [p.split(": ")[0:2] for p in problems] == [
        ["many.bpmn:10", "userTask A"], ["many.bpmn:13", "intermediateCatchEvent W"],
        ["many.bpmn:17", "scriptTask Run"], ["many.bpmn:20", "serviceTask Call"]]
    assert len(set(problems)) == len(problems)
    assert "candidate group 'county.nowhere' is not a known department" in problems[0]
    assert "import is not allowed" in problems[2]


def test_structural_and_content_problems_come_together(runtime):
    data = around(timer_event("timeCycle", "R/PT0S")).replace(b'targetRef="E"', b'targetRef="Nowhere"')
    problems = _refused(runtime, data, "both.bpmn")
    assert any("targetRef 'Nowhere' does not exist" in p for p in problems)
    assert any("repeats more often than once a minute" in p for p in problems)


def test_a_refused_deploy_stores_nothing(runtime):
    _refused(runtime, around(timer_event("timeCycle", "R/PT0S")))
    with runtime.unit_of_work(write=False) as uow:
        from sqlalchemy import func, select

        from engine.adapters.models import Definition, Deployment
        assert uow.session.scalar(select(func.count()).select_from(Definition)) == 0
        assert uow.session.scalar(select(func.count()).select_from(Deployment)) == 0
        assert uow.session.scalar(select(func.count()).select_from(Task)) == 0


# -- more that hung or gave a 500 (found by trying every BPMN element) ---------------------------

def test_business_rule_tasks_without_a_deployed_decision_are_refused_naming_the_element(runtime):
    for attributes, message in (('camunda:decisionRef="permit_fee"', "decisionRef 'permit_fee' names no decision"),
                                ("", "a business rule task needs camunda:decisionRef")):
        element = (f'    <bpmn:businessRuleTask id="T" {attributes}><bpmn:incoming>F1</bpmn:incoming>'
                   f'<bpmn:outgoing>F2</bpmn:outgoing></bpmn:businessRuleTask>')
        [problem] = _refused(runtime, around(element), "dmn.bpmn")
        assert problem.startswith(f"dmn.bpmn:8: businessRuleTask T: {message}")


def test_a_receive_task_waits_for_its_message(runtime):
    data = around('    <bpmn:receiveTask id="T" messageRef="Msg"><bpmn:incoming>F1</bpmn:incoming>'
                  '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:receiveTask>').replace(
        b"</bpmn:process>", b'</bpmn:process>\n  <bpmn:message id="Msg" name="materials_received"/>')
    _deploy(runtime, data)
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, AGENT, "proc", "2026-510117-34-01-000001").case
        uow.commit()
        assert case.status == "running" and case.error is None
    with runtime.unit_of_work() as uow:
        cases.deliver_message(uow, AGENT, case.id, "materials_received", {"pages": 12})
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        assert uow.session.get(Case, case.id).status == "completed"


def _loop(inner: str, element: str = "scriptTask", script: str = "<bpmn:script>n = n + 1</bpmn:script>") -> bytes:
    return around(f'    <bpmn:{element} id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>'
                  f'{inner}{script}</bpmn:{element}>')


def test_loop_bounds_beyond_the_limits_are_refused_at_deploy(runtime):
    [problem] = _refused(runtime, _loop('<bpmn:standardLoopCharacteristics loopMaximum="99999999999999999999"/>'))
    assert problem.startswith("p.bpmn:8: scriptTask T: loopMaximum '99999999999999999999' must be a whole number "
                              "of at most 1000")
    [problem] = _refused(runtime, _loop("<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>"
                                        "99999999999</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"))
    assert problem == ("p.bpmn:8: scriptTask T: loopCardinality 99999999999: a multi-instance creates at most "
                       "1000 instances")


def _started(runtime, **variables) -> Case:
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, AGENT, "proc", "2026-510117-34-01-000001", variables=variables).case
        uow.commit()
        return case


def test_a_loop_whose_condition_never_ends_is_an_error_after_1000_rounds(runtime):
    _deploy(runtime, _loop("<bpmn:standardLoopCharacteristics><bpmn:loopCondition>n &gt; 0</bpmn:loopCondition>"
                           "</bpmn:standardLoopCharacteristics>"))
    case = _started(runtime, n=1)
    assert case.status == "running"
    assert case.error.startswith("T: the loop ran 1000 times and its loopCondition 'n > 0' is still true")
    _deploy(runtime, _loop("<bpmn:standardLoopCharacteristics><bpmn:loopCondition>n &lt; 5</bpmn:loopCondition>"
                           "</bpmn:standardLoopCharacteristics>"))
    with runtime.unit_of_work() as uow:
        done = cases.start_case(uow, AGENT, "proc", "2026-510117-34-01-000002", variables={"n": 0}).case
        uow.commit()
        assert done.status == "completed"


def test_a_cardinality_from_case_data_beyond_the_limit_is_an_error(runtime):
    _deploy(runtime, _loop("<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>count"
                           "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>",
                           element="userTask", script=""))
    case = _started(runtime, count=10**11)
    assert case.error.startswith("T: loopCardinality 'count' is 100000000000; a multi-instance creates at most 1000")
    with runtime.unit_of_work(write=False) as uow:
        assert [t.state for t in cases.case_tasks(uow, case.id)] == ["error"]


def _call(target: str, pid: str) -> bytes:
    return around(f'    <bpmn:callActivity id="T" calledElement="{target}"><bpmn:incoming>F1</bpmn:incoming>'
                  f'<bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>', pid=pid)


def test_recursive_call_activities_are_refused(runtime):
    from engine.services.definitions import deploy_files
    [problem] = _refused(runtime, _call("again", "again"), "again.bpmn")
    assert problem == ("again.bpmn:8: callActivity T: calls into a cycle (again → again); each call would start "
                       "another copy for ever, so recursive calls are not supported")
    with runtime.unit_of_work() as uow, pytest.raises(InvalidDefinition) as error:
        deploy_files(uow, DESIGNER, [(_call("pong", "ping"), "ping.bpmn"), (_call("ping", "pong"), "pong.bpmn")])
    assert [p.split(": ")[0] for p in error.value.problems] == ["ping.bpmn:8", "pong.bpmn:8"]
    assert "(ping → pong → ping)" in error.value.problems[0]


def test_ids_names_and_task_attributes_longer_than_the_database_keeps_are_refused(runtime):
    element = ('    <bpmn:userTask id="T" name="{name}" camunda:formKey="{form}"><bpmn:incoming>F1</bpmn:incoming>'
               '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>').format(name="审" * 256, form="f" * 121)
    problems = _refused(runtime, around(element, pid="p" * 256), "long.bpmn")
    assert problems == [
        f"long.bpmn:7: process: the id '{'p' * 40}...' is longer than 255 characters",
        "long.bpmn:8: userTask T: the name is longer than 255 characters",
        "long.bpmn:8: userTask T: formKey is longer than 120 characters"]
