"""An operator's repairs of a case with incidents: retry, change variables, move a token.

- `retry_case` re-runs the failed steps after the cause was fixed (data patched, calendar year
  loaded, department added to the organisation): SpiffWorkflow's own reset of a task in ERROR
  (`workflow.reset_from_task_id`), then the same pass the worker makes (`timers.tick_flow`:
  timers, engine steps, task rows, SLA clocks, save). A step that fails again keeps its incident
  open with one retry more.
- `patch_variables` applies a JSON merge patch (RFC 7386: `null` deletes) to the case's
  variables, or to one task's own (a multi-instance item); the history keeps before and after.
- `move_token` cancels the token(s) at element A and starts one at element B, as Camunda's
  process instance modification does; audited in the history.

Every repair runs under the case lock, in one transaction, and ends with `sync`/`save`, so task
rows, SLA clocks, timer jobs and caches stay consistent with the workflow.
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import SQLAlchemyError

from engine.adapters import history
from engine.adapters import queries
from engine.adapters.models import Case, Incident, Task
from engine.adapters.spiff_clock import clock_scope
from engine.domain import access
from engine.domain.access import Actor
from engine.domain.states import OPEN_CASE_STATUSES, CaseStatus, TaskStatus
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services import cases
from engine.services import incidents
from engine.services import timers
from engine.services.workflow import CaseWorkflow
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.task import Task as SpiffTask

    from engine.adapters.uow import UnitOfWork

#: Where a token can be: a task waiting for a person or an event, running (a subprocess, a
#: multi-instance), or failed.
TOKEN_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
#: Tasks whose data a case-wide variable change updates (everything that happened or is current).
DATA_STATES = TOKEN_STATES | TaskState.COMPLETED
MAX_KEY = 255


@dataclass
class Repaired:
    """A case after a repair: its ready task rows and the incidents still open."""

    case: Case
    open_tasks: list[Task] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only an admin may {what}")


def _case_to_repair(uow: "UnitOfWork", actor: Actor, case_id: str) -> Case:
    """Lock the case; the case's agent or an admin; it must be running."""
    case = uow.lock_case(case_id)
    access.require_case_driver(actor, case.started_by)
    if case.status == CaseStatus.SUSPENDED:
        raise Conflict(f"case {case_id} is suspended; resume it first")
    if case.status != CaseStatus.RUNNING:
        raise Conflict(f"case {case_id} is {case.status}")
    return case


def _ready_rows(uow: "UnitOfWork", case_id: str) -> list[Task]:
    return uow.tasks.of_case(case_id, TaskStatus.READY)  # autoflush writes the rows a repair added


def _result(uow: "UnitOfWork", flow: CaseWorkflow) -> Repaired:
    return Repaired(flow.case, _ready_rows(uow, flow.case.id), incidents.open_incidents(flow))


def _all_tasks(workflow: "BpmnWorkflow") -> list["SpiffTask"]:
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks += list(sub.tasks.values())
    return tasks


def _spiff_task(flow: CaseWorkflow, task_id: str) -> "SpiffTask | None":
    try:
        return flow.workflow.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        return None


# --------------------------------------------------------------------------- retry


def _rearm(flow: CaseWorkflow, task: "SpiffTask") -> None:
    """Make a failed (ERROR) step runnable again with SpiffWorkflow's reset: its predicted
    children go, it becomes FUTURE and is updated (READY, or WAITING for a timer), keeping its
    own data (e.g. a multi-instance item) and its instance bookkeeping."""
    data = deepcopy(task.data)
    keep = {k: v for k, v in task.internal_data.items() if k in ("key_or_index", "item", "iteration")}
    with clock_scope(flow.uow.runtime.clock):
        flow.workflow.reset_from_task_id(task.id, data=data)
    task.internal_data.update(keep)


