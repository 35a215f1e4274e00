"""Read-side queries for the API: paged, filtered lists of cases and tasks, case variables,
and the public view of a project's progress. Every list reads indexed rows only and is
scoped to what the actor may see (engine/domain/access.py rules)."""
from __future__ import annotations

import json
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select

from engine.adapters.case_cache import CaseStateCache
from engine.adapters.models import Case, Definition, Deployment, Event, Task
from engine.adapters.serializer import LIVE_WORKFLOWS, load_state
from engine.adapters.specs import load_definition, specs_of
from engine.adapters.uow import UnitOfWork
from engine.domain import access
from engine.domain.access import Actor
from engine.domain.states import SLA_STATES, CaseStatus, TaskStatus
from engine.errors import Forbidden, Invalid, NotFound

TASK_STATES = tuple(state.value for state in TaskStatus)
CASE_STATUSES = tuple(status.value for status in CaseStatus)


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int


def _paged(uow: UnitOfWork, query, order, page: int, per_page: int,  # type: ignore[no-untyped-def]
           make: Any = None, offset: int | None = None) -> Page:
    """One page and the total. The count selects only `count(*)` over the same FROM/WHERE (not a
    subquery of every column), so the database can answer it from an index alone. `make` builds
    each item from a row of columns (e.g. `TaskView._make`); without it the query is of entities.
    `offset` (Camunda's `firstResult`) starts anywhere, not only at a page boundary."""
    total = uow.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))
    start = (page - 1) * per_page if offset is None else offset
    window = query.order_by(*order).offset(start).limit(per_page)
    if make is None:
        rows = list(uow.session.scalars(window))
    else:
        rows = [make(row) for row in uow.session.execute(window)]
    return Page(rows, total or 0, page, per_page)


def _region_in(uow: UnitOfWork, codes: tuple[str, ...] | list[str]):  # type: ignore[no-untyped-def]
    """`Case.region IN codes`; cases from before regions (NULL) count as the default region's."""
    if not codes:
        return false()
    clause = Case.region.in_(list(codes))
    if uow.organisation.default_region in codes:
        clause = or_(clause, Case.region.is_(None))
    return clause


def case_region(uow: UnitOfWork, case: Case) -> str:
    """The region a case belongs to (cases from before regions: the default region)."""
    return case.region or uow.organisation.default_region


def _case_scope(uow: UnitOfWork, actor: Actor):  # type: ignore[no-untyped-def]
    """WHERE on `Case` for a department member: a task at its body, or (a region's window or
    government) a case of its region, or of a region below with a task at one of its bodies."""
    own = exists().where(Task.case_id == Case.id, Task.department == actor.department)
    watch = access.oversight(actor, uow.organisation)
    if watch is None:
        return own
    below = and_(_region_in(uow, watch.below),
                 exists().where(Task.case_id == Case.id, Task.department.in_(watch.bodies)))
    return or_(own, _region_in(uow, (watch.region,)), below)


def list_cases(uow: UnitOfWork, actor: Actor, *, status: str | None = None, business_key: str | None = None,
               process_key: str | None = None, agent: str | None = None, department: str | None = None,
               overdue: bool | None = None, region: str | None = None, page: int = 1,
               per_page: int = 50) -> Page:
    """Cases the actor may see, newest first; `agent="me"` means the actor; `department` = has an
    open task there; `overdue` = has (or has not) an open task past its due date; `region` =
    belongs to that region or a region below it."""
    query = select(Case)
    if agent == "me":
        agent = actor.name
    scope = access.scope(actor, "cases")
    if scope.agent is not None:
        if agent is not None and agent != scope.agent:
            raise Forbidden(f"{actor.name} may not list the cases of agent {agent}")
        query = query.where(Case.started_by == scope.agent)
    elif scope.department is not None:
        if (department is not None and department != scope.department
                and access.oversight(actor, uow.organisation) is None):
            raise Forbidden(f"{actor.name} may not list the cases of department {department}")
        query = query.where(_case_scope(uow, actor))
    if region is not None:
        query = query.where(_region_in(uow, uow.organisation.subtree(region)))
    if status is not None:
        query = query.where(Case.status == status)
    if business_key is not None:
        query = query.where(Case.business_key == business_key)
    if process_key is not None:
        query = query.where(Case.process_key == process_key)
    if agent is not None:
        query = query.where(Case.started_by == agent)
    if department is not None:
        query = query.where(exists().where(Task.case_id == Case.id, Task.department == department,
                                           Task.state == TaskStatus.READY))
    if overdue is not None:
        query = query.where(overdue_filter(overdue))
    return _paged(uow, query, (Case.started_at.desc(), Case.id), page, per_page)


