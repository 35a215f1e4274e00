"""Files as Camunda Modeler writes them run unmodified: JUEL in conditions, candidate groups,
assignees and multi-instance collections (tests/bpmn/modeler/)."""
from __future__ import annotations

import pytest

from engine.services import cases
from engine.services import definitions
from engine.domain.access import Actor
from engine.errors import InvalidDefinition
from tests.conftest import BPMN, deploy_file, staff
from tests.engine.test_cases import complete, get_case, open_tasks, start

REVIEWERS = [{"name": "li", "dept": "county.zrzyj"}, {"name": "zhao", "dept": "county.sthjj"}]


def test_juel_routes_a_large_amount_through_the_reviewers(runtime, agent):
    deploy_file(runtime, "modeler/juel_routing.bpmn")
    case = start(runtime, agent, "juel_routing", variables={"amount": 5000, "reviewers": REVIEWERS}).case
    reviews = open_tasks(runtime, case.id)
    assert sorted((t.department, t.assignee) for t in reviews) == [("county.sthjj", "zhao"), ("county.zrzyj", "li")]
    for task in reviews:
        complete(runtime, Actor(task.assignee, "staff", task.department), task.id)
    [filing] = open_tasks(runtime, case.id)
    assert filing.element_id == "Activity_file" and filing.department == "county.fgj"
    complete(runtime, staff("county.fgj"), filing.id)
    assert get_case(runtime, case.id).status == "completed"


@pytest.mark.parametrize("variables", [{"amount": 500, "reviewers": REVIEWERS}, {"amount": 5000, "reviewers": []}])
def test_juel_default_flow_and_ternary_group(runtime, agent, variables):
    deploy_file(runtime, "modeler/juel_routing.bpmn")
    case = start(runtime, agent, "juel_routing", variables=variables).case
    [filing] = open_tasks(runtime, case.id)
    assert filing.element_id == "Activity_file"
    assert filing.department == ("county.fgj" if variables["amount"] > 1000 else "county.zjj")


@pytest.mark.parametrize("expression, construct", [
    ("${timerUtil.next(execution)}", "timerUtil.next()"),
    ("${dateTime().plusWeeks(1)}", "dateTime()"),
])
def test_java_in_an_expression_is_refused_at_deploy_naming_file_line_element_and_construct(runtime, expression, construct):
    text = (BPMN / "modeler" / "juel_routing.bpmn").read_text()
    text = text.replace("${amount gt 1000 &amp;&amp; !empty reviewers}", expression)
    with runtime.unit_of_work() as uow, pytest.raises(InvalidDefinition) as refused:
        definitions.deploy(uow, Actor("dora", "designer"), text.encode(), "modeler.bpmn")
    [problem] = refused.value.problems
    assert problem.startswith("modeler.bpmn:13:") and "Flow_large" in problem and construct in problem, problem


def test_a_collection_that_is_not_a_variable_is_refused_at_deploy(runtime):
    text = (BPMN / "modeler" / "juel_routing.bpmn").read_text().replace(
        'camunda:collection="${reviewers}"', 'camunda:collection="${project.reviewers}"')
    with runtime.unit_of_work() as uow, pytest.raises(InvalidDefinition) as refused:
        definitions.deploy(uow, Actor("dora", "designer"), text.encode(), "modeler.bpmn")
    assert any("Activity_review" in p and "must name a variable" in p for p in refused.value.problems), \
        refused.value.problems
