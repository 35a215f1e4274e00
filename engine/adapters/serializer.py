"""Workflow state to JSON and back, without the process spec in every case row.

SpiffWorkflow's serializer embeds the whole spec in each workflow; we store specs once per
definition version and keep only the task tree and data per case.
"""
from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask as _BpmnParallelMI
from SpiffWorkflow.bpmn.specs.defaults import SequentialMultiInstanceTask as _BpmnSequentialMI
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from SpiffWorkflow.task import Task

from engine.adapters.fast_specs import PLAIN_STATE, FastTaskConverter, fast_uuid, forget_uuid_cache, plain_state
from engine.domain.bpmn.stable_specs import ParallelMultiInstanceTask, SequentialMultiInstanceTask, stabilize
from engine.adapters.case_cache import CaseStateCache
from engine.domain.expressions import SafeScriptEngine

_specs: ContextVar[tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]] = ContextVar("specs")


class StateConverter(BpmnWorkflowConverter):
    """A BpmnWorkflow converter that leaves the specs out and takes them from the cache."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = _specs.get()
        dct["spec"] = None
        dct["subprocess_specs"] = {}
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        task_from_dict = self.registry.convert_from_dict["Task"].args[0]
        cache = workflow._ow_uuids = {}
        tasks = {}
        for key, value in dct["tasks"].items():  # FastTaskConverter: shared UUIDs, fewer look-ups
            tasks[fast_uuid(key, cache)] = task_from_dict(value, workflow=workflow)
        workflow.tasks = tasks
        workflow.task_tree = tasks.get(fast_uuid(dct["root"], cache))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        forget_uuid_cache(workflow)
        return workflow


_SPEC_CONFIG = dict(CAMUNDA_CONFIG)
# Restored specs use multi-instance classes that never rewrite themselves at run time (same
# typename, same JSON; registered after SpiffWorkflow's, so they win on restore).
_SPEC_CONFIG[ParallelMultiInstanceTask] = MultiInstanceTaskConverter
_SPEC_CONFIG[SequentialMultiInstanceTask] = MultiInstanceTaskConverter


class _StandardParallelMIConverter(MultiInstanceTaskConverter):
    """Standard BPMN multi-instance (what the Camunda parser builds for a script task, say):
    the Camunda config drops these classes, and their name is taken by the Camunda ones."""

    def __init__(self, target_class: type, registry: Any) -> None:
        super().__init__(target_class, registry, typename="StandardParallelMultiInstanceTask")


class _StandardSequentialMIConverter(MultiInstanceTaskConverter):
    def __init__(self, target_class: type, registry: Any) -> None:
        super().__init__(target_class, registry, typename="StandardSequentialMultiInstanceTask")


_SPEC_CONFIG[_BpmnParallelMI] = _StandardParallelMIConverter
_SPEC_CONFIG[_BpmnSequentialMI] = _StandardSequentialMIConverter
_STATE_CONFIG = dict(_SPEC_CONFIG)
_STATE_CONFIG[BpmnWorkflow] = StateConverter
_STATE_CONFIG[Task] = FastTaskConverter  # same JSON as SpiffWorkflow's TaskConverter, cheaper

# BPMN-standard multi-instance specs (engine.domain.bpmn.standard_multi_instance, used by the parser).
from engine.domain.bpmn import standard_multi_instance as _standard_multi_instance  # noqa: E402
_standard_multi_instance.register(_SPEC_CONFIG)
_standard_multi_instance.register(_STATE_CONFIG)
from engine.domain.bpmn import external_task_spec as _external_task_spec  # noqa: E402
_external_task_spec.register(_SPEC_CONFIG)
_external_task_spec.register(_STATE_CONFIG)
# Business rule tasks deciding with a DMN table pinned into the spec (engine.domain.dmn).
from engine.domain.dmn import business_rule_task as _business_rule_task  # noqa: E402
_business_rule_task.register(_SPEC_CONFIG)
_business_rule_task.register(_STATE_CONFIG)
# Timer events on the runtime clock (engine.domain.bpmn.timer_events), under the library's typenames.
from engine.domain.bpmn import timer_events as _timer_events  # noqa: E402
_timer_events.register(_SPEC_CONFIG)
_timer_events.register(_STATE_CONFIG)

SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_SPEC_CONFIG))
STATE_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_STATE_CONFIG))
SCRIPT_ENGINE = SafeScriptEngine()
# Timer values, cardinalities and loop conditions are checked before SpiffWorkflow uses them.
from engine.domain.bpmn.value_checks import checked as _checked  # noqa: E402
SCRIPT_ENGINE = _checked(SCRIPT_ENGINE)


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    registry = SPEC_SERIALIZER.registry
    return json.dumps({
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
    })


def load_specs(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    dct = json.loads(text)
    registry = SPEC_SERIALIZER.registry
    return (stabilize(registry.restore(dct["spec"])),
            {name: stabilize(registry.restore(s)) for name, s in dct["subprocess_specs"].items()})


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a state is converted.

    Why: loading a wide case allocates tens of thousands of containers that all stay alive
    (the task tree), so every collection started meanwhile scans them in vain and, worse,
    promotes them towards the oldest generation, where they wait for a full collection once the
    command drops them (measured at 256 items: 268 → 54 collections per 40 completions, gen-2
    ones 2 → 1). Correct because the collector only frees objects nothing can reach; pausing it
    changes when unreachable cycles are freed, never what a reachable object holds (no
    finalizer or weak reference of the workflow depends on it). Reference counting goes on.
    Process-wide: a thread that finds the collector already paused leaves it as it found it,
    so the one that paused it resumes it."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def release(workflow: BpmnWorkflow) -> None:
    """Break the reference cycles of a workflow nobody will use again (task ↔ workflow, top ↔
    subprocess), so reference counting frees its task tree at once instead of the cyclic
    collector scanning it, promoted, in later collections. Only for a workflow its holder has
    to itself: a write command's (`CaseWorkflow`, released when its unit of work ends; never one
    in `LIVE_WORKFLOWS`, which reads share)."""
    for process in [workflow, *workflow.subprocesses.values()]:
        process.tasks = {}
        process.task_tree = None
        process.last_task = None
    workflow.subprocesses = {}


def dump_state(workflow: BpmnWorkflow) -> str:
    with collector_paused():
        return STATE_SERIALIZER.serialize_json(workflow)


def load_state(text: str, spec: BpmnProcessSpec,
               subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    """The workflow saved as `text` (SpiffWorkflow's `deserialize_json`, with the specs from the
    cache; a plain state's values are not copied once more, see `fast_specs.plain_state`)."""
    token = _specs.set((spec, subprocess_specs))
    try:
        with collector_paused():
            dct = json.loads(text, cls=STATE_SERIALIZER.json_decoder_cls)
            plain = PLAIN_STATE.set(plain_state(text, dct, STATE_SERIALIZER.VERSION))
            try:
                STATE_SERIALIZER.migrate(dct)
                workflow = STATE_SERIALIZER.from_dict(dct)
            finally:
                PLAIN_STATE.reset(plain)
    finally:
        _specs.reset(token)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def new_workflow(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)


__all__ = ["dump_specs", "load_specs", "dump_state", "load_state", "new_workflow", "VERSION"]


# Workflows read back from a case's saved state text and not run since (a read such as
# `queries.case_variables` gives its copy back), so the next command on that case can skip
# deserializing. A workflow that ran a command is never put here: it is not the same as one read
# back from what it saved (SpiffWorkflow shares nested data between tasks; issue 9). An entry is
# used only for the exact state text it was read from, so a write by another worker is a miss.
LIVE_WORKFLOWS: CaseStateCache[BpmnWorkflow] = CaseStateCache()