_TASK_FIELDS = tuple(Task.__mapper__.column_attrs.keys())
_TASK_COLUMNS = tuple(getattr(Task, name) for name in _TASK_FIELDS)


class TaskView(namedtuple("TaskView", _TASK_FIELDS)):
    """A task row read for display: every column of `Task` as a plain attribute, and its
    `due_provisional`. A snapshot, not an entity (no session, nothing to flush): a case page
    and an inbox render hundreds of them; building ORM entities cost ~1 ms per 300 rows more than
    tuples, reading their attributes ~2x more (issue 16). No cache: read on every request."""

    __slots__ = ()

    @property
    def due_provisional(self) -> bool:
        return self.due_at is not None and self.due_provisional_years is not None


def list_tasks(uow: UnitOfWork, actor: Actor, *, state: str | None = "ready", department: str | None = None,
               assignee: str | None = None, case_id: str | None = None, process_key: str | None = None,
               sla: str | None = None, sort: str = "created", region: str | None = None, page: int = 1,
               per_page: int = 50, element_id: str | None = None, business_key: str | None = None,
               offset: int | None = None) -> Page:
    """Tasks the actor may see, oldest first (`sort="due"`: soonest due first, no limit last).
    `assignee="me"` means the actor; state None = any; `sla` = warning state (normal, yellow,
    red, paused) of open tasks; `region` = tasks of the cases of that region or a region below;
    `element_id` = the BPMN element, `business_key` = the case's project code (both filtered in the
    query, so a page is full whenever enough rows match). Staff and leaders get their body's inbox; those of a region's window or government, when
    they ask for a `region` or another `department`, the tasks they oversee (read only).

    `cases` is joined only when a filter needs it (an agent's own cases, `process_key`): every
    task has exactly one case, so the join never changes the rows, but without it a
    department's inbox and its count read the `ix_tasks_inbox` index alone (issue 6).
    The rows are `TaskView`s (read for display, not entities).
    """
    query = select(*_TASK_COLUMNS)
    joined = False
    scope = access.scope(actor, "tasks")
    if scope.department is not None:
        # Only a request beyond the inbox asks whether the actor oversees a region (one more read).
        wider = region is not None or (department is not None and department != actor.department)
        watch = access.oversight(actor, uow.organisation) if wider else None
        if watch is None:
            # The inbox: the body's own tasks (the ix_tasks_inbox index alone).
            if department is not None and department != actor.department:
                raise Forbidden(f"{actor.name} may not see the tasks of department {department}")
            department = actor.department
        else:
            # A window or government asking for a region or a body: the tasks it oversees.
            query = query.join(Case, Case.id == Task.case_id).where(or_(
                Task.department == actor.department, _region_in(uow, (watch.region,)),
                and_(_region_in(uow, watch.below), Task.department.in_(watch.bodies))))
            joined = True
    elif scope.agent is not None:
        query = query.join(Case, Case.id == Task.case_id).where(Case.started_by == scope.agent)
        joined = True
    if state is not None:
        query = query.where(Task.state == state)
    if department is not None:
        query = query.where(Task.department == department)
    if assignee is not None:
        query = query.where(Task.assignee == (actor.name if assignee == "me" else assignee))
    if case_id is not None:
        query = query.where(Task.case_id == case_id)
    if element_id is not None:
        query = query.where(Task.element_id == element_id)
    if process_key is not None or business_key is not None:
        if not joined:
            query = query.join(Case, Case.id == Task.case_id)
            joined = True
        if process_key is not None:
            query = query.where(Case.process_key == process_key)
        if business_key is not None:
            query = query.where(Case.business_key == business_key)
    if region is not None:
        if not joined:
            query = query.join(Case, Case.id == Task.case_id)
        query = query.where(_region_in(uow, uow.organisation.subtree(region)))
    if sla is not None:
        query = query.where(sla_filter(sla))
    order = inbox_order() if sort == "due" else (Task.created_at, Task.id)
    return _paged(uow, query, order, page, per_page, TaskView._make, offset)

