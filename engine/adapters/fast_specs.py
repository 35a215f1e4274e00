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
- plain states (`plain_state`): when a state's text proves that no value in it is a typed
  object (no `typename` key besides the workflow's and the tasks' own), the decoded JSON values
  are used as they are instead of being copied by the registry's recursive `restore`.
"""
from __future__ import annotations

from contextvars import ContextVar
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
_TYPENAME_TOKEN = '"typename"'

# True while `load_state` restores a state `plain_state` accepted (see there).
PLAIN_STATE: ContextVar[bool] = ContextVar("plain_state", default=False)


def _structural_typenames(dct: dict[str, Any]) -> int:
    """How many `typename` keys the (sub)workflow dict and its task dicts themselves have."""
    count = 1 if "typename" in dct else 0
    tasks = dct.get("tasks")
    if isinstance(tasks, dict):
        count += sum(1 for task in tasks.values() if isinstance(task, dict) and "typename" in task)
    subprocesses = dct.get("subprocesses")
    if isinstance(subprocesses, dict):
        count += sum(_structural_typenames(sub) for sub in subprocesses.values() if isinstance(sub, dict))
    return count


def plain_state(text: str, dct: dict[str, Any], version: str) -> bool:
    """Whether the decoded state `dct` of `text` holds no typed value outside its structure, so
    that SpiffWorkflow's `registry.restore` would return a plain deep copy of every task's data,
    delta and internal data — and the decoded values themselves can be used instead (they are a
    fresh tree from `json.loads`, each referenced from exactly one place, dropped after loading).

    The rule, conservative in every doubt (a False only costs the copy):
    - `dct` is at the current serializer `version` (no migration could add typed values);
    - the text contains no `\\u006`/`\\u007` escape, so a key spelled `typename` after decoding is
      spelled `"typename"` in the text (its letters are U+0061..U+0079);
    - the token `"typename"` occurs in the text exactly as often as the workflow, subprocess
      and task dicts have a `typename` key — so no other dict anywhere has one (an extra
      occurrence, even a string value "typename", makes the counts differ).
    Under these, every value below a task is made of dicts without `typename`, lists, strings,
    numbers, booleans and None, of which `restore` makes a copy of the same structure and types."""
    if dct.get("serializer_version") != version:
        return False
    if "\\u006" in text or "\\u007" in text:
        return False
    return text.count(_TYPENAME_TOKEN) == _structural_typenames(dct)


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
        restore = _identity if PLAIN_STATE.get() else self.registry.restore
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


def _identity(value: Any) -> Any:
    return value


def forget_uuid_cache(workflow: Any) -> None:
    """Drop the load-time string→UUID table (kept only while a state is being restored)."""
    workflow.__dict__.pop("_ow_uuids", None)
    for sub in getattr(workflow, "subprocesses", {}).values():
        sub.__dict__.pop("_ow_uuids", None)
