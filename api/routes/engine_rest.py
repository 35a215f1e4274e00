"""A Camunda 7 compatible subset of the REST API under `/engine-rest`, so tools written for
Camunda work unmodified: external task workers (`camunda-external-task-client-python3`, the
Java and JavaScript clients), Camunda Modeler's deploy, and simple scripts that start process
instances and complete user tasks.

Camunda's JSON shapes (camelCase, typed variables, `{type, message}` errors, 204 for verbs)
are translated here to onewindow's engine calls; the rules stay the engine's: a process
instance is a case, a user task is a task row of a department or an agent, a start needs an
agent (or admin), a deploy a designer, external task verbs a worker. Authentication is the
same as the rest of the API: `Authorization: Bearer <token>`, or `Basic` with the user name and
the API token as password (what Camunda Modeler and the clients can send).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from api.camunda_variables import from_typed, to_typed
from api.errors import MalformedJSON, Unauthorized, UnsupportedMediaType, status_of
from api.operation import json_body, operation
from api.runtime import runtime
from api.schemas import engine_rest as dto
from engine.services import cases
from engine.services import definitions
from engine.adapters import queries
from engine.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge
from engine.services import external_tasks
from engine.services.workflow import load_definition

PREFIX = "/engine-rest"
CAMUNDA_VERSION = "7.21.0"  # the REST API level the subset follows
blueprint = Blueprint("engine_rest", __name__)
TAGS = ["engine-rest (Camunda 7 compatible)"]
_ERROR_TYPES = {NotFound: "InvalidRequestException", Invalid: "InvalidRequestException",
                Conflict: "BadUserRequestException", Forbidden: "AuthorizationException",
                Unauthorized: "AuthenticationException", MalformedJSON: "InvalidRequestException",
                UnsupportedMediaType: "InvalidRequestException", TooLarge: "InvalidRequestException"}
#: Camunda answers a refused request (bad input, a state that does not allow it, such as a task
#: locked by another worker) with 400, not 409/422.
_STATUS = {409: 400, 422: 400}
ERRORS = {status: (text, dto.CamundaErrorSchema) for status, text in {
    400: "bad input or a state that does not allow it (e.g. locked by another worker)",
    401: "no valid credentials (Bearer token, or Basic with user name and token)",
    403: "the user may not do this", 404: "no such resource", 413: "the body is too large",
    415: "wrong Content-Type", 422: "(not used: Camunda answers 400)"}.items()}


def camunda_error(status: int, kind: str, message: str) -> Response:
    response = jsonify({"type": kind, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="onewindow", Bearer'
    return response


@blueprint.errorhandler(DomainError)
def _domain(error: DomainError) -> Response:
    status = status_of(error)
    kind = next((name for cls, name in _ERROR_TYPES.items() if isinstance(error, cls)), "RestException")
    message = error.detail
    if error.errors:
        message += ": " + "; ".join(f"{field}: {', '.join(map(str, texts))}" for field, texts in error.errors.items())
    return camunda_error(_STATUS.get(status, status), kind, message[:4000])


@blueprint.errorhandler(ValidationError)
def _validation(error: ValidationError) -> Response:
    return camunda_error(400, "InvalidRequestException", f"invalid request: {error.messages}"[:4000])


@blueprint.errorhandler(HTTPException)
def _http(error: HTTPException) -> Response:
    return camunda_error(error.code or 500, "RestException", error.description or error.name)


@blueprint.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    current_app.logger.exception("unexpected error")
    return camunda_error(500, "ProcessEngineException", "an unexpected error happened; it has been logged")


def camunda_time(value: datetime | None) -> str | None:
    """Camunda's date format, `2026-03-02T01:00:00.000+0000`."""
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _body() -> dict[str, Any]:
    return json_body(required=False)


def _no_content() -> Response:
    return Response(status=204)


# --------------------------------------------------------------------------- version, deploy


