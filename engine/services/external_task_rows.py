"""The `external_tasks` rows kept in step with a case's workflow: `CaseWorkflow.sync` calls
`sync` after every step, so workers fetch exactly the external tasks that wait (the verbs
workers use are in `engine.services.external_tasks`)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState

from engine.adapters import history
from engine.adapters.models import Case, Definition, ExternalTaskRow
from engine.domain.bpmn.external_task_spec import ExternalTask, has_external_tasks
from engine.domain.states import OPEN_CASE_STATUSES

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task as SpiffTask

    from engine.adapters.uow import UnitOfWork
    from engine.services.workflow import CaseWorkflow



def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """The task's data as JSON (dates as ISO text), for the row's snapshot."""
    return json.loads(json.dumps(data, default=str))


def _external_tasks(flow: "CaseWorkflow") -> dict[str, "SpiffTask"]:
    """The case's external tasks with a token: waiting (STARTED) or failed (ERROR)."""
    workflow = flow.workflow
    found = {}
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.tasks.values():
            if isinstance(task.task_spec, ExternalTask) and task._state in (TaskState.STARTED, TaskState.ERROR):
                found[str(task.id)] = task
    return found


def sync(flow: "CaseWorkflow") -> None:
    """Keep the case's `external_tasks` rows in step with its workflow (called by
    `CaseWorkflow.sync`): a row for each newly waiting external task, a fresh variables snapshot
    for each waiting one, a fresh start for one an operator's retry re-armed, and no row for one
    that went away (cancelled by a boundary event, the case cancelled, moved)."""
    workflow = flow.workflow
    if not has_external_tasks(workflow.spec, workflow.subprocess_specs):
        return
    uow, case = flow.uow, flow.case
    waiting = _external_tasks(flow) if case.status in OPEN_CASE_STATUSES else {}
    rows = uow.external_tasks.of_case(case.id)
    now = uow.runtime.clock()
    for task_id, task in waiting.items():
        row = rows.get(task_id)
        if row is None:
            if task._state != TaskState.STARTED:
                continue
            spec: ExternalTask = task.task_spec
            row = ExternalTaskRow(
                id=task_id, case_id=case.id, definition_id=case.definition_id, process_key=case.process_key,
                business_key=case.business_key, element_id=spec.bpmn_id or spec.name,
                element_name=spec.bpmn_name, topic=spec.topic, priority=spec.priority,
                variables=_json_safe(task.data), created_at=now)
            uow.external_tasks.add(row)
            history.record(uow, case.id, "external_task_created", flow.actor, task_id=task_id,
                           element_id=row.element_id, data={"topic": row.topic})
            continue
        if task._state == TaskState.STARTED and row.retries == 0:  # an operator's retry re-armed it
            row.retries, row.worker, row.lock_expires_at = None, None, None
        snapshot = _json_safe(task.data)
        if snapshot != row.variables:
            row.variables = snapshot
    for task_id, row in rows.items():
        if task_id not in waiting:
            uow.external_tasks.delete(row)
            history.record(uow, case.id, "external_task_cancelled", flow.actor, task_id=task_id,
                           element_id=row.element_id, data={"topic": row.topic, "worker": row.worker})


def follow_migration(uow: "UnitOfWork", case: Case, source: Definition, target: Definition,
                     tokens: dict[str, tuple[str, str]]) -> None:
    """A case moved to another version (`engine.services.case_migration`): its waiting external
    tasks keep their ids and locks but name the target's version and element, so workers and
    `GET /external-tasks` see where the token is now."""
    for task_id, row in uow.external_tasks.of_case(case.id).items():
        row.definition_id = target.id
        if task_id in tokens:
            row.element_id = tokens[task_id][1]
