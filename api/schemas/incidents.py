"""Incidents (failed steps waiting for an operator) and the repairs of a case: retry, variables, move."""
from __future__ import annotations

from datetime import timedelta, timezone

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates

from api.schemas.cases import CaseSchema
from api.schemas.common import PageQuerySchema, page_schema
from api.schemas.tasks import TaskSchema
from engine.services.incidents import KINDS, RESOLUTIONS, STATES

BEIJING = timezone(timedelta(hours=8))


class IncidentSchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.String(required=True)
    process_key = fields.String(required=True)
    business_key = fields.String(required=True)
    kind = fields.String(required=True, metadata={
        "enum": list(KINDS), "description": "`step`: a step of the process failed; `job`: the background "
                                            "worker could not process the case"})
    task_id = fields.String(allow_none=True, metadata={"description": "the failed step's task"})
    element_id = fields.String(allow_none=True, metadata={"description": "the BPMN element that failed"})
    element_name = fields.String(allow_none=True)
    department = fields.String(allow_none=True, metadata={"description": "the department the step names"})
    error_type = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "the newest error"})
    source = fields.String(required=True, metadata={"enum": ["command", "worker"]})
    created_at = fields.DateTime(required=True)
    created_by = fields.String(allow_none=True)
    last_failed_at = fields.DateTime(required=True)
    retries = fields.Integer(required=True, metadata={"description": "how often an operator retried"})
    last_retried_at = fields.DateTime(allow_none=True)
    last_retried_by = fields.String(allow_none=True)
    state = fields.String(required=True, metadata={"enum": list(STATES)})
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True, metadata={"enum": list(RESOLUTIONS)})


IncidentPageSchema = page_schema(IncidentSchema, "IncidentPage")


class IncidentQuerySchema(PageQuerySchema):
    state = fields.String(load_default="open", validate=validate.OneOf([*STATES, "all"]),
                          metadata={"description": "open (default), resolved or all"})
    process_key = fields.String(validate=validate.Length(min=1, max=255))
    element_id = fields.String(validate=validate.Length(min=1, max=255))
    department = fields.String(validate=validate.Length(min=1, max=120))
    case_id = fields.String(validate=validate.Length(min=1, max=36))
    since = fields.AwareDateTime(default_timezone=BEIJING, metadata={
        "description": "incidents created at or after this instant (ISO 8601; no offset: Beijing time)"})

    @validates("since")
    def _in_range(self, value, **_: object) -> None:  # type: ignore[no-untyped-def]
        try:
            value.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise ValidationError("out of range") from None


class RepairedSchema(CaseSchema):
    open_tasks = fields.List(fields.Nested(TaskSchema), required=True)
    incidents = fields.List(fields.Nested(IncidentSchema), required=True, metadata={
        "description": "the case's incidents still open: empty when the repair worked"})


class VariablesPatchSchema(Schema):
    """A JSON merge patch (RFC 7386) of the case's variables: `null` deletes a variable, an object
    merges into an object variable, any other value replaces."""

    class Meta:
        unknown = INCLUDE


class VariablesQuerySchema(Schema):
    task_id = fields.String(validate=validate.Length(min=1, max=36), metadata={
        "description": "change only this task's own variables (e.g. one multi-instance `item`)"})


class VariablesChangedSchema(Schema):
    case_id = fields.String(required=True)
    task_id = fields.String(allow_none=True)
    before = fields.Dict(required=True, metadata={"description": "the changed variables' old values "
                                                                 "(absent: did not exist)"})
    after = fields.Dict(required=True, metadata={"description": "their new values (absent: deleted)"})
    variables = fields.Dict(required=True, metadata={"description": "all the case's variables now"})


class MoveSchema(Schema):
    source = fields.String(required=True, data_key="from", validate=validate.Length(min=1, max=255),
                           metadata={"description": "the element whose token(s) are cancelled"})
    target = fields.String(required=True, data_key="to", validate=validate.Length(min=1, max=255),
                           metadata={"description": "the element where a new token starts"})
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
