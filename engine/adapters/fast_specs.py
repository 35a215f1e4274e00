"""Hot-path replacements for SpiffWorkflow 3.2's per-task (de)serialization.

Registered as converters in `engine.adapters.serializer`'s state config; the JSON they read and
write is exactly SpiffWorkflow's `TaskConverter` format (same keys, same data-delta rules), so
states written before or by the stock converter load unchanged and vice versa.

What is cheaper than the stock converter (profile at 256 branches, see docs/bench.md):
- UUIDs: each task id string appears ~3 times in a state (id, parent's children, child's
  parent); while loading, one `UUID` object is built per distinct string (without the
  validating constructor, for canonical 36-character strings) and shared; while saving, the
  string form of a task id is computed once per task and kept on the task.
- parent look-ups: the parent is looked up once per task instead of two or three times.
- data delta: a value that is the very same object as the parent's is equal without a deep
  comparison (`is` before `!=`); a task whose data dict *is* its parent's has an empty delta.
- empty `internal_data` / delta updates skip the registry's recursive restore.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID, SafeUUID

from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

_new = object.__new__
_set = object.__setattr__
_UNKNOWN = SafeUUID.unknown
_WAITING = TaskState.WAITING


def fast_uuid(text: str, cache: dict[str, UUID]) -> UUID:
    """The UUID for `text`, shared through `cache` (one object per distinct id in a load)."""
    value = cache.get(text)
    if value is None:
        if len(text) == 36 and text[8] == "-" and text[13] == "-" and text[18] == "-" and text[23] == "-":
            value = _new(UUID)
            _set(value, "int", int(text.replace("-", ""), 16))
            _set(value, "is_safe", _UNKNOWN)
        else:
            value = UUID(text)
        cache[text] = value
    return value


def task_id_text(task: Any) -> str:
    """str(task.id), computed once per task object (ids never change)."""
    text = task.__dict__.get("_ow_id_text")
    if text is None or text[1] is not task.id:
        text = (str(task.id), task.id)
        task._ow_id_text = text
    return text[0]


class FastTaskConverter(TaskConverter):
    """SpiffWorkflow's TaskConverter, same format, fewer look-ups and UUID constructions."""

    def to_dict(self, task: Any) -> dict[str, Any]:
        tasks = task.workflow.tasks
        parent_id = task._parent
        parent = tasks.get(parent_id) if parent_id is not None else None
        if parent is None:
            data: Any = task.data
            delta: dict[str, Any] = {}
            parent_text = None
        else:
            pdata, tdata = parent.data, task.data
            if pdata is tdata:
                updates: dict[str, Any] = {}
                deletions: list[str] = []
            else:
                updates = {}
                for key, value in tdata.items():
                    if key in pdata:
                        old = pdata[key]
                        if value is old or value == old:
                            continue
                    updates[key] = value
                deletions = [key for key in pdata if key not in tdata]
            data = {}
            delta = {"updates": updates, "deletions": deletions}
            parent_text = task_id_text(parent)
        children = []
        for child_id in task._children:
            child = tasks.get(child_id)
            children.append(task_id_text(child) if child is not None and child.id == child_id else str(child_id))
        internal = task.internal_data
        return {
            "id": task_id_text(task),
            "parent": parent_text,
            "children": children,
            "last_state_change": task.last_state_change,
            "state": task._state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(internal) if internal else {},
            "data": data,
            "delta": delta,
        }

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Any:
        cache = workflow.__dict__.get("_ow_uuids")
        if cache is None:
            cache = workflow._ow_uuids = {}
        restore = self.registry.restore
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=fast_uuid(dct["id"], cache))
        parent_text = dct["parent"]
        task._parent = fast_uuid(parent_text, cache) if parent_text is not None else None
        task._children = [fast_uuid(child, cache) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        internal = dct["internal_data"]
        task.internal_data = restore(internal) if internal else {}
        if isinstance(task_spec, CatchingEvent) and task._state & _WAITING:
            workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = workflow.tasks.get(task._parent) if delta and task._parent is not None else None
        if parent is not None:
            data = DeepMerge.merge({}, parent.data)
            updates = delta.get("updates")
            if updates:
                data.update(restore(updates))
            for key in delta.get("deletions", ()):
                if key in data:
                    del data[key]
        else:
            data = restore(dct["data"])
        task.data = data
        return task


def forget_uuid_cache(workflow: Any) -> None:
    """Drop the load-time string→UUID table (kept only while a state is being restored)."""
    workflow.__dict__.pop("_ow_uuids", None)
    for sub in getattr(workflow, "subprocesses", {}).values():
        sub.__dict__.pop("_ow_uuids", None)
