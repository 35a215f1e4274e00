import pytest
from engine import cases
from engine.definitions import deploy
from tests.scratch.test_repro import BP

TIMER = '<bpmn:intermediateCatchEvent id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing><bpmn:timerEventDefinition id="TD"><bpmn:timeDuration>wait</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'

@pytest.mark.parametrize("value", ["garbage", 5, [1], "P99999999Y", "PT0S"])
def test_rt(runtime, designer, agent, value):
    with runtime.unit_of_work() as uow:
        deploy(uow, designer, BP.format(body=TIMER).encode(), "t.bpmn"); uow.commit()
    with runtime.unit_of_work() as uow:
        s = cases.start_case(uow, agent, "p", "2026-510117-34-01-000001", variables={"wait": value}); uow.commit()
        print(value, s.case.status, s.case.error)
