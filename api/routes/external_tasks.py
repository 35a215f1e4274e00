"""External tasks for workers (machine accounts, role `worker`): fetch and lock by topic,
complete, failure, BPMN error, extend lock, unlock; list and read for dashboards.

The Camunda 7 compatible endpoints for existing workers are in `api/routes/engine_rest.py`.
"""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.cases import CaseSchema
from api.schemas.external_tasks import (ExternalBpmnErrorSchema, ExternalCompleteSchema, ExternalExtendLockSchema,
                                        ExternalFailureSchema, ExternalFetchAndLockSchema, ExternalTaskQuerySchema,
                                        ExternalTaskSchema, LockedExternalTaskSchema)
from engine.services import external_tasks

blueprint = Blueprint("external_tasks", __name__)
TAGS = ["external-tasks"]
WHO = "Workers (role `worker`) and admins. "
HOLDER = ("Only the worker that fetched the task (`workerId`) may do this: another worker gets 409 naming the "
          "holder; 404 when the task is done or gone. ")


def dump_locked(fetched: list[external_tasks.Fetched]) -> list[dict]:
    return [{**ExternalTaskSchema().dump(f.row), "variables": f.variables} for f in fetched]


@blueprint.post("/external-tasks/fetch-and-lock")
@operation("Fetch and lock external tasks by topic", tags=TAGS, body=ExternalFetchAndLockSchema,
           response=LockedExternalTaskSchema(many=True),
           description=WHO + "Locks up to `maxTasks` tasks of the given topics that nobody holds, each for its "
                             "topic's `lockDuration` (ms), and returns them with the variables asked for. A task "
                             "is never handed to two workers; a lock that expires makes it fetchable again. "
                             "With nothing to fetch it waits up to `asyncResponseTimeout` ms (at most 1 s, "
                             "long polling) and answers an empty list.")
def fetch_and_lock(actor, body):  # type: ignore[no-untyped-def]
    fetched = external_tasks.fetch_and_lock_waiting(runtime(), actor, body["workerId"], body["topics"],
                                                    body["maxTasks"], body.get("asyncResponseTimeout"))
    return dump_locked(fetched)


@blueprint.get("/external-tasks")
@operation("List external tasks", tags=TAGS, query=ExternalTaskQuerySchema, response=ExternalTaskSchema(many=True),
           description=WHO + "Waiting external tasks, oldest first; filter by topic, worker, case, locked.")
def list_tasks(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        rows = external_tasks.list_tasks(uow, actor, topic=query.get("topicName"), worker=query.get("workerId"),
                                         case_id=query.get("processInstanceId"), locked=query.get("locked"),
                                         limit=query["maxResults"], offset=query["firstResult"])
        return ExternalTaskSchema(many=True).dump(rows)


@blueprint.get("/external-tasks/<task_id>")
@operation("Read an external task", tags=TAGS, response=ExternalTaskSchema, description=WHO)
def get_task(actor, task_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return ExternalTaskSchema().dump(external_tasks.get(uow, actor, task_id))


@blueprint.post("/external-tasks/<task_id>/complete")
@operation("Complete an external task", tags=TAGS, body=ExternalCompleteSchema, response=CaseSchema, conflicts=True,
           description=WHO + HOLDER + "`variables` go into the case's data; the case runs to its next waits and "
                                      "is returned.")
def complete(actor, body, task_id):  # type: ignore[no-untyped-def]
    case = external_tasks.complete(runtime().unit_of_work(), actor, task_id, body["workerId"], body.get("variables"),
                                   body.get("localVariables"))
    return CaseSchema().dump(case)


@blueprint.post("/external-tasks/<task_id>/failure")
@operation("Report that an external task failed", tags=TAGS, body=ExternalFailureSchema, response=ExternalTaskSchema,
           conflicts=True,
           description=WHO + HOLDER + "With `retries` left the task can be fetched again after `retryTimeout` ms; "
                                      "with 0 the step is an incident (GET /incidents) until an operator retries "
                                      "the case (POST /cases/{id}/retry), which makes it fetchable again.")
def failure(actor, body, task_id):  # type: ignore[no-untyped-def]
    row = external_tasks.fail(runtime().unit_of_work(), actor, task_id, body["workerId"], body.get("errorMessage"),
                              body.get("errorDetails"), body["retries"], body.get("retryTimeout"))
    return ExternalTaskSchema().dump(row)


@blueprint.post("/external-tasks/<task_id>/bpmn-error")
@operation("Report a business error (BPMN error) of an external task", tags=TAGS, body=ExternalBpmnErrorSchema,
           response=CaseSchema, conflicts=True,
           description=WHO + HOLDER + "An error boundary event with `errorCode` (or without a code) on the task, "
                                      "or on an enclosing subprocess, takes the token; uncaught, the step is an "
                                      "incident.")
def bpmn_error(actor, body, task_id):  # type: ignore[no-untyped-def]
    case = external_tasks.bpmn_error(runtime().unit_of_work(), actor, task_id, body["workerId"], body["errorCode"],
                                     body.get("errorMessage"), body.get("variables"))
    return CaseSchema().dump(case)


@blueprint.post("/external-tasks/<task_id>/extend-lock")
@operation("Extend the lock of an external task", tags=TAGS, body=ExternalExtendLockSchema, response=ExternalTaskSchema,
           conflicts=True, description=WHO + HOLDER + "The lock now ends `newDuration` ms from now; 409 when it "
                                                      "expired already.")
def extend_lock(actor, body, task_id):  # type: ignore[no-untyped-def]
    row = external_tasks.extend_lock(runtime().unit_of_work(), actor, task_id, body["workerId"], body["newDuration"])
    return ExternalTaskSchema().dump(row)


@blueprint.post("/external-tasks/<task_id>/unlock")
@operation("Unlock an external task", tags=TAGS, response=ExternalTaskSchema,
           description=WHO + "Any worker may fetch it again at once.")
def unlock(actor, task_id):  # type: ignore[no-untyped-def]
    return ExternalTaskSchema().dump(external_tasks.unlock(runtime().unit_of_work(), actor, task_id))