@use_case
def retry_case(uow: "UnitOfWork", actor: Actor, case_id: str, reason: str = "") -> Repaired:
    """Re-run every failed step of a case (its open incidents), and what the worker would do now.

    The case's agent or an admin. 409 when the case has no open incident or is not running.
    A step that fails again keeps its incident open (`retries` + 1, the new error); the
    retry itself is recorded either way.
    """
    case = _case_to_repair(uow, actor, case_id)
    flow = CaseWorkflow.load(uow, case)
    flow.actor = actor.name
    retried = incidents.open_incidents(flow)
    if not retried:
        raise Conflict(f"case {case_id} has no open incident")
    now = uow.runtime.clock()
    for incident in retried:
        incident.retries += 1
        incident.last_retried_at, incident.last_retried_by = now, actor.name
    history.record(uow, case.id, "retried", actor.name,
                   data={"incidents": [i.id for i in retried], "reason": reason,
                         "elements": sorted({i.element_id for i in retried if i.element_id})})
    for incident in retried:
        task = _spiff_task(flow, incident.task_id) if incident.task_id else None
        if task is None:
            if incident.task_id is not None and uow.tasks.get(incident.task_id) is None:
                incidents.resolve_step(flow, incident.task_id, "cancelled")  # the step is gone
            continue  # a job incident (the re-run below is its retry), or a row sync closes
        flow.retrying.add(incident.task_id)
        if task.state == TaskState.ERROR:
            _rearm(flow, task)
    try:
        with uow.savepoint():  # a failing re-run keeps nothing, nor its after-commit callbacks
            incidents.release_parked_jobs(uow, case.id)
            timers.tick_flow(flow)  # run, sync rows, SLA transitions, escalations, save
            incidents.resolve_jobs(flow, "retried")  # the case was processed: the worker's failure is over
            incidents.refresh_case_error(flow)
    except SQLAlchemyError:
        raise
    except Exception as error:  # noqa: BLE001 - the case could not be processed: nothing of it is kept
        _retry_failed(uow, flow, retried, error)
        return Repaired(case, _ready_rows(uow, case.id), incidents.case_incidents(uow, case.id))
    return _result(uow, flow)


def _retry_failed(uow: "UnitOfWork", flow: CaseWorkflow, retried: list[Incident],
                  error: Exception) -> None:
    """The retry's re-run raised (e.g. the worker's failure again): it was rolled back; the
    incidents stay open with the new error."""
    now = uow.runtime.clock()
    message = incidents.message_of(error)
    case = uow.cases.get(flow.case.id)
    for incident in retried:
        uow.incidents.reload(incident)
        incident.message = f"retry failed: {message}"[:incidents.MAX_MESSAGE]
        incident.error_type, incident.last_failed_at = incidents.error_type_of(error), now
    case.error = f"retry failed: {message}"[:incidents.MAX_MESSAGE]
    history.record(uow, case.id, "error", flow.actor,
                   data={"message": message, "error_type": incidents.error_type_of(error), "retry": True})