def visible_case_tasks(uow: UnitOfWork, actor: Actor, case: Case) -> list[TaskView]:
    """A case's task rows as the actor may see them: department staff only their department's;
    the window and government of the case's region all; those of a region above, the rows at
    their region's bodies."""
    query = select(*_TASK_COLUMNS).where(Task.case_id == case.id)
    if access.is_department_member(actor):
        watch = access.oversight(actor, uow.organisation)
        region = case_region(uow, case)
        if watch is not None and region == watch.region:
            pass
        elif watch is not None and region in watch.below:
            query = query.where(Task.department.in_((*watch.bodies, actor.department)))
        else:
            query = query.where(Task.department == actor.department)
    make = TaskView._make
    return [make(row) for row in uow.session.execute(query.order_by(Task.created_at, Task.id))]


def case_detail(uow: UnitOfWork, actor: Actor, case_id: str) -> tuple[Case, list[TaskView], dict[str, Any]]:
    """`GET /cases/{id}`: the case, the task rows the actor may see, and its variables.

    Two statements when the variables are cached: whether the actor may see the case is decided
    from the same task rows (`can_see_case` needs the case's departments; staff see their own
    department's rows, which are non-empty exactly when the case has a task there).
    """
    case = uow.cases.get(case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    tasks = visible_case_tasks(uow, actor, case)
    departments = {t.department for t in tasks if t.department is not None}
    if access.is_department_member(actor) and actor.department not in departments:
        access.require_case(actor, case.started_by, departments, case_region(uow, case), uow.organisation)
    else:
        access.require_case(actor, case.started_by, departments)
    return case, tasks, case_variables(uow, case)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


# Computed variables per case and state text: a repeated `GET /cases/{id}` neither loads the
# workflow nor merges its task data again.
CASE_VARIABLES: CaseStateCache[dict[str, Any]] = CaseStateCache()


def merged_task_data(workflow: Any) -> dict[str, Any]:
    """A workflow's variables: its tasks' data merged in the order the tasks changed, less
    what scripts deleted, then the workflow's own data (shared: the differential harness
    computes raw SpiffWorkflow's variables with it too)."""
    merged: dict[str, Any] = {}
    keep = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED
    tasks = sorted((t for t in workflow.get_tasks() if t.state & keep and t.data),
                   key=lambda t: t.last_state_change)
    for task in tasks:
        merged.update(task.data)
        _drop_deleted(task, merged)
    merged.update(workflow.data or {})
    return merged


def _drop_deleted(task: Any, merged: dict[str, Any]) -> None:
    """A script's `del x` removes `x` from the case's variables too (not only from the data
    the next tasks get): what the script task started with but ended without was deleted."""
    if isinstance(task.task_spec, ScriptTask) and task.parent is not None and task.state & TaskState.COMPLETED:
        for key in task.parent.data.keys() - task.data.keys():
            merged.pop(key, None)


def case_variables(uow: UnitOfWork, case: Case) -> dict[str, Any]:
    """The case's current process variables: task data merged in the order the tasks changed.

    The result may be shared with other callers (cached): render it, do not change it.
    """
    if not case.state:
        return {}
    state = case.state
    cached = CASE_VARIABLES.get(case.id, state)
    if cached is not None:
        return cached
    # A live workflow left by this process's last command is taken while we read it (no command
    # can change it meanwhile) and given back; one loaded here is kept for the next command.
    workflow = LIVE_WORKFLOWS.take(case.id, state)
    if workflow is None:
        spec, subprocess_specs = specs_of(uow, load_definition(uow, case.definition_id))
        workflow = load_state(state, spec, subprocess_specs)
    try:
        variables = _json_safe(merged_task_data(workflow))
    finally:
        LIVE_WORKFLOWS.give_back(case.id, state, workflow)
    CASE_VARIABLES.put(case.id, state, variables)
    return variables


def public_project(uow: UnitOfWork, business_key: str) -> tuple[Case, list[Task], dict[str, dict[str, Any]]]:
    """The newest case of a project (an open one first), all its task rows, and the camunda
    properties of each element (`stage`, `item_state`), for the public progress page. The rows
    are read for their public columns only; agents' rows say an item's state (补正中), never shown."""
    case = uow.session.scalar(
        select(Case).where(Case.business_key == business_key)
        .order_by(Case.open_key.is_(None), Case.started_at.desc(), Case.id).limit(1))
    if case is None:
        raise NotFound(f"no project with code {business_key!r}")
    return public_project_rows(uow, case)


def public_project_rows(uow: UnitOfWork, case: Case) -> tuple[Case, list[Task], dict[str, dict[str, Any]]]:
    """A case's task rows, in the order they were created (the history's `task_created` events:
    tasks made in one instant keep their true order), and its elements' camunda properties."""
    tasks = list(uow.session.scalars(
        select(Task).where(Task.case_id == case.id).order_by(Task.created_at, Task.id)))
    sequence = dict(uow.session.execute(
        select(Event.task_id, func.min(Event.id)).where(Event.case_id == case.id, Event.type == "task_created")
        .group_by(Event.task_id)).all())
    tasks.sort(key=lambda t: (t.created_at, sequence.get(t.id, 0)))
    definition = uow.runtime.specs.definition(case.definition_id,
                                              lambda: uow.session.get(Definition, case.definition_id))
    properties = {element_id: meta["properties"]
                  for element_id, meta in ((definition.elements if definition else None) or {}).items()
                  if isinstance(meta, dict) and isinstance(meta.get("properties"), dict)}
    return case, tasks, properties


def deployment_of(uow: UnitOfWork, definition: Definition) -> Deployment:
    """The uploaded file a definition came from (file name, BPMN bytes)."""
    return uow.session.get(Deployment, definition.deployment_id)


def visible_history(uow: UnitOfWork, actor: Actor, case: Case) -> list[Event]:
    """A case's events; department staff do not see other departments' task events (their
    opinions), and plain staff not the levels of coordination meant for leaders (level 2)."""
    query = select(Event).where(Event.case_id == case.id)
    if not access.is_department_member(actor):
        return list(uow.session.scalars(query.order_by(Event.id)))
    visible = {t.id for t in visible_case_tasks(uow, actor, case)}
    events = list(uow.session.scalars(query.order_by(Event.id)))
    events = [e for e in events if e.task_id is None or e.task_id in visible]
    watch = access.oversight(actor, uow.organisation)
    if actor.role == "staff" and not (watch is not None and case_region(uow, case) == watch.region):
        leaders = {c.level for c in uow.organisation.coordination_levels if c.role == "leaders"}
        events = [e for e in events if not (e.type in ("escalated", "escalation_resolved")
                                            and isinstance(e.data, dict) and e.data.get("level") in leaders)]
    return events


# --------------------------------------------------------------------------- SLA columns (engine.services.deadlines keeps them)


def sla_filter(sla: str) -> ColumnElement[bool]:
    """`/tasks?sla=red`: a WHERE clause on `Task` (the worker keeps `tasks.sla` current)."""
    if sla not in SLA_STATES:
        raise Invalid(f"sla must be one of {', '.join(SLA_STATES)}", {"sla": ["unknown warning state"]})
    return and_(Task.state == TaskStatus.READY, Task.sla == sla)


def overdue_filter(overdue: bool = True) -> ColumnElement[bool]:
    """`/cases?overdue=true`: a WHERE clause on `Case` — it has an open red task."""
    clause = exists(select(Task.id).where(Task.case_id == Case.id, Task.state == TaskStatus.READY,
                                          Task.sla == "red"))
    return clause if overdue else ~clause


def inbox_order() -> tuple:
    """Sort an inbox by due date, tasks with no limit last."""
    return (Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id)
