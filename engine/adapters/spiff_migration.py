"""A case's SpiffWorkflow state rebuilt against another version's specs (case migration).

A saved state is a task tree naming its specs by name (the BPMN element id; `X.BoundaryEventSplit`
and the like for SpiffWorkflow's own helpers of element X). Moving a case to another version
rewrites that tree, keeping what the case did and where its tokens are:

- a token (a task ready, waiting, running or failed) moves to its element's counterpart in the
  target (the same id, or the explicit mapping) and keeps its task id, data and internal data
  (a timer keeps the instant it fires at, so its clock is not restarted);
- a finished task whose element the target still has is kept under its new name; one whose
  element is gone is cut out of the tree (its children hang from its parent), so the path
  that led to the tokens stays readable and a parallel join still sees the branches that
  arrived;
- predictions (future, likely, maybe tasks) are dropped and made again from the target's
  flows; the target's boundary events an active task did not have are armed now.

What cannot be moved is said, not guessed: a token whose element has no counterpart, a
counterpart of another kind, a multi-instance or a sub-process in progress. The rebuilt state
is then loaded with the target's specs, which is exactly what every later command does, and
must read back to the same text (reload equivalence, as `tests/differential` asks of every
state the engine saves).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from uuid import uuid4

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.util.task import TaskState

from engine.adapters.spiff_clock import clock_scope
from engine.adapters.serializer import dump_state, load_state

PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE
ACTIVE = TaskState.WAITING | TaskState.READY | TaskState.STARTED | TaskState.ERROR
_INTERNAL = frozenset({"Root", "Start", "End"})
_SUFFIXES = (".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")
# Tasks that are not a token of their own: they wait beside an activity and go with it.
_ATTACHED = ("BoundaryEvent",)
Specs = tuple[Any, dict[str, Any]]


def element_of(spec_name: str) -> str | None:
    """The BPMN element id a spec name stands for (None for SpiffWorkflow's own start/end)."""
    if spec_name in _INTERNAL or spec_name.endswith(".EndJoin"):
        return None
    for suffix in _SUFFIXES:
        if spec_name.endswith(suffix):
            return spec_name[:-len(suffix)]
    return spec_name


def target_name(spec_name: str, mapping: dict[str, str]) -> str:
    """The spec name in the target version: the element mapped (explicit pair, else same id)."""
    element = element_of(spec_name)
    if element is None:
        return spec_name
    return mapping.get(element, element) + spec_name[len(element):]


@dataclass
class Rebuilt:
    """The outcome for one case: `reasons` it cannot move (empty: it can), the new state text,
    and each active task's (element before, element after)."""

    reasons: list[str] = field(default_factory=list)
    state: str | None = None
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # waiting attached events the target lacks

    @property
    def movable(self) -> bool:
        return not self.reasons


def _typename(spec: Any) -> str:
    return type(spec).__name__


def _rewrite(tree: dict[str, Any], old: Any, new: Any, mapping: dict[str, str], out: Rebuilt,
             where: str) -> None:
    """Rewrite one (sub)process's task dictionary in place against `new`'s task specs."""
    tasks: dict[str, dict[str, Any]] = tree["tasks"]
    kept: dict[str, dict[str, Any]] = {}
    full = _full_data(tasks, tree["root"])
    added: dict[str, str] = {}  # task id → the boundary-event split put above it

    def visit(task_id: str) -> list[str]:
        task = tasks[task_id]
        state = task["state"]
        if state & PREDICTED:
            return []
        name = task["task_spec"]
        new_name = target_name(name, mapping)
        old_spec = old.task_specs.get(name)
        new_spec = new.task_specs.get(new_name)
        children = [kid for child in task["children"] for kid in visit(child)]
        if state & ACTIVE:
            element = element_of(name) or name
            if new_spec is None:
                if old_spec is not None and _typename(old_spec) in _ATTACHED:
                    out.dropped.append(task_id)
                    return []
                out.reasons.append(f"{element}{where}: a token is here and the target version has no element "
                                   f"'{element_of(new_name) or new_name}'; map it (--map {element}=OTHER)")
            elif old_spec is not None and _typename(old_spec) != _typename(new_spec):
                out.reasons.append(f"{element}{where}: a {_typename(old_spec)} cannot become the "
                                   f"{_typename(new_spec)} '{element_of(new_name)}'")
            elif state == TaskState.STARTED and "MultiInstance" in _typename(old_spec):
                out.reasons.append(f"{element}{where}: a multi-instance is in progress; migrate once its "
                                   f"instances are done")
            if element_of(name) is not None and "[child]" not in name:
                out.tokens[task_id] = (element, element_of(new_name) or new_name)
        elif new_spec is None:
            return children  # a finished step the target lacks: cut out, its children move up
        task["task_spec"] = new_name
        task["children"] = children
        task["data"], task["delta"] = full[task_id], {}  # whole: its parent may change
        for child in children:
            kept[child]["parent"] = task_id
        kept[task_id] = task
        if state & ACTIVE and new_spec is not None and element_of(name) == name:
            split = _new_split(task, tasks, new, mapping)
            if split is not None:
                kept[split["id"]] = split
                added[task_id] = split["id"]
                return [split["id"]]
        return [task_id]

    roots = visit(tree["root"])
    if roots != [tree["root"]]:
        out.reasons.append(f"the start of the process{where} has no counterpart")
        return
    tasks[tree["root"]]["parent"] = None
    order = [i for task_id in tasks if task_id in kept for i in (added.get(task_id), task_id) if i is not None]
    tree["tasks"] = {task_id: kept[task_id] for task_id in order}
    if tree.get("last_task") not in kept:
        tree["last_task"] = None


def _new_split(task: dict[str, Any], tasks: dict[str, dict[str, Any]], new: Any,
               mapping: dict[str, str]) -> dict[str, Any] | None:
    """The split an activity's token needs above it when the target gives the activity boundary
    events it did not have (SpiffWorkflow arms an activity's boundary events through that split;
    the events themselves are armed after loading, `_arm_new_boundary_events`). `task` is already
    renamed; its parent is not yet (a parent is renamed after its children)."""
    element = element_of(task["task_spec"])
    name = f"{element}.BoundaryEventSplit"
    parent = tasks.get(task["parent"]) if task.get("parent") else None
    if element is None or name not in new.task_specs or (
            parent is not None and target_name(parent["task_spec"], mapping) == name):
        return None
    split = {"id": str(uuid4()), "parent": task["parent"], "children": [task["id"]],
             "last_state_change": task["last_state_change"], "state": TaskState.COMPLETED, "task_spec": name,
             "triggered": False, "internal_data": {}, "data": task["data"], "delta": {},
             "typename": task.get("typename", "Task")}
    task["parent"] = split["id"]
    return split


def _full_data(tasks: dict[str, dict[str, Any]], root: str) -> dict[str, Any]:
    """Each task's whole data (as saved: converted values). A saved task keeps only its changes
    against its parent's data (SpiffWorkflow's delta), which would read wrong under another
    parent once a step is cut out, so every kept task is written with its whole data."""
    full: dict[str, Any] = {}
    pending = [root]
    while pending:
        task_id = pending.pop()
        task = tasks[task_id]
        delta, parent = task.get("delta"), task.get("parent")
        if delta and parent in full:
            data = dict(full[parent])
            data.update(delta.get("updates") or {})
            for key in delta.get("deletions") or ():
                data.pop(key, None)
        else:
            data = task["data"]
        full[task_id] = data
        pending.extend(child for child in task["children"] if child in tasks)
    return full


def rebuild(state_text: str, old: Specs, new: Specs, mapping: dict[str, str],
            clock: Callable[[], datetime]) -> Rebuilt:
    """The case's state moved to the `new` specs (see the module's docstring)."""
    out = Rebuilt()
    state = json.loads(state_text)
    old_spec, old_subs = old
    new_spec, new_subs = new
    _rewrite(state, old_spec, new_spec, mapping, out, "")
    for sub_id, sub in list((state.get("subprocesses") or {}).items()):
        name = sub.get("spec")
        unfinished = any(t["state"] & ACTIVE for t in sub["tasks"].values())
        target = new_subs.get(mapping.get(name, name)) if name else None
        if unfinished:
            out.reasons.append(f"a token is inside sub-process or call activity '{name}'; such cases are "
                               f"migrated once it is done")
        elif target is None or name not in old_subs:
            del state["subprocesses"][sub_id]  # a finished sub-process the target does not have
        else:
            sub["spec"] = mapping.get(name, name)
            _rewrite(sub, old_subs[name], target, mapping, out, f" (in {name})")
    if out.reasons:
        return out
    workflow = load_state(json.dumps(state), new_spec, new_subs)
    with clock_scope(clock):
        for process in [workflow, *workflow.subprocesses.values()]:
            process._predict()
        _arm_new_boundary_events(workflow)
    text = dump_state(workflow)
    again = dump_state(load_state(text, new_spec, new_subs))
    if again != text:  # never expected: a state that reads back otherwise would fork the case
        out.reasons.append("the rebuilt state does not read back the same; not migrated")
        return out
    out.state = text
    return out


def _arm_new_boundary_events(workflow: Any) -> None:
    """A target boundary event on an activity that is active now starts waiting now."""
    for process in [workflow, *workflow.subprocesses.values()]:
        for task in list(process.tasks.values()):
            if not isinstance(task.task_spec, BoundaryEventSplit) or task.state != TaskState.COMPLETED:
                continue
            if not any(c.state & ACTIVE and _typename(c.task_spec) not in _ATTACHED for c in task.children):
                continue
            present = {c.task_spec for c in task.children}
            for spec in task.task_spec.outputs:
                if spec not in present:  # as the split's own run does: predicted, then waiting
                    child = task._add_child(spec, TaskState.MAYBE)
                    spec._predict(child)
                    child._set_state(TaskState.WAITING)
                    spec._update(child)  # the timer's instant is counted from now
