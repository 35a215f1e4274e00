"""External tasks (`camunda:type="external"`): requests of workers and the tasks they get.

The field names are Camunda 7's (`workerId`, `topicName`, `lockDuration`, ...), so a worker
written for Camunda reads them unchanged; variables here are plain JSON values (the Camunda
compatible `/engine-rest` takes and gives typed values, `api/camunda_variables.py`). Ranges
are checked by the engine (`engine/domain/external_tasks.py`), which names the field.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from engine.domain import external_tasks as rules

_VARIABLES = {"description": "variables by name, plain JSON values"}


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE  # Camunda clients send more (usePriority, sorting, deserializeValues...)


class ExternalTopicSchema(_Lenient):
    topicName = fields.String(required=True, validate=validate.Length(min=1, max=rules.MAX_TOPIC))
    lockDuration = fields.Integer(required=True, strict=True, metadata={
        "description": f"milliseconds the task is locked for this worker (1 to {rules.MAX_LOCK_MS})"})
    variables = fields.List(fields.String(), allow_none=True, metadata={
        "description": "the variables to return; omitted or null: all"})


class ExternalFetchAndLockSchema(_Lenient):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=rules.MAX_WORKER_ID))
    maxTasks = fields.Integer(load_default=1, strict=True, metadata={
        "description": f"at most this many tasks (0 to {rules.MAX_TASKS})"})
    topics = fields.List(fields.Nested(ExternalTopicSchema), required=True)
    asyncResponseTimeout = fields.Integer(allow_none=True, metadata={
        "description": "ms to wait for work when there is none (long polling), at most 1000; default 0"})
    usePriority = fields.Boolean(allow_none=True, metadata={
        "description": "accepted; tasks always come highest camunda:taskPriority first, then oldest"})


class ExternalWorkerSchema(_Lenient):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=rules.MAX_WORKER_ID))


class ExternalCompleteSchema(ExternalWorkerSchema):
    variables = fields.Dict(keys=fields.String(), allow_none=True, metadata=_VARIABLES)
    localVariables = fields.Dict(keys=fields.String(), allow_none=True, metadata={
        "description": "kept in the case's history only (the task's own scope ends with it)"})


class ExternalFailureSchema(ExternalWorkerSchema):
    errorMessage = fields.String(allow_none=True)
    errorDetails = fields.String(allow_none=True, metadata={"description": "e.g. a stack trace"})
    retries = fields.Integer(required=True, strict=True, metadata={
        "description": "retries left; 0 opens an incident (GET /incidents) until an operator retries the case"})
    retryTimeout = fields.Integer(load_default=0, strict=True, metadata={
        "description": "milliseconds before the task can be fetched again"})


class ExternalBpmnErrorSchema(ExternalWorkerSchema):
    errorCode = fields.String(required=True, validate=validate.Length(min=1, max=255), metadata={
        "description": "caught by an error boundary event with this code (or one without a code); "
                       "uncaught: an incident"})
    errorMessage = fields.String(allow_none=True)
    variables = fields.Dict(keys=fields.String(), allow_none=True, metadata=_VARIABLES)


class ExternalExtendLockSchema(ExternalWorkerSchema):
    newDuration = fields.Integer(required=True, strict=True, metadata={
        "description": "milliseconds from now the lock ends"})


class ExternalTaskSchema(Schema):
    id = fields.String(required=True)
    topicName = fields.String(required=True, attribute="topic")
    workerId = fields.String(allow_none=True, attribute="worker")
    lockExpirationTime = fields.DateTime(allow_none=True, attribute="lock_expires_at")
    retries = fields.Integer(allow_none=True, metadata={
        "description": "null until a failure is reported; 0: an incident is open"})
    errorMessage = fields.String(allow_none=True, attribute="error_message")
    errorDetails = fields.String(allow_none=True, attribute="error_details")
    priority = fields.Integer(required=True)
    activityId = fields.String(required=True, attribute="element_id")
    activityName = fields.String(allow_none=True, attribute="element_name")
    processInstanceId = fields.String(required=True, attribute="case_id", metadata={"description": "the case"})
    processDefinitionKey = fields.String(required=True, attribute="process_key")
    businessKey = fields.String(required=True, attribute="business_key")
    createTime = fields.DateTime(required=True, attribute="created_at")


class LockedExternalTaskSchema(ExternalTaskSchema):
    variables = fields.Dict(keys=fields.String(), required=True, metadata=_VARIABLES)


class ExternalTaskQuerySchema(Schema):
    topicName = fields.String(validate=validate.Length(min=1, max=rules.MAX_TOPIC))
    workerId = fields.String(validate=validate.Length(min=1, max=rules.MAX_WORKER_ID))
    processInstanceId = fields.String(validate=validate.Length(min=1, max=36))
    locked = fields.Boolean()
    firstResult = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))
    maxResults = fields.Integer(load_default=200, validate=validate.Range(min=1, max=200))
