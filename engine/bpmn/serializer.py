"""Workflow state to JSON and back, without the process spec in every case row.

SpiffWorkflow's serializer embeds the whole spec in each workflow; we store specs once per
definition version and keep only the task tree and data per case.
"""
from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from SpiffWorkflow.task import Task

from engine.bpmn.fast_specs import FastTaskConverter, fast_uuid, forget_uuid_cache
from engine.expressions import SafeScriptEngine

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
_STATE_CONFIG = dict(CAMUNDA_CONFIG)
_STATE_CONFIG[BpmnWorkflow] = StateConverter
_STATE_CONFIG[Task] = FastTaskConverter  # same JSON as SpiffWorkflow's TaskConverter, cheaper

SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_SPEC_CONFIG))
STATE_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_STATE_CONFIG))
SCRIPT_ENGINE = SafeScriptEngine()


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    registry = SPEC_SERIALIZER.registry
    return json.dumps({
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
    })


def load_specs(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    dct = json.loads(text)
    registry = SPEC_SERIALIZER.registry
    return (registry.restore(dct["spec"]),
            {name: registry.restore(s) for name, s in dct["subprocess_specs"].items()})


def dump_state(workflow: BpmnWorkflow) -> str:
    return STATE_SERIALIZER.serialize_json(workflow)


def load_state(text: str, spec: BpmnProcessSpec,
               subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    token = _specs.set((spec, subprocess_specs))
    try:
        workflow = STATE_SERIALIZER.deserialize_json(text)
    finally:
        _specs.reset(token)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def new_workflow(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)


__all__ = ["dump_specs", "load_specs", "dump_state", "load_state", "new_workflow", "VERSION"]


class LiveWorkflows:
    """The live workflows of recently saved cases, so the next command skips deserializing.

    An entry is keyed by case id and valid only for the exact state text it was saved as: a
    command that finds `case.state` equal to the cached text (the same process saved it last)
    takes the workflow out of the cache; it goes back only after that command commits, so a
    failed or rolled-back command never leaves a half-changed workflow behind. Any other
    writer (another worker, a migration) changes the text and the entry is simply missed.
    """

    def __init__(self, size: int = 256) -> None:
        from collections import OrderedDict
        import threading
        self.size = size
        self._entries: "OrderedDict[str, tuple[str, BpmnWorkflow]]" = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def take(self, case_id: str, state: str) -> BpmnWorkflow | None:
        with self._lock:
            entry = self._entries.pop(case_id, None)
            if entry is not None and entry[0] is not None and entry[0] == state:
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def put(self, case_id: str, state: str, workflow: BpmnWorkflow) -> None:
        with self._lock:
            self._entries[case_id] = (state, workflow)
            self._entries.move_to_end(case_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def give_back(self, case_id: str, state: str, workflow: BpmnWorkflow) -> None:
        """Return a workflow a read took (or loaded) unchanged, for the exact committed `state`.

        Only if no entry is there: a command that committed meanwhile put a newer one.
        """
        with self._lock:
            if case_id not in self._entries:
                self._entries[case_id] = (state, workflow)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def discard(self, case_id: str) -> None:
        with self._lock:
            self._entries.pop(case_id, None)


LIVE_WORKFLOWS = LiveWorkflows()
