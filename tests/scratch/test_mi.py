import pytest
from engine import cases
from engine.definitions import deploy
from engine.access import Actor
from tests.scratch.test_repro import BP

STD = '''<bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
<bpmn:multiInstanceLoopCharacteristics {seq}>{card}{inp}<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>{item}<bpmn:outputDataItem id="result" name="result"/></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>'''
SCRIPT = '''<bpmn:scriptTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
<bpmn:multiInstanceLoopCharacteristics {seq}>{card}{inp}<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>{item}<bpmn:outputDataItem id="result" name="result"/></bpmn:multiInstanceLoopCharacteristics><bpmn:script>result = {expr}</bpmn:script></bpmn:scriptTask>'''

@pytest.mark.parametrize("seq", ["", 'isSequential="true"'])
@pytest.mark.parametrize("mode", ["input", "card"])
@pytest.mark.parametrize("kind", ["user", "script"])
def test_mi(runtime, designer, agent, seq, mode, kind):
    if mode == "input":
        card, inp, item = "", "<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>", '<bpmn:inputDataItem id="item" name="item"/>'
        expr = "item * 10"
    else:
        card, inp, item = "<bpmn:loopCardinality>3</bpmn:loopCardinality>", "", ""
        expr = "'x'"
    body = (STD if kind == "user" else SCRIPT).format(seq=seq, card=card, inp=inp, item=item, expr=expr)
    with runtime.unit_of_work() as uow:
        deploy(uow, designer, BP.format(body=body).encode(), "t.bpmn"); uow.commit()
    with runtime.unit_of_work() as uow:
        s = cases.start_case(uow, agent, "p", "2026-510117-34-01-000001", variables={"items": [1, 2, 3]}); uow.commit()
        cid = s.case.id
    for i in range(3):
        runtime.specs.clear() if hasattr(runtime.specs, "clear") else None
        with runtime.unit_of_work() as uow:
            tasks = [t for t in cases.case_tasks(uow, cid) if t.state == "ready"]
        if not tasks:
            break
        print([ (t.element_id, t.item) for t in tasks])
        with runtime.unit_of_work() as uow:
            cases.complete_task(uow, agent, tasks[0].id, {"result": f"r{i}"}); uow.commit()
    with runtime.unit_of_work() as uow:
        c = cases.get_case(uow, agent, cid) if hasattr(cases, "get_case") else None
        from engine.store.models import Case
        c = uow.session.get(Case, cid)
        import json
        print(c.status, c.error)
        from engine.workflow import CaseWorkflow
        wf = CaseWorkflow.load(uow, c).workflow
        print(wf.data)
        assert c.status == "completed" and wf.data.get("results")
