"""Project work groups (项目工作群) and their questions (the 24-hour rule)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.domain.projects import ADDRESSEE_STATES, QUESTION_STATES, REMOVAL_REASONS, SLA_STATES, STATES

_CODE = {"description": "the national project code (项目代码) YYYY-DDDDDD-II-TT-NNNNNN",
         "example": "2026-510117-34-01-000001"}


def _bodies(description: str, allow_none: bool = False) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=120)), validate=validate.Length(max=200),
                       allow_none=allow_none, metadata={"description": description})


class ProjectSchema(Schema):
    code = fields.String(required=True, metadata=_CODE)
    name = fields.String(required=True)
    region = fields.String(required=True)
    region_name = fields.String(allow_none=True)
    facts = fields.Dict(required=True)
    enterprise = fields.Dict(required=True)
    contact = fields.Dict(required=True)
    agent = fields.String(allow_none=True)
    state = fields.String(required=True, metadata={"enum": list(STATES)})
    removal_reason = fields.String(allow_none=True, metadata={"enum": list(REMOVAL_REASONS)})
    removal_reason_name = fields.String(allow_none=True)
    removal_note = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)
    updated_at = fields.DateTime(required=True)
    removed_at = fields.DateTime(allow_none=True)
    removed_by = fields.String(allow_none=True)


class ProjectSummarySchema(ProjectSchema):
    member_count = fields.Integer(required=True, metadata={"description": "bodies in the group"})
    open_questions = fields.Integer(required=True, metadata={"description": "answers still owed"})
    overdue = fields.Integer(required=True, metadata={"description": "answers owed past their limit"})
    case_count = fields.Integer(required=True, metadata={"description": "cases of the project"})


class ProjectListSchema(Schema):
    items = fields.List(fields.Nested(ProjectSummarySchema), required=True)
    total = fields.Integer(required=True)


class ProjectQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "projects of this region or one below it (code, division, name)"})
    department = fields.String(validate=validate.Length(min=1, max=120),
                               metadata={"description": "projects whose group has this body"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))


class ProjectCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata=_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "admins only; default the promoter's region"})
    facts = fields.Dict(keys=fields.String(), load_default=dict,
                        metadata={"description": "investment (万元), land_area, location, industry, ..."})
    enterprise = fields.Dict(keys=fields.String(), required=True,
                             metadata={"description": "{name, credit_code (统一社会信用代码)}"})
    contact = fields.Dict(keys=fields.String(), required=True, metadata={"description": "{name, phone}"})
    agent = fields.String(validate=validate.Length(min=1, max=120), allow_none=True,
                          metadata={"description": "the agent (代办员) assigned"})
    members = _bodies("body codes; default (absent or null) every department of the region, not its government "
                      "nor utilities", allow_none=True)


class MembersChangeSchema(Schema):
    add = _bodies("bodies joining the group")
    remove = _bodies("bodies leaving it (not while they owe an answer)")
    agent = fields.String(validate=validate.Length(min=1, max=120), allow_none=True)


class MemberSchema(Schema):
    department = fields.String(required=True)
    name = fields.String(required=True)
    added_at = fields.DateTime(required=True)
    added_by = fields.String(required=True)


class RemoveSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=20),
                           metadata={"description": "completed (办结) | stalled (停滞) | abandoned (企业放弃)",
                                     "enum": [*REMOVAL_REASONS, *REMOVAL_REASONS.values()]})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class RestoreSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AddresseeSchema(Schema):
    question_id = fields.Integer(required=True)
    department = fields.String(required=True)
    department_name = fields.String(allow_none=True)
    state = fields.String(required=True, metadata={"enum": list(ADDRESSEE_STATES)})
    limit_hours = fields.Integer(required=True)
    warn_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)
    sla = fields.String(required=True, metadata={"enum": list(SLA_STATES)})
    level = fields.Integer(required=True, metadata={"description": "coordination level reached (0: none)"})
    level_department = fields.String(allow_none=True)
    level_department_name = fields.String(allow_none=True)
    level_role = fields.String(allow_none=True)
    next_level_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the next coordination level is raised unless answered (null: none, or coordinated)"})
    answer = fields.String(allow_none=True)
    preliminary_opinion = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    on_time = fields.Boolean(allow_none=True)


class QuestionSchema(Schema):
    id = fields.Integer(required=True)
    project_code = fields.String(required=True)
    text = fields.String(required=True)
    asked_by = fields.String(required=True)
    asked_as = fields.String(required=True, metadata={"enum": ["enterprise", "agent", "member", "admin"]})
    asked_at = fields.DateTime(required=True)
    state = fields.String(required=True, metadata={"enum": list(QUESTION_STATES)})
    closed_at = fields.DateTime(allow_none=True)
    closed_reason = fields.String(allow_none=True)
    addressees = fields.List(fields.Nested(AddresseeSchema))


class QuestionListSchema(Schema):
    items = fields.List(fields.Nested(QuestionSchema), required=True)
    total = fields.Integer(required=True)


class InboxItemSchema(AddresseeSchema):
    question = fields.Nested(QuestionSchema, required=True)


class InboxSchema(Schema):
    items = fields.List(fields.Nested(InboxItemSchema), required=True)
    total = fields.Integer(required=True)


class InboxQuerySchema(Schema):
    state = fields.String(load_default="open", validate=validate.OneOf(ADDRESSEE_STATES))


class AskSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    departments = fields.List(fields.String(validate=validate.Length(min=1, max=120)), required=True,
                              validate=validate.Length(min=1, max=50),
                              metadata={"description": "the member bodies addressed"})


class AnswerSchema(Schema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                           metadata={"description": "the concrete answer"})
    preliminary_opinion = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                                        metadata={"description": "初步（拟办）意见"})
    department = fields.String(validate=validate.Length(min=1, max=120),
                               metadata={"description": "admins only: which addressed body answers"})


class CoordinateSchema(Schema):
    department = fields.String(required=True, validate=validate.Length(min=1, max=120),
                               metadata={"description": "the addressed body whose overdue answer was coordinated"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class CorrectionSchema(Schema):
    task_id = fields.String(required=True, metadata={"description": "answer with POST /tasks/{id}/complete"})
    case_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    item = fields.String(allow_none=True)
    requested_by = fields.String(allow_none=True)
    requested_by_name = fields.String(allow_none=True)
    requested_at = fields.DateTime(allow_none=True)
    materials = fields.List(fields.Dict(), required=True)
    opinion = fields.String(allow_none=True)


class ProjectTaskSchema(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True)
    element_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    state = fields.String(required=True)
    sla = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    item = fields.String(allow_none=True)
    form_key = fields.String(allow_none=True)


class ProjectCaseSchema(Schema):
    id = fields.String(required=True)
    process_key = fields.String(required=True)
    name = fields.String(allow_none=True)
    status = fields.String(required=True)
    stage = fields.String(allow_none=True)
    started_by = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    tasks = fields.List(fields.Nested(ProjectTaskSchema), required=True)


class TimelineEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    type = fields.String(required=True)
    actor = fields.String(allow_none=True)
    question_id = fields.Integer(allow_none=True)
    data = fields.Dict(required=True)


class ProjectDetailSchema(ProjectSchema):
    members = fields.List(fields.Nested(MemberSchema), required=True)
    contacts = fields.List(fields.String(), required=True, metadata={"description": "enterprise users"})
    cases = fields.List(fields.Nested(ProjectCaseSchema), required=True)
    corrections = fields.List(fields.Nested(CorrectionSchema), required=True,
                              metadata={"description": "open 补正 requests to the enterprise"})
    questions = fields.List(fields.Nested(QuestionSchema), required=True)
    question_counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    timeline = fields.List(fields.Nested(TimelineEntrySchema), required=True, metadata={"description": "newest first"})


class ProjectCaseStartSchema(Schema):
    process_key = fields.String(load_default="one_window_agency", validate=validate.Length(min=1, max=255))
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class EnterpriseUserSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class EnterpriseTokenSchema(Schema):
    name = fields.String(required=True)
    project_code = fields.String(required=True)
    token = fields.String(required=True, metadata={"description": "shown once; empty when the user existed"})
