"""DMN decision tables deployed with the BPMN and decided by business rule tasks (no HTTP):
each hit policy, Camunda's result mappings, incidents when a table cannot decide, versions."""
from __future__ import annotations

import pytest

from engine.services import cases
from engine.services import incidents
from engine.domain.access import Actor
from engine.services.definitions import deploy_files, find_definition
from engine.errors import Invalid, InvalidDefinition
from engine.adapters.queries import case_variables
from engine.adapters.models import Case
from tests.dmn_text import DMN11, DMN12, table, rule_task_process

DESIGNER = Actor("dora", "designer")
AGENT = Actor("alice", "agent")
KEY = "2026-510117-34-01-000001"

AMOUNT_TABLE = [  # amount → size class
    (["< 1000"], ['"small"']),
    (["[1000..5000)"], ['"medium"']),
    ([">= 5000"], ['"large"']),
]


def deploy(runtime, *files: tuple[str, bytes]):
    with runtime.unit_of_work() as uow:
        result = deploy_files(uow, DESIGNER, [(data, name) for name, data in files])
        uow.commit()
    return result


def refused(runtime, *files: tuple[str, bytes]) -> list[str]:
    with pytest.raises(InvalidDefinition) as error:
        deploy(runtime, *files)
    return error.value.problems


def decide(runtime, variables: dict, business_key: str = KEY, process: str = "decided"):
    """Start a case with `variables`; (its variables after the decision, its open incidents)."""
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, AGENT, process, business_key, variables=variables).case
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        row = uow.session.get(Case, case.id)
        return case_variables(uow, row), incidents.case_incidents(uow, case.id, "open")


def run(runtime, dmn: bytes, variables: dict, attributes: str | None = None):
    process = rule_task_process(attributes=attributes) if attributes is not None else rule_task_process()
    deploy(runtime, ("p.bpmn", process), ("d.dmn", dmn))
    found, open_incidents = decide(runtime, variables)
    assert not open_incidents, [i.message for i in open_incidents]
    return found


@pytest.mark.parametrize("amount, expected", [(0, "small"), (999.5, "small"), (1000, "medium"),
                                              (4999, "medium"), (5000, "large"), (10 ** 9, "large")])
def test_a_unique_table_decides_by_ranges(runtime, amount, expected):
    assert run(runtime, table(AMOUNT_TABLE), {"amount": amount})["result"] == expected


def test_no_matching_rule_gives_no_result(runtime):
    found = run(runtime, table([(["> 10"], ['"big"'])]), {"amount": 1})
    assert found["result"] is None


def test_two_matching_rules_of_a_unique_table_are_an_incident_naming_the_rules(runtime):
    dmn = table([(["< 10"], ['"a"']), (["-"], ['"b"']), (["> 100"], ['"c"'])])
    deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", dmn))
    found, open_incidents = decide(runtime, {"amount": 5})
    [incident] = open_incidents
    assert "decision 'decide'" in incident.message
    assert "Rule1 (row 1), Rule2 (row 2)" in incident.message and "UNIQUE" in incident.message
    assert "result" not in found


@pytest.mark.parametrize("amount, expected", [(5, "a"), (50, "b"), (500, "c")])
def test_first_takes_the_first_matching_rule(runtime, amount, expected):
    dmn = table([(["> 100"], ['"c"']), (["< 10"], ['"a"']), (["-"], ['"b"'])], hit_policy="FIRST")
    assert run(runtime, dmn, {"amount": amount})["result"] == expected


COLLECTED = [(["< 10"], ['"a"']), ([">= 100"], ['"c"']), (["-"], ['"b"'])]
COLLECT_ENTRIES = 'camunda:resultVariable="result" camunda:mapDecisionResult="collectEntries"'


@pytest.mark.parametrize("policy", ["COLLECT", "RULE ORDER"])
@pytest.mark.parametrize("amount, expected", [(5, ["a", "b"]), (500, ["c", "b"]), (50, ["b"])])
def test_collect_and_rule_order_list_every_match_in_rule_order(runtime, policy, amount, expected):
    found = run(runtime, table(COLLECTED, hit_policy=policy), {"amount": amount}, COLLECT_ENTRIES)
    assert found["result"] == expected


@pytest.mark.parametrize("aggregation, expected", [("SUM", 35), ("COUNT", 3), ("MIN", 5), ("MAX", 20)])
def test_collect_aggregates_one_output(runtime, aggregation, expected):
    fees = table([(["> 0"], ["10"]), (["> 100"], ["20"]), (["-"], ["5"]), (["< 0"], ["1000"])],
                 hit_policy="COLLECT", aggregation=aggregation, outputs=["fee"])
    assert run(runtime, fees, {"amount": 500})["result"] == expected