@blueprint.get("/version")
@operation("Camunda REST API version (what Camunda Modeler checks before it deploys)", tags=TAGS,
           response=dto.VersionSchema, responses=ERRORS, forbidden=False)
def version(actor):  # type: ignore[no-untyped-def]
    return {"version": CAMUNDA_VERSION}


@blueprint.post("/deployment/create")
@operation("Deploy BPMN files as Camunda Modeler does (multipart)", tags=TAGS, response=dto.DeploymentDtoSchema,
           responses=ERRORS, raw_body={"multipart/form-data": {"schema": {"type": "object", "properties": {
               "deployment-name": {"type": "string"}, "deploy-changed-only": {"type": "string"},
               "deployment-source": {"type": "string"}, "tenant-id": {"type": "string"},
               "data": {"type": "string", "format": "binary",
                        "description": "each file part is a file of the deployment (any part name)"}}}}},
           description="Designers and admins. Every file part is deployed as one deployment, all or none, with "
                       "onewindow's checks (400 lists every problem as `file:line: element: message`). "
                       "Unchanged processes keep their version (as deploy-changed-only).")
def deployment_create(actor):  # type: ignore[no-untyped-def]
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("deploy as multipart/form-data with one part per file, as Camunda Modeler does")
    uploads = [(f.read(), f.filename or name) for name in request.files for f in request.files.getlist(name)]
    if not uploads:
        raise Invalid("the deployment has no file part", errors={"data": ["at least one file"]})
    empty = [name for data, name in uploads if not data]
    if empty:
        raise Invalid(f"the file {empty[0]!r} is empty", errors={"data": [f"{n}: empty" for n in empty]})
    result = definitions.deploy_uploads(runtime().unit_of_work(), actor, uploads)
    deployed = {str(d.id): {"id": str(d.id), "key": d.key, "name": d.name, "version": d.version,
                            "deploymentId": str(d.deployment_id), "resource": result.files.get(d.key),
                            "category": None, "description": None, "diagram": None, "suspended": False,
                            "tenantId": None, "versionTag": None, "historyTimeToLive": None,
                            "startableInTasklist": True}
                for d in result.definitions}
    first = result.definitions[0] if result.definitions else None
    return {"id": str(first.deployment_id) if first else str(uuid.uuid4()),
            "name": request.form.get("deployment-name"), "source": request.form.get("deployment-source"),
            "deploymentTime": camunda_time(first.deployed_at if first else None), "tenantId": None,
            "links": [], "deployedProcessDefinitions": deployed, "deployedCaseDefinitions": None,
            "deployedDecisionDefinitions": None, "deployedDecisionRequirementsDefinitions": None}


# --------------------------------------------------------------------------- process instances, tasks


def _instance(case: Any) -> dict[str, Any]:
    return {"id": case.id, "definitionId": str(case.definition_id), "definitionKey": case.process_key,
            "businessKey": case.business_key, "caseInstanceId": None,
            "ended": case.status not in ("running", "suspended"), "suspended": case.status == "suspended",
            "tenantId": None, "links": []}


@blueprint.post("/process-definition/key/<key>/start")
@operation("Start a process instance (a case) by process key, with typed variables", tags=TAGS,
           raw_body={"application/json": {"schema": dto.CamundaStartSchema}},
           response=dto.ProcessInstanceDtoSchema, responses=ERRORS,
           description="Agents and admins. `businessKey` is the project code; omitted, one is generated. An open "
                       "case for the same process and business key is returned instead of a second one.")
def start_by_key(actor, key):  # type: ignore[no-untyped-def]
    return _start(actor, key, None)


@blueprint.post("/process-definition/<int:definition_id>/start")
@operation("Start a process instance of one definition version (Camunda Modeler's start)", tags=TAGS,
           raw_body={"application/json": {"schema": dto.CamundaStartSchema}},
           response=dto.ProcessInstanceDtoSchema, responses=ERRORS,
           description="As start by key, for the version whose id `deployment/create` answered.")
