"""Tasks: the work items of department staff and agents."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import PageQuerySchema, fast_dumper, page_schema
from engine.adapters.queries import TASK_STATES
from engine.services.deadlines import SLA_STATES


class TaskSchema(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True)
    element_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    kind = fields.String()
    lane = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    state = fields.String(required=True, metadata={"enum": list(TASK_STATES)})
    form_key = fields.String(allow_none=True)
    item = fields.Dict(allow_none=True, metadata={"description": "the approval item this task decides"})
    created_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True, metadata={"description": "the submitted form data"})
    error = fields.String(allow_none=True)
    time_limit = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    due_provisional = fields.Boolean(metadata={
        "description": "the due date was counted on a year without an official schedule (预计); "
                       "it moves when the year is loaded"})
    sla = fields.String(allow_none=True)
    prefill = fields.Dict(allow_none=True, metadata={
        "description": "what the task's form starts with (e.g. the registration form from the project "
                       "given at start); merged under the submitted data on completion"})


# `TaskSchema().dump(row)`, fast: inboxes and case pages render up to hundreds of task rows.
dump_task = fast_dumper(TaskSchema)


def dump_tasks(rows) -> list[dict]:  # type: ignore[no-untyped-def]
    return [dump_task(row) for row in rows]


class TaskDetailSchema(TaskSchema):
    form = fields.Dict(allow_none=True, metadata={"description": "the JSON Schema of the task's form"})


TaskPageSchema = page_schema(TaskSchema, "TaskPage")


class TaskQuerySchema(PageQuerySchema):
    state = fields.String(load_default="ready", validate=validate.OneOf([*TASK_STATES, "all"]),
                          metadata={"description": "default ready; `all` for every state"})
    department = fields.String(validate=validate.Length(min=1, max=120))
    assignee = fields.String(validate=validate.Length(min=1, max=120),
                             metadata={"description": "a user name, or `me`"})
    case_id = fields.String(validate=validate.Length(min=1, max=36))
    process_key = fields.String(validate=validate.Length(min=1, max=255))
    sla = fields.String(validate=validate.OneOf(SLA_STATES),
                        metadata={"description": "warning state of open tasks: normal, yellow, red (overdue), paused"})
    sort = fields.String(load_default="created", validate=validate.OneOf(["created", "due"]),
                         metadata={"description": "`created` (oldest first, default) or `due` (soonest due first)"})
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "tasks of the cases of this region or a region below it (code, "
                                                    "division code or name, e.g. chengdu, 510100, 成都市)"})


class CompleteSchema(Schema):
    data = fields.Dict(keys=fields.String(), load_default=dict,
                       metadata={"description": "the form's data (validated against the task's form)"})


class CaseStateSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(allow_none=True)


class CompletedTaskSchema(TaskSchema):
    case = fields.Nested(CaseStateSchema, required=True, metadata={"description": "the case after the completion"})
    open_tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={
        "description": "the case's open tasks after the completion, as the actor may see them"})
