import json
from tests.api.conftest import *  # noqa

BP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="Defs" targetNamespace="http://onewindow.test/bpmn">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="StartEvent"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent" targetRef="T"/>
    {body}
    <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="End1"/>
    <bpmn:endEvent id="End1"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

def up(client, api_users, xml, **q):
    r = client.post("/api/v1/process-definitions", data=xml.encode(), headers={**api_users.header("dora"), "Content-Type": "application/xml"}, query_string={"filename": "x.bpmn", **q})
    return r.status_code, r.get_json()

def test_repro(client, api_users, app):
    cases = {
     "service_class": '<bpmn:serviceTask id="T" camunda:class="com.x.Y"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>',
     "formkey": '<bpmn:userTask id="T" camunda:formKey="nope"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>',
     "cond9000": '<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality><bpmn:completionCondition>' + "+".join(["1"]*9000) + '</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
    }
    for timer in ["P99999999Y", "R/PT0S", "R999999999/PT0S", "PT2X", "9999-12-31T23:59:59.9999+00:00", "0001-01-01T00:00:00+14:00"]:
        kind = "timeCycle" if timer.startswith("R") else ("timeDate" if "-" in timer else "timeDuration")
        cases["timer " + timer] = f'<bpmn:intermediateCatchEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:timerEventDefinition id="TD"><bpmn:{kind}>{timer}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
    for name, body in cases.items():
        for dry in ("true", "false"):
            try:
                print(name, dry, up(client, api_users, BP.format(body=body), dry_run=dry))
            except Exception as e:
                print(name, dry, "EXC", repr(e)[:300])
    for path in ["/api/v1/calendar/2147483648", "/api/v1/escalations/2147483648/resolve"]:
        for m in ("get", "post"):
            r = getattr(client, m)(path, headers=api_users.header("root"), json={})
            print(path, m, r.status_code)
    r = client.post("/api/v1/cases", data='{"process_key": "\\ud800", "business_key": "x"}', headers={**api_users.header("alice"), "Content-Type": "application/json"})
    print("surrogate", r.status_code, r.get_json())
    assert 0
