"""SpiffWorkflow glue for one case: load its state, run engine steps, mirror tasks into rows, save."""
from __future__ import annotations

from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import SQLAlchemyError

from engine.adapters import history
from engine.adapters.models import Case, Definition, Task
from engine.adapters.serializer import LIVE_WORKFLOWS, dump_state, load_state, new_workflow, release
from engine.adapters.specs import load_definition, specs_of
from engine.adapters.spiff_clock import clock_scope
from engine.adapters.uow import UnitOfWork
from engine.domain import expressions
from engine.domain import form_binding
from engine.domain import routing
from engine.domain.states import OPEN_CASE_STATUSES, CaseStatus, TaskStatus
from engine.services import external_task_rows
from engine.errors import Conflict, NotFound
from engine.services import deadlines
from engine.services import incidents
from engine.services import timer_jobs
from engine.services import event_catalogue



def _ran_before(task: SpiffTask) -> bool:
    """Whether an ancestor of `task` in its (sub)process is the same element: the path looped
    back to it (SpiffWorkflow grows the tree along a loop). No database, a short walk."""
    spec, ancestor = task.task_spec, task.parent
    while ancestor is not None:
        if ancestor.task_spec is spec:
            return True
        ancestor = ancestor.parent
    return False


_BINDING_PROPERTIES = frozenset({"prefill", "business_key_field", "actor_field"})


def _task_name(name: str | None, item: dict[str, Any] | None) -> str | None:
    """A task on an approval item says which one in its name (`审查决定 · 建设工程规划许可证`),
    so an inbox row reads on its own."""
    label = item.get("name") if isinstance(item, dict) else None
    if not isinstance(label, str) or not label.strip() or not name:
        return name
    return f"{name} · {label.strip()}"[:255]


def ready_manual_tasks(workflow: BpmnWorkflow) -> list[SpiffTask]:
    """The READY manual (user) tasks of a workflow, i.e. what must be mirrored into task rows.

    Reads the task dictionaries of the workflow and its subprocesses instead of walking the
    tree (`get_tasks`), which resolves every parent by UUID and costs ~4 ms at 256 branches.
    """
    ready = TaskState.READY
    found = [t for t in workflow.tasks.values() if t._state == ready and t.task_spec.manual]
    for sub in workflow.subprocesses.values():
        found += [t for t in sub.tasks.values() if t._state == ready and t.task_spec.manual]
    return found


def waiting_message_names(workflow: BpmnWorkflow) -> set[str]:
    """The names of the messages a workflow waits for, also those behind an event-based gateway
    or an event subprocess's start (SpiffWorkflow lists those as one unnamed `Multiple` event)."""

    names: set[str] = set()
    pending = [getattr(t.task_spec, "event_definition", None) for t in workflow.event_manager.tasks.values()]
    if not workflow.is_completed():  # event subprocesses started by a message (start triggers)
        for process in [workflow, *workflow.subprocesses.values()]:
            if process.is_completed():
                continue
            for name in getattr(process.spec.start, "trigger_specs", ()):
                spec = workflow.subprocess_specs.get(name)
                pending += [getattr(s, "event_definition", None) for s in getattr(spec, "bpmn_start_events", ())]
    while pending:
        definition = pending.pop()
        if isinstance(definition, MultipleEventDefinition):
            pending += definition.event_definitions
        elif isinstance(definition, MessageEventDefinition) and definition.name:
            names.add(definition.name)
    return names