# --------------------------------------------------------------------------- variables


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _check_patch(patch: Any, existing: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(patch, dict) or not patch:
        raise Invalid("the body must be a JSON object naming at least one variable",
                      errors={"_schema": ["a non-empty JSON object (a merge patch) is required"]})
    for key in patch:
        if not isinstance(key, str) or not key or len(key) > MAX_KEY:
            errors[str(key)[:80] or "''"] = [f"a variable name has 1 to {MAX_KEY} characters"]
        elif key not in existing and not key.isidentifier():
            errors[key[:80]] = ["a new variable needs a name scripts can use (letters, digits, _; "
                                "not starting with a digit)"]
        elif key not in existing and patch[key] is None:
            errors[key[:80]] = ["no such variable to delete"]
    if errors:
        raise Invalid("invalid variables: " + ", ".join(sorted(errors)), errors=errors)


@use_case
def patch_variables(uow: "UnitOfWork", actor: Actor, case_id: str, patch: dict[str, Any],
                    task_id: str | None = None) -> tuple[Case, dict[str, Any], dict[str, Any]]:
    """Change a case's variables with a JSON merge patch (admins). Returns (case, before, after):
    the patched variables' values before and after (a name missing was absent / deleted).

    Without `task_id` the change applies to the whole case: every task's data, so the next steps
    (and a retry) see it. With `task_id` it applies to that task's own data only (an active
    task's local variable, e.g. the `item` of one multi-instance instance); a variable the task
    inherits from the case must be changed case-wide (a reset would overwrite it).
    Nothing runs: retry the case to re-run a failed step with the new values.
    """
    _require_admin(actor, "change a case's variables")
    case = uow.lock_case(case_id)
    if case.status not in OPEN_CASE_STATUSES:
        raise Conflict(f"case {case_id} is {case.status}; its variables can no longer change")
    variables = queries.case_variables(uow, case)  # before the load below takes the live workflow
    flow = CaseWorkflow.load(uow, case)
    flow.actor = actor.name
    if task_id is not None:
        task = _spiff_task(flow, task_id)
        if task is None:
            raise NotFound(f"task {task_id} is not part of case {case_id}")
        if not task.state & TOKEN_STATES:
            raise Conflict(f"task {task_id} is {TaskState.get_name(task.state).lower()}; "
                           "only an active or failed task's variables can change")
        scope = dict(task.data)
        _check_patch(patch, scope)
        inherited = sorted(k for k in patch if task.parent is not None and k in task.parent.data)
        if inherited:
            raise Invalid(f"{', '.join(inherited)}: not local to task {task_id} (inherited from the case); "
                          "change it without task_id",
                          errors={k: ["inherited from the case: change it case-wide"] for k in inherited})
        targets = [task]
    else:
        scope = variables
        _check_patch(patch, scope)
        targets = [t for t in _all_tasks(flow.workflow) if t.state & DATA_STATES]
    before = {k: deepcopy(scope[k]) for k in patch if k in scope}
    after: dict[str, Any] = {}
    for key, value in patch.items():
        if value is not None:
            after[key] = merge_patch(scope.get(key), value)
    for task in targets:
        merged = merge_patch(task.data, patch)
        task.data.clear()
        task.data.update(merged)
    if task_id is None and flow.workflow.data:
        for key in [k for k in patch if k in flow.workflow.data]:
            if patch[key] is None:
                flow.workflow.data.pop(key)
            else:
                flow.workflow.data[key] = merge_patch(flow.workflow.data[key], patch[key])
    history.record(uow, case.id, "variables_changed", actor.name, task_id=task_id,
                   element_id=targets[0].task_spec.bpmn_id if task_id else None,
                   data={"before": before, "after": after,
                         "deleted": sorted(k for k, v in patch.items() if v is None)})
    flow.sync()
    flow.save()
    return case, before, after


# --------------------------------------------------------------------------- move


def _elements(workflow: "BpmnWorkflow") -> dict[str, list[Any]]:
    """Every BPMN element id of the case's process and its subprocesses → its specs."""
    found: dict[str, list[Any]] = {}
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if task_spec.bpmn_id:
                found.setdefault(task_spec.bpmn_id, []).append(task_spec)
    return found


def _target_spec(workflow_spec: Any, element: str) -> Any | None:
    """The spec a token starts at for `element` in one (sub)process: the element itself (the
    multi-instance, not its instances), or the split that arms its boundary events."""
    spec = workflow_spec.task_specs.get(element)
    if spec is None or spec.bpmn_id != element:
        spec = next((s for s in workflow_spec.task_specs.values() if s.bpmn_id == element), None)
    if spec is None:
        return None
    split = next((s for s in spec.inputs if isinstance(s, BoundaryEventSplit)), None)
    return split or spec


def _outermost(tokens: list["SpiffTask"]) -> list["SpiffTask"]:
    """Tokens not inside another token (a multi-instance's instances are inside it)."""
    ids = {t.id for t in tokens}
    out = []
    for task in tokens:
        parent = task.parent
        while parent is not None and parent.id not in ids:
            parent = parent.parent
        if parent is None:
            out.append(task)
    return out


def _cancel(task: "SpiffTask") -> None:
    """Cancel a token. A failed task is finished for SpiffWorkflow (`cancel` would leave it in
    ERROR), so it is set CANCELLED the same way `Task.cancel` does for an unfinished one."""
    if task.state == TaskState.ERROR:
        task._set_state(TaskState.CANCELLED)
        task._drop_children()
        task.task_spec._on_cancel(task)
    elif not task.has_state(TaskState.FINISHED_MASK):
        task.cancel()


@use_case
def move_token(uow: "UnitOfWork", actor: Actor, case_id: str, source: str, target: str,
               reason: str = "") -> Repaired:
    """Cancel the token(s) at element `source` and start one at element `target` (admins).

    Both must be elements of the case's process (or of the same subprocess); `source` must hold
    a token (a task ready, waiting, running or failed). Incidents at the cancelled tokens are
    resolved as `moved`. The new token runs to its next wait at once; it may fail, and then it
    is a new incident.
    """
    _require_admin(actor, "move a case's token")
    case = _case_to_repair(uow, actor, case_id)
    flow = CaseWorkflow.load(uow, case)
    flow.actor, flow.resolution = actor.name, "moved"
    elements = _elements(flow.workflow)
    label = f"process {case.process_key} v{case.process_version}"
    errors: dict[str, list[str]] = {}
    if source not in elements:
        errors["from"] = [f"no element {source!r} in {label}"]
    if target not in elements:
        errors["to"] = [f"no element {target!r} in {label}"]
    if errors:
        raise Invalid("; ".join(m for ms in errors.values() for m in ms), errors=errors)
    if any(isinstance(s, (BoundaryEvent, StartEvent)) for s in elements[source]):
        raise Invalid(f"{source!r} is an event, not a token's place: move from the activity",
                      errors={"from": [f"{source!r} is a start or boundary event"]})
    if any(isinstance(s, (BoundaryEvent, StartEvent)) for s in elements[target]):
        raise Invalid(f"{target!r} is a start or boundary event: a token cannot be moved there",
                      errors={"to": [f"{target!r} is a start or boundary event"]})
    active = [t for t in _all_tasks(flow.workflow) if t.state & TOKEN_STATES]
    tokens = [t for t in active if t.task_spec.bpmn_id == source]
    if not tokens:
        places = sorted({t.task_spec.bpmn_id for t in active if t.task_spec.bpmn_id
                         and not isinstance(t.task_spec, (BoundaryEvent, StartEvent))})
        raise Conflict(f"element {source!r} has no token in case {case_id}"
                       + (f"; tokens are at: {', '.join(places)}" if places else ""))
    tokens = _outermost(tokens)
    workflows = {id(t.workflow) for t in tokens}
    if len(workflows) > 1:
        raise Conflict(f"element {source!r} has tokens in several (sub)process instances; "
                       "this move would be ambiguous")
    scope = tokens[0].workflow
    spec = _target_spec(scope.spec, target)
    if spec is None:
        raise Invalid(f"{target!r} is not in the same (sub)process as {source!r}",
                      errors={"to": [f"not in the (sub)process of {source!r}"]})
    # Cancel: a token with boundary events goes with them (its split's unfinished children).
    units = []
    for token in tokens:
        parent = token.parent
        if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
            units.append((parent, [c for c in parent.children]))
        else:
            units.append((token, [token]))
    cancelled = []
    for _unit, members in units:
        for member in members:
            if member.state == TaskState.ERROR or not member.has_state(TaskState.FINISHED_MASK):
                cancelled.append(str(member.id))
                _cancel(member)
    anchor = units[0][0]
    data = deepcopy(tokens[0].data)
    start_at = anchor.parent
    with clock_scope(uow.runtime.clock):
        new = start_at._add_child(spec, TaskState.FUTURE)
        new.triggered = True  # not one of its parent's outputs: never pruned as a stale prediction
        new.reset_branch(data)
    history.record(uow, case.id, "moved", actor.name, task_id=str(new.id), element_id=target,
                   data={"from": source, "to": target, "reason": reason,
                         "cancelled": [t for t in cancelled], "started": str(new.id)})
    flow.run()
    flow.sync()
    flow.save()
    return _result(uow, flow)


def case_incidents(uow: "UnitOfWork", actor: Actor, case_id: str, state: str = "open") -> list[Incident]:
    """A case's incidents, for whoever may see the case."""
    cases.get_case(uow, actor, case_id)
    return incidents.case_incidents(uow, case_id, state)


@use_case
def change_variables(uow: "UnitOfWork", actor: Actor, case_id: str, patch: dict[str, Any],
                     task_id: str | None = None) -> tuple[Case, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """`patch_variables`, answered with the case's variables as they are then (case, before, after, variables)."""
    case, before, after = patch_variables(uow, actor, case_id, patch, task_id=task_id)
    return case, before, after, queries.case_variables(uow, case)
