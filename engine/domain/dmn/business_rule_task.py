"""Business rule tasks with `camunda:decisionRef`: the task spec, its parser and its converter.

The decision table is pinned into the process version at deploy (like a called process): the
table travels inside the stored spec (`BaseBusinessRuleTaskConverter` writes it), so a case
decides with the table it was deployed with, on every worker and after any reload, and a
changed table is a new version of the process.

Camunda attributes read: `decisionRef` (a decision id of the deployment), `resultVariable`,
`mapDecisionResult` (`resultList` default, `singleResult`, `singleEntry`, `collectEntries`) and
`decisionRefBinding` (`latest` and `deployment` both mean the table deployed with the process;
others are refused at deploy, see `engine.domain.dmn.checks`). Without `resultVariable` the
outputs become variables as SpiffWorkflow does (`DecisionEngine.result`).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.util.deep_merge import DeepMerge

from engine.domain.dmn.evaluation import DecisionEngine, DecisionResult

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
MAPPINGS = ("resultList", "singleResult", "singleEntry", "collectEntries")
BINDINGS = ("latest", "deployment")


def camunda(node: Any, name: str) -> str | None:
    value = node.get(f"{{{CAMUNDA_NS}}}{name}")
    return value.strip() if value is not None else None


def map_result(results: DecisionResult, mapping: str) -> Any:
    """Camunda's mapDecisionResult; a result that does not fit the mapping is an error."""
    if mapping == "resultList":
        return results
    if mapping == "collectEntries":
        if any(len(entry) != 1 for entry in results):
            raise ValueError("mapDecisionResult collectEntries needs one output per result; the table has "
                             f"{len(results[0])}")
        return [next(iter(entry.values())) for entry in results]
    if len(results) > 1:
        raise ValueError(f"mapDecisionResult {mapping} needs at most one result, the decision gave {len(results)} "
                         f"(use resultList or collectEntries)")
    if mapping == "singleResult":
        return results[0] if results else None
    if results and len(results[0]) != 1:
        raise ValueError(f"mapDecisionResult singleEntry needs one output; the table has {len(results[0])}")
    return next(iter(results[0].values())) if results else None


class DecisionTask(BusinessRuleTask):
    """A business rule task deciding with a pinned decision table (`dmnEngine`)."""

    def __init__(self, wf_spec: Any, name: str, dmnEngine: DecisionEngine, decision_ref: str | None = None,
                 result_variable: str | None = None, map_decision_result: str = "resultList",
                 **kwargs: Any) -> None:
        super().__init__(wf_spec, name, dmnEngine, **kwargs)
        self.decision_ref = decision_ref
        self.result_variable = result_variable
        self.map_decision_result = map_decision_result or "resultList"

    def _run_hook(self, my_task: Any) -> bool:
        engine: DecisionEngine = self.dmnEngine
        try:
            if self.result_variable:
                try:
                    value = map_result(engine.results(my_task), self.map_decision_result)
                except ValueError as error:
                    raise WorkflowTaskException(f"decision '{engine.decision_id}': {error}", task=my_task) from None
                my_task.data[self.result_variable] = value
            else:
                my_task.data = DeepMerge.merge(my_task.data, engine.result(my_task))
        except WorkflowTaskException as error:
            error.add_note(f"Business rule task '{self.bpmn_name or self.bpmn_id}'")
            raise
        return super(BusinessRuleTaskMixin, self)._run_hook(my_task)


class DecisionTaskParser(CamundaTaskParser):
    """Builds a `DecisionTask` from the tables the deploy gathered (`parser.decision_tables`:
    decision id → DecisionTable, set by `engine.domain.bpmn.parser.parse_specs`)."""

    def create_task(self) -> DecisionTask:
        ref = self.get_decision_ref(self.node)
        tables = getattr(self.process_parser.parser, "decision_tables", {}) or {}
        if not ref or ref not in tables:
            self.raise_validation_exception(f"decisionRef '{ref}' names no decision of the deployment"
                                            if ref else "a business rule task needs camunda:decisionRef")
        return DecisionTask(self.spec, self.bpmn_id, dmnEngine=DecisionEngine(tables[ref], ref), decision_ref=ref,
                            result_variable=camunda(self.node, "resultVariable") or None,
                            map_decision_result=camunda(self.node, "mapDecisionResult") or "resultList",
                            **self.bpmn_attributes)

    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        """The decision id (SpiffWorkflow's parser collects them; None-safe, unlike its own)."""
        return camunda(node, "decisionRef")


class DecisionTaskConverter(BaseBusinessRuleTaskConverter):
    """Stores the table with the spec (SpiffWorkflow's converter) plus our attributes, and
    restores it into a `DecisionEngine` (SpiffWorkflow's would build its own engine)."""

    def to_dict(self, spec: DecisionTask) -> dict[str, Any]:
        dct = super().to_dict(spec)
        dct.update(decision_ref=spec.decision_ref, result_variable=spec.result_variable,
                   map_decision_result=spec.map_decision_result)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> DecisionTask:
        table = self.decision_table_from_dict(dct.pop("decision_table"))
        dct["dmnEngine"] = DecisionEngine(table, dct.get("decision_ref"))
        return self.task_spec_from_dict(dct)


def register(config: dict) -> None:
    """Add the converter to a serializer configuration (spec and state serializers)."""
    config[DecisionTask] = DecisionTaskConverter