class CaseWorkflow:
    """The live workflow of one locked case, with the bookkeeping every command shares."""

    def __init__(self, uow: UnitOfWork, case: Case, definition: Definition,
                 workflow: BpmnWorkflow) -> None:
        self.uow = uow
        self.case = case
        self.definition = definition
        self.workflow = workflow
        self.actor: str | None = None
        self.retrying: set[str] = set()  # ids of failed steps an operator retries now (repair.py)
        self.resolution: str | None = None  # how incidents closed by this command end (repair.py)
        if uow.write:  # the command's own workflow (not shared, see `load`): freed when it ends
            uow.at_end(lambda: release(workflow))

    @classmethod
    def load(cls, uow: UnitOfWork, case: Case) -> "CaseWorkflow":
        definition = load_definition(uow, case.definition_id)
        live = LIVE_WORKFLOWS.take(case.id, case.state)
        if live is not None:
            return cls(uow, case, definition, live)
        spec, subprocess_specs = specs_of(uow, definition)
        return cls(uow, case, definition, load_state(case.state, spec, subprocess_specs))

    @classmethod
    def new(cls, uow: UnitOfWork, case: Case, definition: Definition) -> "CaseWorkflow":
        spec, subprocess_specs = specs_of(uow, definition)
        return cls(uow, case, definition, new_workflow(spec, subprocess_specs))

    # -- running -----------------------------------------------------------------------------
    def run(self, refresh_timers: bool = False) -> None:
        """Run automatic steps to the next wait (`refresh_timers`: fire due timers first).

        A step that fails becomes an incident (`_record_error`); the command that reached it
        still commits, and the rest of the case goes on. Database errors are not a step's fault
        and propagate (the command rolls back)."""
        try:
            with clock_scope(self.uow.runtime.clock), expressions.output_to(self._script_output):
                if refresh_timers:  # timer events read the runtime clock
                    self.workflow.refresh_timers()
                self.workflow.do_engine_steps()
        except SQLAlchemyError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure of a designer's step is an incident
            self._record_error(error)

    def _record_error(self, error: Exception) -> None:
        """Keep a failed step as an incident: its task in ERROR (SpiffWorkflow's own state for a
        step that failed; `retry` resets it), a task row in state `error`, an open incident."""
        task = incidents.failed_task(error)
        if task is not None:
            if task.state not in (TaskState.ERROR, TaskState.CANCELLED):
                task._set_state(TaskState.ERROR)  # e.g. a timer whose value failed while updating
            # A failed catching event must not be re-evaluated by every later refresh_timers()
            # (it would fail again at the end of every command); a reload drops it the same way.
            self.workflow.top_workflow.event_manager.remove_task(task)
        self._record_error_for(task, error)

    def _error_row(self, task: SpiffTask | None, message: str) -> None:
        if task is None:
            return
        row = self.uow.tasks.get(str(task.id))
        if row is None:
            self.uow.tasks.add(self._row_for(task, state=TaskStatus.ERROR, error=message))
        else:
            row.state, row.error = TaskStatus.ERROR, message

    def _department_hint(self, task: SpiffTask | None) -> str | None:
        """The department a failed step belongs to, for filtering incidents (best effort: the code
        the step names, known to the organisation or not)."""
        if task is None or not task.task_spec.manual:
            return None
        groups = self._meta(task).get("candidateGroups")
        try:
            return routing.resolve_department(self._meta(task), getattr(task.task_spec, "lane", None),
                                              task.data, self.uow.organisation)
        except Exception:  # noqa: BLE001 - the step failed; the hint is only for listing
            pass
        if isinstance(groups, str) and routing.is_expression(groups):
            try:
                value = expressions.evaluate(routing.expression_of(groups), dict(task.data))
            except Exception:  # noqa: BLE001
                return None
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            return None if value is None else str(value)[:120]
        return None

    def _script_output(self, task: SpiffTask | None, text: str, dropped: int) -> None:
        """What a script printed goes to the case log (bounded by expressions.MAX_OUTPUT)."""
        data: dict[str, Any] = {"text": text}
        if dropped:
            data["dropped"] = dropped  # characters left out
        history.record(self.uow, self.case.id, "script_output", self.actor,
                       task_id=str(task.id) if task is not None else None,
                       element_id=task.task_spec.bpmn_id if task is not None else None, data=data)

    def complete(self, task_id: str, data: dict[str, Any]) -> SpiffTask:
        task = self.workflow.get_task_from_id(UUID(task_id))
        if task is None:
            raise NotFound(f"task {task_id} is not part of case {self.case.id}")
        if task.state != TaskState.READY:
            raise Conflict(f"task {task_id} is {TaskState.get_name(task.state).lower()}, not ready")
        task.data.update(data)
        self._keep_form_data(task, data)
        try:
            with clock_scope(self.uow.runtime.clock), expressions.output_to(self._script_output):
                task.run()
        except SQLAlchemyError:
            raise
        except Exception as error:  # noqa: BLE001 - the step after the form failed: an incident
            self._record_error(error)
            return task
        self.run()
        return task

    def _keep_form_data(self, task: SpiffTask, data: dict[str, Any]) -> None:
        """A completed form is also kept whole under its form key (`intake`, `approval_decision`...),
        so scripts and conditions can read optional fields with `.get`, and it is written into the
        approval item the task works on (`item['approval_decision']`), which a multi-instance hands
        back into its collection."""
        form_key = self._meta(task).get("formKey")
        if not form_key:
            return
        task.data[form_key] = deepcopy(data)
        name = self._item_name(task, self._meta(task))
        item = task.data.get(name) if name else None
        if isinstance(item, dict):
            item[form_key] = deepcopy(data)

    # -- mirroring into rows -----------------------------------------------------------------
    def _meta(self, task: SpiffTask) -> dict[str, Any]:
        return self.definition.elements.get(task.task_spec.bpmn_id or "", {})

    def _property(self, task: SpiffTask, meta: dict[str, Any], name: str) -> Any:
        """A camunda:property value; `${expr}` is evaluated against the task's data (e.g. an item's limit)."""
        value = meta.get("properties", {}).get(name)
        if isinstance(value, str) and routing.is_expression(value):
            try:
                value = expressions.evaluate(routing.expression_of(value), dict(task.data))
            except expressions.ExpressionError:
                return None
            return None if value is None else str(value)
        return value

    @staticmethod
    def _item_name(task: SpiffTask, meta: dict[str, Any]) -> str | None:
        name = meta.get("properties", {}).get("item")
        if name is None:
            parent_spec = task.parent.task_spec if task.parent is not None else None
            output_item = getattr(parent_spec, "input_item", None) or getattr(parent_spec, "output_item", None)
            name = getattr(output_item, "bpmn_id", None)
        return name

    def _item(self, task: SpiffTask, meta: dict[str, Any]) -> dict[str, Any] | None:
        """The approval item a multi-instance task works on, for inboxes and the public page."""
        name = self._item_name(task, meta)
        value = task.data.get(name) if name else None
        return value if isinstance(value, dict) else ({"value": value} if value is not None else None)

    def _row_for(self, task: SpiffTask, state: TaskStatus = TaskStatus.READY, error: str | None = None) -> Task:
        meta = self._meta(task)
        lane = getattr(task.task_spec, "lane", None)
        department, assignee = None, None
        if state == TaskStatus.READY:
            department = routing.resolve_department(meta, lane, task.data, self.uow.organisation,
                                                    region=self.case.region)
            assignee = meta.get("assignee")
            if assignee and routing.is_expression(assignee):
                assignee = str(expressions.evaluate(routing.expression_of(assignee), dict(task.data)))
            if department is None and not assignee:
                assignee = self.case.started_by  # the agent's own task
        item = self._item(task, meta)
        row = Task(
            id=str(task.id), case_id=self.case.id, element_id=task.task_spec.bpmn_id or task.task_spec.name,
            name=_task_name(task.task_spec.bpmn_name or task.task_spec.bpmn_id, item),
            kind="user" if task.task_spec.manual else "engine",
            lane=lane, department=department, assignee=assignee, state=state,
            form_key=meta.get("formKey"), item=item,
            created_at=self.uow.runtime.clock(), error=error,
            time_limit=self._property(task, meta, "time_limit"),
        )
        if state == TaskStatus.READY:
            properties = meta.get("properties", {})
            if meta.get("dueDate"):  # camunda:dueDate, e.g. the date promised at 容缺受理
                properties = {**properties, "due_date": self._attribute(task, meta["dueDate"])}
            deadlines.start_clock_for(self.uow, row, properties, again=_ran_before(task))
            if _BINDING_PROPERTIES & properties.keys():
                row.prefill = form_binding.prefill(self.uow, self.case, meta, row.form_key, task.data,
                                                   assignee)
        return row

    @staticmethod
    def _attribute(task: SpiffTask, value: str) -> Any:
        """A camunda attribute's value; `${expr}` evaluated against the task's data (None if it fails)."""
        if not routing.is_expression(value):
            return value
        try:
            return expressions.evaluate(routing.expression_of(value), dict(task.data))
        except expressions.ExpressionError:
            return None

    def sync(self) -> list[Task]:
        """Create rows for newly ready tasks, close rows whose tasks went away. Returns new rows.

        A row in state `error` (a failed step, see `engine/services/incidents.py`) is left alone until its
        step is retried (`retrying`), runs, or goes away (moved, cancelled); then its incident
        is resolved."""
        # Ids only: a wide case has hundreds of open rows, and loading them whole (JSON columns
        # decoded) cost more than the workflow step itself (issue 6 profile). Rows to close are
        # loaded one by one below (usually none: the completed row is already in the session).
        # A case being started in this unit of work is not written yet: it has no rows to read.
        rows = {} if self.uow.cases.is_new(self.case.id) else self.uow.tasks.open_states(self.case.id)
        created: list[Task] = []
        ready = ready_manual_tasks(self.workflow)
        ready_ids = set()
        for task in ready:
            task_id = str(task.id)
            ready_ids.add(task_id)
            state = rows.get(task_id)
            if state == TaskStatus.READY or (state == TaskStatus.ERROR and task_id not in self.retrying):
                continue
            try:
                row = self._row_for(task)
            except SQLAlchemyError:
                raise
            except Exception as error:  # noqa: BLE001 - routing, due date: an incident, not a 500
                self._record_error_for(task, error)
                continue
            if state == TaskStatus.ERROR:  # a retried step whose cause was fixed: its row opens
                row = self._reopen(row)
                incidents.resolve_step(self, task_id, "retried")
            else:
                self.uow.tasks.add(row)
            created.append(row)
            event_catalogue.task_ready(self.uow, self.case, row)  # the outbox (issue 13)
            stage = self._property(task, self._meta(task), "stage")
            if stage:
                self.case.stage = stage
            history.record(self.uow, self.case.id, "task_created", self.actor, task_id=row.id,
                           element_id=row.element_id,
                           data={"name": row.name, "department": row.department,
                                 "assignee": row.assignee, "item": row.item})
            if row.due_at is not None:
                self.case.timed = True  # from now on saving looks for SLA jobs and escalations
                rules = row.time_rules or {}
                data = {"time_limit": row.time_limit, "due_at": row.due_at.isoformat(),
                        "warn_at": row.warn_at.isoformat() if row.warn_at else None}
                if "continues" in rules:  # after a 补正 loop: the item's clock goes on
                    data.update(mode=rules["after_stop"], stopped_at=rules["stopped_at"],
                                previous_due_at=rules["previous_due_at"])
                history.record(self.uow, self.case.id, "clock_started", self.actor, task_id=row.id,
                               element_id=row.element_id, data=data)
            stop_kind = self._property(task, self._meta(task), "clock_stop")
            if stop_kind:
                deadlines.item_clock_stopped(self.uow, row, str(stop_kind), self.actor)
        external_task_rows.sync(self)  # the rows workers fetch (camunda:type="external")
        case_open = self.case.status in OPEN_CASE_STATUSES
        for task_id, state in rows.items():
            if task_id in ready_ids:
                continue
            try:
                spiff = self.workflow.get_task_from_id(UUID(task_id))
            except TaskNotFoundException:
                spiff = None  # dropped from the tree (e.g. a branch spawned by a boundary timer)
            if state == TaskStatus.ERROR:
                self._close_error_row(task_id, spiff, case_open)
                continue
            row = self.uow.tasks.get(task_id)
            if spiff is not None and spiff.state == TaskState.COMPLETED:
                row.state = TaskStatus.COMPLETED  # completed by the engine, e.g. a message or timer
            else:
                row.state = TaskStatus.CANCELLED
            row.completed_at = self.uow.runtime.clock()
            history.record(self.uow, self.case.id, f"task_{row.state}", self.actor,
                           task_id=row.id, element_id=row.element_id)
        incidents.refresh_case_error(self)
        return created

    def _close_error_row(self, task_id: str, spiff: SpiffTask | None, case_open: bool) -> None:
        """The row of a failed step, once the step is no longer failed: completed (it ran on a
        retry), cancelled (moved away, cancelled with its branch or case), or, for an engine
        step re-armed and now waiting (a timer) or not yet run, removed (its row existed only
        because it failed; the history keeps the failure)."""
        if spiff is not None and spiff.state == TaskState.ERROR and case_open:
            return  # still failed: the incident stays open
        row = self.uow.tasks.get(task_id)
        now = self.uow.runtime.clock()
        if spiff is not None and spiff.state == TaskState.COMPLETED:
            row.state, row.completed_at, row.completed_by = TaskStatus.COMPLETED, now, self.actor
            row.error = None  # the failure is kept by its incident and the history
            how = self.resolution or "retried"
        elif spiff is None or spiff.state == TaskState.CANCELLED or not case_open:
            row.state, row.completed_at = TaskStatus.CANCELLED, now
            how = self.resolution or "cancelled"
        else:
            self.uow.tasks.delete(row)
            incidents.resolve_step(self, task_id, self.resolution or "retried")
            return
        history.record(self.uow, self.case.id, f"task_{row.state}", self.actor, task_id=row.id,
                       element_id=row.element_id)
        incidents.resolve_step(self, task_id, how)

    def _reopen(self, fresh: Task) -> Task:
        """Turn the `error` row of a retried step into the ready row `_row_for` just built."""
        row = self.uow.tasks.get(fresh.id)
        for column in Task.__table__.columns:
            if column.name != "id":
                setattr(row, column.key, getattr(fresh, column.key))
        return row

    def _record_error_for(self, task: SpiffTask | None, error: Exception) -> None:
        """The row of a failed step is `error` and an incident is open. Also for a ready user task
        whose row could not be made (its department is unknown, its due date cannot be computed):
        the task stays ready in the workflow until a retry makes the row."""
        self._error_row(task, incidents.message_of(error))
        incidents.open_incident(self, task, error, department=self._department_hint(task))

    def save(self) -> None:
        """Persist state; a finished workflow closes the case and frees its business key."""
        case = self.case
        # The workflow that ran is not kept for the next command: SpiffWorkflow shares nested
        # data between tasks (one-level copies), so a workflow that ran holds in-place changes
        # aliased differently from one read back from this text, and the next command could go
        # another way than after a restart or on another worker (issue 9). The next command
        # reads this text back (a read such as `case_variables` may leave that copy in
        # LIVE_WORKFLOWS), so the saved state is the state.
        case.state = dump_state(self.workflow)
        case.version += 1
        case.updated_at = self.uow.runtime.clock()
        if self.workflow.is_completed() and case.status in OPEN_CASE_STATUSES:
            case.status = CaseStatus.COMPLETED
            case.ended_at = case.updated_at
            case.open_key = None
            history.record(self.uow, case.id, "completed", self.actor)
            event_catalogue.case_changed(self.uow, case, "case.closed", self.actor)
        timer_jobs.schedule(self)  # timer_jobs rows: waiting timers, SLA transitions, escalations
