"""Evaluate a decision table against a task's data: inputs, matching rules, hit policy.

SpiffWorkflow's `DMNEngine` knows UNIQUE (returning the first match, never noticing a second)
and COLLECT. This engine keeps its shape (a `decision_table`, `result(task)`) so SpiffWorkflow's
serializer and task spec work with it, and decides as DMN 1.3 says for UNIQUE, FIRST, ANY,
COLLECT (with SUM, COUNT, MIN, MAX) and RULE ORDER. Every expression (input expressions, the
translated unary tests, output entries) runs through the workflow's script engine, that is
`engine.domain.expressions`: nothing here evaluates text itself.

A table that cannot decide (two rules match a UNIQUE table, ANY rules disagree, an input
expression fails) raises `WorkflowTaskException` on the task, which the engine turns into an
incident on the case naming the decision and the rules.
"""
from __future__ import annotations

import functools
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.model import DecisionTable, Rule

from engine.domain.dmn.feel import CELL_INPUT

DecisionResult = list[dict[str, Any]]  # one dict (output name → value) per rule result


def _rules(rules: list[Rule]) -> str:
    return ", ".join(f"{rule.id} (row {rule.row_number})" for rule in rules)


class DecisionEngine(DMNEngine):
    """Decides one decision table; `decision_table.hit_policy` is e.g. "UNIQUE" or "COLLECT SUM"."""

    def __init__(self, decision_table: DecisionTable, decision_id: str | None = None) -> None:
        super().__init__(decision_table)
        self.decision_id = decision_id or decision_table.id

    @functools.cached_property
    def policy(self) -> tuple[str, str | None]:
        """(hit policy, aggregation), read once per engine: `matches` asks for every rule."""
        parts = self.decision_table.hit_policy.split()
        if parts[:2] == ["RULE", "ORDER"]:
            return "RULE ORDER", None
        return parts[0], (parts[1] if len(parts) > 1 else None)

    def _fail(self, task: Any, message: str) -> WorkflowTaskException:
        return WorkflowTaskException(f"decision '{self.decision_id}': {message}", task=task)

    def matches(self, task: Any) -> list[Rule]:
        """The rules whose every input entry accepts the task's input values, in table order."""
        engine = task.workflow.script_engine
        values = []
        for column in self.decision_table.inputs:
            try:
                values.append(engine.evaluate(task, column.expression))
            except WorkflowTaskException as error:
                error.add_note(f"decision '{self.decision_id}', input '{column.label}'")
                raise
        matched = []
        for rule in self.decision_table.rules:
            for entry, value in zip(rule.inputEntries, values):
                test = entry.lhs[0] if entry.lhs else None
                if test is None:
                    continue
                try:
                    accepted = engine.evaluate(task, test, external_context={CELL_INPUT: value})
                except WorkflowTaskException as error:
                    error.add_note(f"decision '{self.decision_id}', rule {rule.id} (row {rule.row_number}), "
                                   f"input '{entry.input.label}'")
                    raise
                if not accepted:
                    break
            else:
                matched.append(rule)
                if self.policy[0] == "FIRST":
                    break
        return matched

    def _outputs(self, task: Any, rule: Rule) -> dict[str, Any]:
        engine = task.workflow.script_engine
        out: dict[str, Any] = {}
        for entry in rule.outputEntries:
            try:
                out[entry.output.name] = engine.evaluate(task, entry.text) if entry.text else None
            except WorkflowTaskException as error:
                error.add_note(f"decision '{self.decision_id}', rule {rule.id} (row {rule.row_number}), "
                               f"output '{entry.output.name}'")
                raise
        return out

    def decide(self, task: Any) -> list[Rule]:
        """SpiffWorkflow's name for the matching rules (its own matching evaluates cells as Python)."""
        return self.matches(task)

    def results(self, task: Any) -> DecisionResult:
        """The decision result: one entry per rule result (an aggregation gives one entry)."""
        policy, aggregation = self.policy
        matched = self.matches(task)
        if policy == "UNIQUE" and len(matched) > 1:
            raise self._fail(task, f"hit policy UNIQUE but {len(matched)} rules match: {_rules(matched)}; "
                                   f"a UNIQUE table must match at most one rule")
        results = [self._outputs(task, rule) for rule in matched]
        if policy == "ANY" and any(r != results[0] for r in results[1:]):
            raise self._fail(task, f"hit policy ANY but the matching rules {_rules(matched)} give different "
                                   f"outputs")
        if policy == "ANY":
            return results[:1]
        if aggregation is None:
            return results
        name = self.decision_table.outputs[0].name
        values = [r[name] for r in results if r.get(name) is not None]
        if aggregation == "COUNT":
            return [{name: len(values)}]
        if not values:
            return []
        try:
            value = {"SUM": sum, "MIN": min, "MAX": max}[aggregation](values)
        except TypeError:
            raise self._fail(task, f"COLLECT {aggregation} over values that cannot be combined: {values!r:.200}") \
                from None
        return [{name: value}]

    def result(self, task: Any) -> dict[str, Any]:
        """SpiffWorkflow's shape (used without camunda:resultVariable): one result's outputs as
        variables; several results: each output name holds the list of its values."""
        results = self.results(task)
        outputs = [output.name for output in self.decision_table.outputs]
        if self.policy[0] not in ("COLLECT", "RULE ORDER") or self.policy[1] is not None:
            first = results[0] if results else {}
            return {name: first.get(name) for name in outputs}
        return {name: [entry.get(name) for entry in results] for name in outputs}
