"""Tasks: inboxes, one task with its form, claim / unclaim / complete."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint

from api.operation import operation
from api.routes import API_PREFIX
from api.runtime import runtime
from api.schemas.common import dump_page
from api.schemas.tasks import (CompletedTaskSchema, CompleteSchema, TaskDetailSchema, TaskPageSchema,
                                TaskQuerySchema, TaskSchema, dump_task, dump_tasks)
from engine.services import cases
from engine.adapters import queries
from engine.errors import NotFound

blueprint = Blueprint("tasks", __name__)
TAGS = ["tasks"]


@blueprint.get("/tasks")
@operation("List tasks (an inbox)", tags=TAGS, query=TaskQuerySchema, response=TaskPageSchema,
           description="Oldest first. Staff and leaders see only their department's tasks (403 for another "
                       "department), agents the tasks of their own cases, government and admins all.")
def list_tasks(actor, query):  # type: ignore[no-untyped-def]
    state = query.pop("state")
    with runtime().unit_of_work(write=False) as uow:
        page = queries.list_tasks(uow, actor, state=None if state == "all" else state, **query)
    return dump_page(TaskSchema, page, dump_task)


@blueprint.get("/tasks/<task_id>")
@operation("A task with the JSON Schema of its form", tags=TAGS, response=TaskDetailSchema)
def get_task(actor, task_id):  # type: ignore[no-untyped-def]
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        row = cases.get_task(uow, actor, task_id)
    body = dump_task(row)
    body["form"] = None
    if row.form_key:
        try:
            body["form"] = rt.forms.get(row.form_key)
        except NotFound:
            pass
    return body


def _verb(verb, actor, task_id, *args):  # type: ignore[no-untyped-def]
    return dump_task(verb(runtime().unit_of_work(), actor, task_id, *args))


@blueprint.post("/tasks/<task_id>/claim")
@operation("Claim a task", tags=TAGS, response=TaskSchema, conflicts=True)
def claim(actor, task_id):  # type: ignore[no-untyped-def]
    return _verb(cases.claim_task, actor, task_id)


@blueprint.post("/tasks/<task_id>/unclaim")
@operation("Give a claimed task back to the department", tags=TAGS, response=TaskSchema, conflicts=True)
def unclaim(actor, task_id):  # type: ignore[no-untyped-def]
    return _verb(cases.unclaim_task, actor, task_id)


@blueprint.post("/tasks/<task_id>/complete")
@operation("Complete a task with its form's data", tags=TAGS, body=CompleteSchema, body_required=False,
           response=CompletedTaskSchema, conflicts=True,
           response_headers={200: {
               "Location": {"description": "the case's open tasks: `/api/v1/tasks?case_id=…`",
                            "schema": {"type": "string"}},
               "Link": {"description": '`<…/tasks?case_id=…>; rel="next"`', "schema": {"type": "string"}}}},
           description="Answers with the completed task, its case's state and the case's open tasks after "
                       "it (the agent sees all of them, staff their department's), so a client needs no "
                       "second call to find the next task. The task's `prefill` is merged under `data`. "
                       "422 lists every form error by field path; 409 when the task is not ready, "
                       "is claimed by someone else, or the case is suspended.")
def complete(actor, body, task_id):  # type: ignore[no-untyped-def]
    done = cases.complete_and_follow(runtime().unit_of_work(), actor, task_id, body["data"])
    result = {**dump_task(done.task),
              "case": {"id": done.case.id, "status": done.case.status, "stage": done.case.stage},
              "open_tasks": dump_tasks(done.open_tasks)}
    link = f"{API_PREFIX}/tasks?case_id={quote(done.case.id)}"
    return result, 200, {"Location": link, "Link": f'<{link}>; rel="next"'}