def test_collect_sum_of_no_match_is_no_result_and_count_is_zero(runtime):
    fees = table([(["< 0"], ["10"])], hit_policy="COLLECT", aggregation="SUM", outputs=["fee"])
    assert run(runtime, fees, {"amount": 5})["result"] is None
    counted = table([(["< 0"], ["10"])], hit_policy="COLLECT", aggregation="COUNT", outputs=["fee"],
                    decision_id="decide")
    deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", counted))
    found, _ = decide(runtime, {"amount": 5}, business_key="2026-510117-34-01-000002")
    assert found["result"] == 0


def test_any_gives_the_one_output_its_matching_rules_agree_on_else_an_incident(runtime):
    dmn = table([(["< 10"], ['"ok"']), (["< 20"], ['"ok"']), ([">= 15"], ['"other"'])], hit_policy="ANY")
    assert run(runtime, dmn, {"amount": 5})["result"] == "ok"
    found, [incident] = decide(runtime, {"amount": 17}, business_key="2026-510117-34-01-000002")
    assert "hit policy ANY" in incident.message and "Rule2 (row 2), Rule3 (row 3)" in incident.message


TWO_OUTPUTS = table([(["< 10"], ['"a"', "1"]), (["< 20"], ['"b"', "2"])], outputs=["code", "rank"],
                    hit_policy="COLLECT")


@pytest.mark.parametrize("mapping, amount, expected", [
    ("resultList", 5, [{"code": "a", "rank": 1}, {"code": "b", "rank": 2}]),
    ("resultList", 50, []),
    ("singleResult", 15, {"code": "b", "rank": 2}),
    ("singleResult", 50, None),
])
def test_map_decision_result(runtime, mapping, amount, expected):
    found = run(runtime, TWO_OUTPUTS, {"amount": amount},
                f'camunda:resultVariable="result" camunda:mapDecisionResult="{mapping}"')
    assert found["result"] == expected


def test_a_result_that_does_not_fit_its_mapping_is_an_incident(runtime):
    deploy(runtime, ("p.bpmn", rule_task_process(attributes='camunda:resultVariable="result" '
                                                             'camunda:mapDecisionResult="singleResult"')),
           ("d.dmn", TWO_OUTPUTS))
    _, [incident] = decide(runtime, {"amount": 5})
    assert "singleResult needs at most one result, the decision gave 2" in incident.message


def test_without_result_variable_the_outputs_become_variables(runtime):
    found = run(runtime, table([(["< 10"], ['"a"', "1"])], outputs=["code", "rank"]), {"amount": 5}, "")
    assert (found["code"], found["rank"]) == ("a", 1)


def test_inputs_read_nested_variables_and_outputs_may_compute(runtime):
    dmn = table([(['"出让"', "> limit"], ['project.name + "：需要核准"'])],
                inputs=[("用地方式", "project.land_use"), ("投资", "project.investment")])
    found = run(runtime, dmn, {"project": {"land_use": "出让", "investment": 800, "name": "厂房"}, "limit": 500})
    assert found["result"] == "厂房：需要核准"


def test_a_failing_input_expression_is_an_incident_naming_the_input(runtime):
    deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", table(AMOUNT_TABLE)))
    _, [incident] = decide(runtime, {"other": 1})
    assert "amount" in incident.message


@pytest.mark.parametrize("ns", [DMN11, DMN12])
def test_older_dmn_namespaces_deploy_and_decide(runtime, ns):
    assert run(runtime, table(AMOUNT_TABLE, ns=ns), {"amount": 1200})["result"] == "medium"


# -- deploy ----------------------------------------------------------------------------------

def test_a_missing_decision_is_refused_naming_the_element_and_the_ref(runtime):
    problems = refused(runtime, ("p.bpmn", rule_task_process("fees")), ("d.dmn", table(AMOUNT_TABLE)))
    assert problems == ["p.bpmn:8: businessRuleTask Decide: decisionRef 'fees' names no decision; deploy the "
                        "DMN file with it (decisions known: decide)"]


