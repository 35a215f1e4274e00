"""Camunda 7 REST shapes for `/engine-rest` (api/routes/engine_rest.py), for the OpenAPI document.

Requests are parsed by the routes themselves (Camunda clients send many fields we accept and
ignore); these schemas describe what is read and what is answered.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

_TYPED = {"description": 'typed variables, e.g. {"amount": {"value": 5, "type": "Integer"}}'}


class CamundaErrorSchema(Schema):
    type = fields.String(required=True, metadata={"example": "InvalidRequestException"})
    message = fields.String(required=True)


class VersionSchema(Schema):
    version = fields.String(required=True, metadata={"example": "7.21.0"})


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class CamundaTopicSchema(_Lenient):
    topicName = fields.String(required=True)
    lockDuration = fields.Integer(required=True)
    variables = fields.List(fields.String(), allow_none=True)


class CamundaFetchSchema(_Lenient):
    workerId = fields.String(required=True)
    maxTasks = fields.Integer()
    topics = fields.List(fields.Nested(CamundaTopicSchema), required=True)
    asyncResponseTimeout = fields.Integer(allow_none=True, metadata={
        "description": "ms to wait for work when there is none, at most 1000"})
    usePriority = fields.Boolean(allow_none=True)


class CamundaCompleteSchema(_Lenient):
    workerId = fields.String(required=True)
    variables = fields.Dict(allow_none=True, metadata=_TYPED)
    localVariables = fields.Dict(allow_none=True, metadata=_TYPED)


class CamundaFailureSchema(_Lenient):
    workerId = fields.String(required=True)
    errorMessage = fields.String(allow_none=True)
    errorDetails = fields.String(allow_none=True)
    retries = fields.Integer(required=True)
    retryTimeout = fields.Integer(allow_none=True)


class CamundaBpmnErrorSchema(_Lenient):
    workerId = fields.String(required=True)
    errorCode = fields.String(required=True)
    errorMessage = fields.String(allow_none=True)
    variables = fields.Dict(allow_none=True, metadata=_TYPED)


class CamundaExtendLockSchema(_Lenient):
    workerId = fields.String(required=True)
    newDuration = fields.Integer(required=True)


class CamundaStartSchema(_Lenient):
    businessKey = fields.String(allow_none=True, metadata={
        "description": "the project code; a generated one when omitted (unless the process sets a format)"})
    variables = fields.Dict(allow_none=True, metadata=_TYPED)


class CamundaTaskCompleteSchema(_Lenient):
    variables = fields.Dict(allow_none=True, metadata=_TYPED)


class LockedExternalTaskDtoSchema(Schema):
    id = fields.String(required=True)
    topicName = fields.String(required=True)
    workerId = fields.String(required=True)
    lockExpirationTime = fields.String(required=True)
    retries = fields.Integer(allow_none=True)
    errorMessage = fields.String(allow_none=True)
    errorDetails = fields.String(allow_none=True)
    activityId = fields.String(required=True)
    activityInstanceId = fields.String(required=True)
    executionId = fields.String(required=True)
    processInstanceId = fields.String(required=True)
    processDefinitionId = fields.String(required=True)
    processDefinitionKey = fields.String(required=True)
    processDefinitionVersionTag = fields.String(allow_none=True)
    businessKey = fields.String(allow_none=True)
    tenantId = fields.String(allow_none=True)
    priority = fields.Integer(required=True)
    createTime = fields.String(required=True)
    extensionProperties = fields.Dict(required=True)
    variables = fields.Dict(required=True, metadata=_TYPED)


class ProcessInstanceDtoSchema(Schema):
    id = fields.String(required=True)
    definitionId = fields.String(required=True)
    definitionKey = fields.String(required=True)
    businessKey = fields.String(allow_none=True)
    caseInstanceId = fields.String(allow_none=True)
    ended = fields.Boolean(required=True)
    suspended = fields.Boolean(required=True)
    tenantId = fields.String(allow_none=True)
    links = fields.List(fields.Dict(), required=True)


class TaskDtoSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    owner = fields.String(allow_none=True)
    created = fields.String(required=True)
    due = fields.String(allow_none=True)
    followUp = fields.String(allow_none=True)
    delegationState = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    executionId = fields.String(required=True)
    parentTaskId = fields.String(allow_none=True)
    priority = fields.Integer(required=True)
    processDefinitionId = fields.String(required=True)
    processInstanceId = fields.String(required=True)
    taskDefinitionKey = fields.String(required=True)
    caseExecutionId = fields.String(allow_none=True)
    caseInstanceId = fields.String(allow_none=True)
    caseDefinitionId = fields.String(allow_none=True)
    suspended = fields.Boolean(required=True)
    formKey = fields.String(allow_none=True)
    tenantId = fields.String(allow_none=True)
    candidateGroup = fields.String(allow_none=True, metadata={"description": "onewindow: the task's department"})


class TaskQuerySchema(_Lenient):
    processInstanceId = fields.String()
    processInstanceBusinessKey = fields.String()
    taskDefinitionKey = fields.String()
    assignee = fields.String()
    candidateGroup = fields.String()
    firstResult = fields.Integer(load_default=0)
    maxResults = fields.Integer(load_default=50)


class DeploymentDtoSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    deploymentTime = fields.String(required=True)
    tenantId = fields.String(allow_none=True)
    links = fields.List(fields.Dict(), required=True)
    deployedProcessDefinitions = fields.Dict(allow_none=True)
    deployedCaseDefinitions = fields.Dict(allow_none=True)
    deployedDecisionDefinitions = fields.Dict(allow_none=True)
    deployedDecisionRequirementsDefinitions = fields.Dict(allow_none=True)