def start_by_id(actor, definition_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        definition = load_definition(uow, definition_id)
    return _start(actor, definition.key, definition.version)


def _start(actor: Any, key: str, version: int | None) -> dict[str, Any]:
    body = _body()
    variables = from_typed(body.get("variables"))
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise Invalid("businessKey must be a string", errors={"businessKey": ["must be a string"]})
    started = cases.start_case(runtime().unit_of_work(), actor, key, business_key or str(uuid.uuid4()),
                               variables=variables, version=version)
    return _instance(started.case)


@blueprint.get("/process-instance/<instance_id>")
@operation("Read a process instance (a case)", tags=TAGS, response=dto.ProcessInstanceDtoSchema, responses=ERRORS)
def process_instance(actor, instance_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return _instance(cases.get_case(uow, actor, instance_id))


def _task(row: Any, case: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "assignee": row.assignee, "owner": None,
            "created": camunda_time(row.created_at), "due": camunda_time(row.due_at), "followUp": None,
            "delegationState": None, "description": None, "executionId": row.case_id, "parentTaskId": None,
            "priority": 50, "processDefinitionId": str(case.definition_id) if case else "",
            "processInstanceId": row.case_id, "taskDefinitionKey": row.element_id, "caseExecutionId": None,
            "caseInstanceId": None, "caseDefinitionId": None, "suspended": bool(case and case.status == "suspended"),
            "formKey": row.form_key, "tenantId": None, "candidateGroup": row.department}


@blueprint.get("/task")
@operation("List open user tasks the user may work or see", tags=TAGS, query=dto.TaskQuerySchema,
           response=dto.TaskDtoSchema(many=True), responses=ERRORS,
           description="The same tasks as GET /api/v1/tasks (a department's inbox, an agent's own cases' tasks); "
                       "`candidateGroup` is a department code.")
def task_list(actor, query):  # type: ignore[no-untyped-def]
    first, most = max(query["firstResult"], 0), min(max(query["maxResults"], 1), 200)
    with runtime().unit_of_work(write=False) as uow:
        page = queries.list_tasks(uow, actor, department=query.get("candidateGroup"),
                                  assignee=query.get("assignee"), case_id=query.get("processInstanceId"),
                                  element_id=query.get("taskDefinitionKey"),
                                  business_key=query.get("processInstanceBusinessKey"),
                                  offset=first, per_page=most)
        found = external_tasks.cases_by_id(uow, {row.case_id for row in page.items})
        return [_task(row, found[row.case_id]) for row in page.items]


@blueprint.post("/task/<task_id>/complete")
@operation("Complete a user task with typed variables", tags=TAGS,
           raw_body={"application/json": {"schema": dto.CamundaTaskCompleteSchema}}, status=204,
           response_description="completed", responses=ERRORS,
           description="The variables are the task's form data (checked against its form, as POST "
                       "/api/v1/tasks/{id}/complete).")
def task_complete(actor, task_id):  # type: ignore[no-untyped-def]
    data = from_typed(_body().get("variables"))
    cases.complete_task(runtime().unit_of_work(), actor, task_id, data)
    return _no_content()


# --------------------------------------------------------------------------- external tasks


def _locked(fetched: external_tasks.Fetched) -> dict[str, Any]:
    row = fetched.row
    return {"id": row.id, "topicName": row.topic, "workerId": row.worker,
            "lockExpirationTime": camunda_time(row.lock_expires_at), "retries": row.retries,
            "errorMessage": row.error_message, "errorDetails": row.error_details, "activityId": row.element_id,
            "activityInstanceId": row.id, "executionId": row.id, "processInstanceId": row.case_id,
            "processDefinitionId": str(row.definition_id), "processDefinitionKey": row.process_key,
            "processDefinitionVersionTag": None, "businessKey": row.business_key, "tenantId": None,
            "priority": row.priority, "createTime": camunda_time(row.created_at), "extensionProperties": {},
            "variables": to_typed(fetched.variables)}


@blueprint.post("/external-task/fetchAndLock")
@operation("Fetch and lock external tasks (Camunda)", tags=TAGS,
           raw_body={"application/json": {"schema": dto.CamundaFetchSchema}},
           response=dto.LockedExternalTaskDtoSchema(many=True), responses=ERRORS,
           description="Workers and admins. As POST /api/v1/external-tasks/fetch-and-lock, with typed variables. "
                       "With nothing to fetch, waits up to `asyncResponseTimeout` ms, at most 1 s, then answers `[]`.")
def fetch_and_lock(actor):  # type: ignore[no-untyped-def]
    body = _body()
    fetched = external_tasks.fetch_and_lock_waiting(runtime(), actor, body.get("workerId"), body.get("topics"),
                                                    body.get("maxTasks", 1), body.get("asyncResponseTimeout"))
    return jsonify([_locked(f) for f in fetched])


@blueprint.post("/external-task/<task_id>/complete")
@operation("Complete an external task (Camunda)", tags=TAGS, status=204, response_description="completed",
           raw_body={"application/json": {"schema": dto.CamundaCompleteSchema}}, responses=ERRORS)
def external_complete(actor, task_id):  # type: ignore[no-untyped-def]
    body = _body()
    variables = from_typed(body.get("variables"))
    local_variables = from_typed(body.get("localVariables"), "localVariables")
    external_tasks.complete(runtime().unit_of_work(), actor, task_id, body.get("workerId"), variables, local_variables)
    return _no_content()


@blueprint.post("/external-task/<task_id>/failure")
@operation("Report the failure of an external task (Camunda)", tags=TAGS, status=204,
           response_description="recorded", raw_body={"application/json": {"schema": dto.CamundaFailureSchema}},
           responses=ERRORS, description="`retries` 0: an incident (GET /api/v1/incidents).")
def external_failure(actor, task_id):  # type: ignore[no-untyped-def]
    body = _body()
    external_tasks.fail(runtime().unit_of_work(), actor, task_id, body.get("workerId"), body.get("errorMessage"),
                        body.get("errorDetails"), body.get("retries"), body.get("retryTimeout"))
    return _no_content()


@blueprint.post("/external-task/<task_id>/bpmnError")
@operation("Report a BPMN error of an external task (Camunda)", tags=TAGS, status=204,
           response_description="recorded", raw_body={"application/json": {"schema": dto.CamundaBpmnErrorSchema}},
           responses=ERRORS, description="Caught by an error boundary event with the code; uncaught: an incident.")
def external_bpmn_error(actor, task_id):  # type: ignore[no-untyped-def]
    body = _body()
    variables = from_typed(body.get("variables"))
    external_tasks.bpmn_error(runtime().unit_of_work(), actor, task_id, body.get("workerId"), body.get("errorCode"),
                              body.get("errorMessage"), variables)
    return _no_content()


@blueprint.post("/external-task/<task_id>/extendLock")
@operation("Extend the lock of an external task (Camunda)", tags=TAGS, status=204, response_description="extended",
           raw_body={"application/json": {"schema": dto.CamundaExtendLockSchema}}, responses=ERRORS)
def external_extend_lock(actor, task_id):  # type: ignore[no-untyped-def]
    body = _body()
    external_tasks.extend_lock(runtime().unit_of_work(), actor, task_id, body.get("workerId"), body.get("newDuration"))
    return _no_content()


@blueprint.post("/external-task/<task_id>/unlock")
@operation("Unlock an external task (Camunda)", tags=TAGS, status=204, response_description="unlocked",
           responses=ERRORS)
def external_unlock(actor, task_id):  # type: ignore[no-untyped-def]
    external_tasks.unlock(runtime().unit_of_work(), actor, task_id)
    return _no_content()
