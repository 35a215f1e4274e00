"""Values computed at run time, checked before SpiffWorkflow uses them, so that a bad value in
case data becomes an error on the case and its task (an incident), never a hang or a crash.

SpiffWorkflow asks the script engine for these values and then trusts them:
- a timer's date, duration or cycle (`engine.domain.bpmn.timer_values`: `P99999999Y` would loop over
  1.2 billion months, `5` raises a bare AttributeError);
- a multi-instance's `loopCardinality` (`10**11` would create that many tasks at once);
- a standard loop's `loopCondition`, evaluated after each iteration (always true: a loop that
  never ends, inside one request).

`checked(engine)` puts `ValueChecks` in front of the script engine's class; a refused value
raises `WorkflowTaskException` naming the task, which `CaseWorkflow.run` records.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask

from engine.domain.bpmn import timer_values

MAX_INSTANCES = 1000  # instances one multi-instance activity may create
MAX_LOOPS = 1000  # iterations of one standard loop


def _timer_definition(task_spec: Any, expression: str) -> Any:
    """The timer event definition of `task_spec` whose expression is `expression`, if any."""
    definition = getattr(task_spec, "event_definition", None)
    for candidate in (definition, *getattr(definition, "event_definitions", [])):
        if isinstance(candidate, TimerEventDefinition) and candidate.expression == expression:
            return candidate
    return None


def problem_of(task: Any, expression: str, value: Any) -> str | None:
    """Why `value` (what `expression` gave for `task`) must not be used, or None."""
    spec = task.task_spec
    timer = _timer_definition(spec, expression)
    if timer is not None:
        try:
            timer_values.check_value(timer_values.kind_of(timer), value)
        except timer_values.TimerValueError as error:
            return f"timer {expression.strip()!r}: {error}"
        return None
    if isinstance(spec, MultiInstanceTask) and expression == spec.cardinality and isinstance(value, int) \
            and value > MAX_INSTANCES:
        return (f"loopCardinality {expression.strip()!r} is {value}; a multi-instance creates at most "
                f"{MAX_INSTANCES} instances")
    if isinstance(spec, StandardLoopTask) and expression == spec.condition and value \
            and len(task.internal_data.get("merged", [])) >= MAX_LOOPS:
        return (f"the loop ran {MAX_LOOPS} times and its loopCondition {expression.strip()!r} is still "
                f"true; give it a loopMaximum or a condition that ends")
    return None


class ValueChecks:
    """Mixed in front of the script engine's class (see the module docstring)."""

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        value = super().evaluate(task, expression, external_context)  # type: ignore[misc]
        problem = problem_of(task, expression, value) if task is not None else None
        if problem is not None:
            raise WorkflowTaskException(problem, task=task)
        return value


def checked(engine: Any) -> Any:
    """The same script engine (same state), with `ValueChecks` in front of its class."""
    cls = type(engine)
    if issubclass(cls, ValueChecks):
        return engine
    checked_class = type(f"Checked{cls.__name__}", (ValueChecks, cls), {})
    new = checked_class.__new__(checked_class)
    new.__dict__.update(engine.__dict__)
    return new
