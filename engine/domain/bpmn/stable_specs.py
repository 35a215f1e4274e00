"""Specs that never change while cases run.

We store a definition version's specs once and share the restored objects between every case of
that version in a process; a case's saved state holds its task tree and data, not the specs. Two
things in SpiffWorkflow 3.2 rewrite a spec while a case runs, so a case reloaded with a freshly
restored spec (a restart, another gunicorn worker, an emptied spec cache) went another way than
in the process that ran it, and one case's run changed how other cases of the version ran:

1. Camunda multi-instance tasks decide, each time an instance starts, how `camunda:collection` /
   `loopCardinality` is used by *assigning* `data_input`, `input_item` and `cardinality` on the
   spec. Reloaded with `data_input = None`, each finished instance was *appended* to the
   collection instead of replacing its own entry (issue 9: 35 bodies became 70 and the summary
   script failed with `KeyError: 'site_opinion'`); and one case whose `loopCardinality`
   evaluates to a list set `cardinality = None` for every other case.
   Here what the BPMN alone decides (the collection is both input and output; the element
   variable is the input item) is set when the spec is built, and what depends on a case's data
   (whether `loopCardinality` evaluates to a number or names a collection) is decided per
   instance task, kept in that task's internal data (saved with the case) and seen by the spec
   only while SpiffWorkflow works on that task (a context variable: threads do not see it).
2. An event subprocess started by a message/signal/error is connected to the process's start
   task and end when it is triggered (`BpmnStartTask.trigger_wf`). Reloaded without that
   connection, it failed with "No input task connected"; and with it, every *new* case of the
   version started the event subprocess at once as if it were a normal path.
   Here the event subprocess gets its input and output when the spec is restored, without
   becoming an output of the start task, so `trigger_wf` finds it connected and changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask as _BpmnParallel
from SpiffWorkflow.bpmn.specs.defaults import SequentialMultiInstanceTask as _BpmnSequential
from SpiffWorkflow.bpmn.specs.mixins import BpmnSpecMixin
from SpiffWorkflow.camunda.specs import multiinstance_task as _camunda
from SpiffWorkflow.util.task import TaskState

# internal-data key of a multi-instance task whose loopCardinality evaluated to a collection
CARDINALITY_COLLECTION = "ow_cardinality_collection"

_CURRENT: ContextVar[tuple[Any, str] | None] = ContextVar("ow_mi_collection", default=None)


class _StableMultiInstance:
    """Mixin: the Camunda multi-instance behaviour without writes to the shared spec."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._cardinality is None and self.data_output is not None and self._data_input is None:
            self._data_input = TaskDataReference(self.data_output.bpmn_id)  # collection in place
        if self.input_item is None and self.output_item is not None:
            self.input_item = TaskDataReference(self.output_item.bpmn_id)

    # `data_input` and `cardinality` as the task being worked on sees them
    @property
    def data_input(self) -> Any:
        current = _CURRENT.get()
        if current is not None and current[0] is self:
            return TaskDataReference(current[1])
        return self._data_input

    @data_input.setter
    def data_input(self, value: Any) -> None:
        self._data_input = value

    @property
    def cardinality(self) -> Any:
        current = _CURRENT.get()
        if current is not None and current[0] is self:
            return None
        return self._cardinality

    @cardinality.setter
    def cardinality(self, value: Any) -> None:
        self._cardinality = value

    @contextmanager
    def _seen_by(self, my_task: Any) -> Iterator[None]:
        collection = my_task.internal_data.get(CARDINALITY_COLLECTION) if my_task is not None else None
        token = _CURRENT.set((self, collection) if collection is not None else None)
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def _update_hook(self, my_task: Any) -> Any:
        # What camunda's `update_task_spec` does, except that the outcome goes on the task.
        if my_task.state != TaskState.WAITING:
            BpmnSpecMixin._update_hook(self, my_task)
            my_task._set_state(TaskState.WAITING)
        if self._cardinality is not None:
            value = my_task.workflow.script_engine.evaluate(my_task, self._cardinality)
            if not isinstance(value, int):  # loopCardinality names the input collection
                my_task.internal_data[CARDINALITY_COLLECTION] = self._cardinality
            else:
                my_task.internal_data.pop(CARDINALITY_COLLECTION, None)
        with self._seen_by(my_task):
            return self._bpmn_class._update_hook(self, my_task)

    def merge_child(self, workflow: Any, child: Any) -> None:
        with self._seen_by(child.parent):
            super().merge_child(workflow, child)

    def task_info(self, my_task: Any) -> dict[str, Any]:
        with self._seen_by(my_task):
            return super().task_info(my_task)


class ParallelMultiInstanceTask(_StableMultiInstance, _camunda.ParallelMultiInstanceTask):
    """Same name as SpiffWorkflow's, so the stored spec JSON (`typename`) stays the same."""

    _bpmn_class = _BpmnParallel


class SequentialMultiInstanceTask(_StableMultiInstance, _camunda.SequentialMultiInstanceTask):
    """Same name as SpiffWorkflow's, so the stored spec JSON (`typename`) stays the same."""

    _bpmn_class = _BpmnSequential


def stabilize(spec: Any) -> Any:
    """Connect a restored process spec's triggered event subprocesses once (see 2 above)."""
    start = getattr(spec, "start", None)
    for name in getattr(start, "trigger_specs", ()):
        triggered = spec.task_specs.get(name)
        if triggered is None:
            continue
        if start.name not in triggered._inputs:
            triggered._inputs.append(start.name)
        if spec.end.name not in triggered._outputs:
            triggered.connect(spec.end)
    return spec