def test_a_feel_construct_outside_the_subset_is_refused_with_line_rule_and_construct(runtime):
    dmn = table([(["< 10"], ['"a"']), (['matches("x")'], ['"b"']), (["> 5 and < 9"], ['"c"'])])
    problems = refused(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", dmn))
    assert len(problems) == 2
    assert problems[0].startswith("d.dmn:13: rule Rule2: row 2, input 'amount': function matches() is not "
                                  "supported") and problems[0].endswith("(construct: matches())")
    assert problems[1].startswith("d.dmn:17: rule Rule3: row 3, input 'amount':") and "and" in problems[1]


def test_unsupported_table_features_are_refused(runtime):
    problems = refused(runtime, ("p.bpmn", rule_task_process()),
                       ("d.dmn", table(AMOUNT_TABLE, hit_policy="PRIORITY")))
    assert any("hit policy PRIORITY is not supported" in p for p in problems)
    problems = refused(runtime, ("p.bpmn", rule_task_process()),
                       ("d.dmn", table(AMOUNT_TABLE, hit_policy="UNIQUE", aggregation="SUM")))
    assert any("aggregation SUM is not supported" in p for p in problems)
    problems = refused(runtime, ("p.bpmn", rule_task_process(
        attributes='camunda:mapDecisionResult="firstOnly" camunda:decisionRefBinding="version"')),
        ("d.dmn", table(AMOUNT_TABLE)))
    assert any("decisionRefBinding 'version' is not supported" in p for p in problems)
    assert any("mapDecisionResult 'firstOnly' must be one of" in p for p in problems)


def test_dmn_xml_is_parsed_safely(runtime):
    evil = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x "boom">]>\n'
            + table(AMOUNT_TABLE).split(b"\n", 1)[1])
    problems = refused(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", evil))
    assert problems == ["d.dmn:2: DOCTYPE is not allowed in BPMN files (DTDs and entity declarations are "
                        "refused for safety)"]
    broken = table(AMOUNT_TABLE).replace(b"</decision>", b"</decisio>")
    assert refused(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", broken))[0].startswith("d.dmn:")


def test_an_oversized_dmn_file_is_413(runtime):
    from engine.errors import TooLarge
    big = table(AMOUNT_TABLE).replace(b"</definitions>", b"<!--" + b"x" * (5 * 1024 * 1024) + b"--></definitions>")
    with pytest.raises(TooLarge, match="d.dmn"):
        deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", big))


def test_a_dmn_file_alone_is_refused(runtime):
    with pytest.raises(Invalid, match="at least one BPMN file"):
        deploy(runtime, ("d.dmn", table(AMOUNT_TABLE)))


def test_a_decision_defined_twice_in_a_deployment_is_refused(runtime):
    problems = refused(runtime, ("p.bpmn", rule_task_process()), ("a.dmn", table(AMOUNT_TABLE)),
                       ("b.dmn", table(AMOUNT_TABLE)))
    assert "b.dmn:3: decision decide: also defined in a.dmn" in problems


def test_the_table_is_pinned_into_the_version_and_a_changed_table_is_a_new_version(runtime):
    first = deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", table(AMOUNT_TABLE)))
    assert [d.version for d in first.definitions] == [1]
    again = deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", table(AMOUNT_TABLE)))
    assert not again.created
    changed = [(["-"], ['"flat"'])]
    second = deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", table(changed)))
    assert [d.version for d in second.definitions] == [2]
    found, _ = decide(runtime, {"amount": 1})
    assert found["result"] == "flat"
    with runtime.unit_of_work() as uow:  # a case of version 1 still decides with version 1's table
        case = cases.start_case(uow, AGENT, "decided", "2026-510117-34-01-000009", variables={"amount": 1},
                                version=1).case
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        assert case_variables(uow, uow.session.get(Case, case.id))["result"] == "small"


def test_a_later_bpmn_alone_uses_the_decision_deployed_before(runtime):
    deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", table(AMOUNT_TABLE)))
    deploy(runtime, ("p2.bpmn", rule_task_process(pid="decided_again")))
    found, _ = decide(runtime, {"amount": 7000}, process="decided_again")
    assert found["result"] == "large"


def test_a_case_decides_after_a_reload_from_storage(runtime, database_url, clock):
    """A fresh runtime (another server) reads the spec back from the database: same table."""
    from engine.config import Settings
    from engine.runtime import Runtime
    deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", table(AMOUNT_TABLE)))
    other = Runtime(Settings(database_url=database_url), clock=clock)
    try:
        found, _ = decide(other, {"amount": 2500})
    finally:
        other.close()
    assert found["result"] == "medium"


# -- the designers' lint (no database) -------------------------------------------------------

def test_dmn_problems_checks_files_without_a_database():
    from engine.domain.dmn.checks import dmn_problems
    from tests.scenarios.test_approval_items_decision import FILES, PROCESSES
    assert dmn_problems([PROCESSES / name for name in FILES]) == []
    bad = table([(["< 10"], ['"a"']), (["[1..]"], ['"b"'])], hit_policy="OUTPUT ORDER")
    problems = dmn_problems([("p.bpmn", rule_task_process("fees")), ("d.dmn", bad), ("e.dmn", b"<definitions")])
    assert any(p.startswith("d.dmn:4: decisionTable Table_decide: hit policy OUTPUT ORDER is not supported")
               for p in problems), problems
    assert any(p.startswith("d.dmn:13: rule Rule2: row 2, input 'amount':") for p in problems), problems
    assert any(p.startswith("e.dmn:1:") for p in problems), problems
    assert "p.bpmn:8: businessRuleTask Decide: decisionRef 'fees' names no decision; deploy the DMN file with " \
           "it (decisions known: decide)" in problems


MODELER_FILE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" xmlns:modeler="http://camunda.org/schema/modeler/1.0" xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="Definitions_0x1" name="DRD" namespace="http://camunda.org/schema/1.0/dmn" exporter="Camunda Modeler" exporterVersion="5.17.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <decision id="decide" name="Fee">
    <decisionTable id="DecisionTable_1tq9">
      <input id="Input_1" label="Amount" camunda:inputVariable="value">
        <inputExpression id="InputExpression_1" typeRef="integer">
          <text>amount</text>
        </inputExpression>
      </input>
      <output id="Output_1" label="Result" name="result" typeRef="string" />
      <rule id="DecisionRule_0a1">
        <description>small</description>
        <inputEntry id="UnaryTests_1">
          <text>&lt; 10</text>
        </inputEntry>
        <outputEntry id="LiteralExpression_1">
          <text>"low"</text>
        </outputEntry>
      </rule>
      <rule id="DecisionRule_0a2">
        <inputEntry id="UnaryTests_2">
          <text>value &gt;= 10</text>
        </inputEntry>
        <outputEntry id="LiteralExpression_2">
          <text>"high"</text>
        </outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram>
      <dmndi:DMNShape dmnElementRef="decide">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


def test_a_camunda_modeler_file_deploys_and_names_its_unsupported_cell(runtime):
    problems = refused(runtime, ("p.bpmn", rule_task_process()), ("fee.dmn", MODELER_FILE))
    assert len(problems) == 1 and problems[0].startswith("fee.dmn:21: rule DecisionRule_0a2: row 2, input 'Amount':")
    fixed = MODELER_FILE.replace(b"value &gt;= 10", b"&gt;= 10")
    assert run(runtime, fixed, {"amount": 12})["result"] == "high"


def test_an_incident_of_a_decision_is_repaired_by_fixing_the_variables_and_retrying(runtime):
    from engine.services import repair
    admin = Actor("root", "admin")
    dmn = table([(["< 10"], ['"a"']), (["< 20"], ['"b"'])])
    deploy(runtime, ("p.bpmn", rule_task_process()), ("d.dmn", dmn))
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, AGENT, "decided", KEY, variables={"amount": 5}).case
        uow.commit()
    with runtime.unit_of_work() as uow:
        repair.patch_variables(uow, admin, case.id, {"amount": 15})
        repair.retry_case(uow, admin, case.id)
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        row = uow.session.get(Case, case.id)
        assert case_variables(uow, row)["result"] == "b"
        assert not incidents.case_incidents(uow, case.id, "open")
        assert [t.element_id for t in cases.case_tasks(uow, case.id) if t.state == "ready"] == ["Look"]


@pytest.mark.parametrize("variables, fee, collects", [
    ({"floor_area": 2000, "building_use": "office", "applied_on": "2026-05-01"}, 200, True),
    ({"floor_area": 12000, "building_use": "factory", "applied_on": "2026-05-01"}, 1200, True),
    ({"floor_area": 12000, "building_use": "residential", "applied_on": "2026-05-01"}, 200, True),
    ({"floor_area": 500, "building_use": "school", "applied_on": "2026-05-01"}, 0, False),
    ({"floor_area": 500, "building_use": "school", "applied_on": "2027-01-04"}, 200, True),
])
def test_a_modeler_fee_table_sums_its_rules(runtime, variables, fee, collects):
    """tests/bpmn/modeler/permit_fee.{bpmn,dmn} as Camunda Modeler saves them: COLLECT SUM,
    empty cells, not(...), lists, date intervals, a computed output, a JUEL condition on the result."""
    from tests.conftest import BPMN
    deploy(runtime, *[(name, (BPMN / "modeler" / name).read_bytes()) for name in ("permit_fee.bpmn", "permit_fee.dmn")])
    found, open_incidents = decide(runtime, variables, process="permit_fee")
    assert not open_incidents and found["fee"] == fee
    with runtime.unit_of_work(write=False) as uow:
        [row] = uow.session.query(Case).all()
        ready = [t.element_id for t in cases.case_tasks(uow, row.id) if t.state == "ready"]
        assert (ready == ["Activity_0pay"]) is collects and row.status == ("running" if collects else "completed")
