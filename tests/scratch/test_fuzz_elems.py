import pytest
from tests.api.conftest import *  # noqa
from tests.bpmn_text import around, process

ELEMS = {
 "complexGateway": '<bpmn:complexGateway id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:complexGateway>',
 "businessRule": '<bpmn:businessRuleTask id="T" camunda:decisionRef="dec"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:businessRuleTask>',
 "businessRuleNoRef": '<bpmn:businessRuleTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:businessRuleTask>',
 "sendTask": '<bpmn:sendTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:sendTask>',
 "receiveTask": '<bpmn:receiveTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:receiveTask>',
 "receiveTaskMsg": '<bpmn:receiveTask id="T" messageRef="M"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:receiveTask>',
 "adhoc": '<bpmn:adHocSubProcess id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:task id="A"/></bpmn:adHocSubProcess>',
 "loop": '<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:standardLoopCharacteristics loopMaximum="3"/></bpmn:userTask>',
 "loopCond": '<bpmn:scriptTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:standardLoopCharacteristics><bpmn:loopCondition>x &gt; 2</bpmn:loopCondition></bpmn:standardLoopCharacteristics><bpmn:script>x = 3</bpmn:script></bpmn:scriptTask>',
 "loopMaxHuge": '<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:standardLoopCharacteristics loopMaximum="99999999999999999999999"/></bpmn:userTask>',
 "transaction": '<bpmn:transaction id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:startEvent id="TS"/></bpmn:transaction>',
 "emptySub": '<bpmn:subProcess id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:subProcess>',
 "signalThrow": '<bpmn:intermediateThrowEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:signalEventDefinition id="SD"/></bpmn:intermediateThrowEvent>',
 "linkThrow": '<bpmn:intermediateThrowEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:linkEventDefinition id="LD" name="x"/></bpmn:intermediateThrowEvent>',
 "condCatch": '<bpmn:intermediateCatchEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:conditionalEventDefinition id="CD"><bpmn:condition>x</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>',
 "compThrow": '<bpmn:intermediateThrowEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:compensateEventDefinition id="CD"/></bpmn:intermediateThrowEvent>',
 "escThrow": '<bpmn:intermediateThrowEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:escalationEventDefinition id="ED"/></bpmn:intermediateThrowEvent>',
 "timerEmpty": '<bpmn:intermediateCatchEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:timerEventDefinition id="TD"/></bpmn:intermediateCatchEvent>',
 "dataObj": '<bpmn:dataObject id="DO"/><bpmn:dataObjectReference id="DOR" dataObjectRef="DO"/><bpmn:task id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:dataOutputAssociation id="DA"><bpmn:targetRef>DOR</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:task>',
 "dataStore": '<bpmn:dataStoreReference id="DS" dataStoreRef="X"/><bpmn:task id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:task>',
 "scriptEmpty": '<bpmn:scriptTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:scriptTask>',
 "miBadCard": '<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>99999999999</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
 "miStrCard": '<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>"abc"</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
 "miInputMissing": '<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>nothere</bpmn:loopDataInputRef><bpmn:inputDataItem id="i" name="i"/></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
 "miOutputOnly": '<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataOutputRef>out</bpmn:loopDataOutputRef></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
 "callSelf": '<bpmn:callActivity id="T" calledElement="proc"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>',
 "eventSub": '<bpmn:task id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:task><bpmn:subProcess id="ES" triggeredByEvent="true"><bpmn:startEvent id="ESS"><bpmn:messageEventDefinition id="MED"/></bpmn:startEvent></bpmn:subProcess>',
 "camundaIO": '<bpmn:userTask id="T"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="x">${y}</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
 "dueDate": '<bpmn:userTask id="T" camunda:dueDate="${x}"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
 "timeLimitHuge": '<bpmn:userTask id="T"><bpmn:extensionElements><camunda:properties><camunda:property name="time_limit" value="99999999999999999999 days"/></camunda:properties></bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
 "timeLimitBad": '<bpmn:userTask id="T"><bpmn:extensionElements><camunda:properties><camunda:property name="time_limit" value="soon"/></camunda:properties></bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
 "assigneeExpr": '<bpmn:userTask id="T" camunda:assignee="${1/0}"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
 "cgExpr": '<bpmn:userTask id="T" camunda:candidateGroups="${nothere}"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
 "cgExprList": '<bpmn:userTask id="T" camunda:candidateGroups="${[1,2]}"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
 "stageExpr": '<bpmn:userTask id="T"><bpmn:extensionElements><camunda:properties><camunda:property name="stage" value="${[1]*3}"/></camunda:properties></bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
}
MSG = '<bpmn:message id="M" name="m"/>'

@pytest.mark.parametrize("name", list(ELEMS))
def test_elem(client, api_users, name):
    data = around("    " + ELEMS[name])
    if name == "receiveTaskMsg":
        data = data.replace(b"</bpmn:process>", b"</bpmn:process>" + MSG.encode())
    for dry in ("true", "false"):
        r = client.post("/api/v1/process-definitions", data=data, headers={**api_users.header("dora"), "Content-Type": "application/xml"}, query_string={"filename": "f.bpmn", "dry_run": dry})
        print(name, dry, r.status_code, str(r.get_json().get("errors") or r.get_json().get("warnings"))[:300])
        assert r.status_code != 500
    if r.status_code == 201:
        s = client.post("/api/v1/cases", json={"process_key": "proc", "business_key": "2026-510117-34-01-000001", "project": {}, "variables": {"x": 1, "y": 2}}, headers=api_users.header("alice"))
        print("  start", s.status_code, (s.get_json() or {}).get("error"), (s.get_json() or {}).get("status"))
        assert s.status_code != 500
        for t in (s.get_json() or {}).get("open_tasks", []):
            c = client.post(f"/api/v1/tasks/{t['id']}/complete", json={"data": {}}, headers=api_users.header("root"))
            print("  complete", c.status_code, str(c.get_json())[:200])
            assert c.status_code != 500
