"""What the public may see of a project's progress (公开监督): no variables, no personal data."""
from __future__ import annotations

from marshmallow import Schema, fields

from engine.services.progress import CASE_STATES, ITEM_STATES, STEP_STATES


class PublicDepartmentSchema(Schema):
    code = fields.String(allow_none=True)
    name_zh = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class PublicItemSchema(Schema):
    kind = fields.String(required=True, metadata={
        "enum": ["item", "step"],
        "description": "`item`: an approval item (one row however many steps it took); `step`: a "
                       "department's step that is not an approval item (the window's intake)"})
    code = fields.String(allow_none=True, metadata={"description": "the item's code in the case"})
    name = fields.String(allow_none=True)
    department = fields.Nested(PublicDepartmentSchema, required=True)
    stage = fields.String(allow_none=True)
    track = fields.String(allow_none=True, metadata={"description": "main, eia or auxiliary (分期报建)"})
    batch = fields.Integer(allow_none=True, metadata={"description": "the auxiliary batch it came in"})
    state = fields.String(required=True, metadata={
        "enum": list(ITEM_STATES + STEP_STATES),
        "description": "items: pending 待受理, review 审查中, correction 补正中 (clock stopped), "
                       "approved 已批准, refused 不予许可, withdrawn 已撤回; steps: in_progress, completed, "
                       "cancelled"})
    state_name = fields.String(required=True)
    clock_stopped = fields.Boolean(required=True)
    time_limit = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True, metadata={"description": "the body's current (or last) due date"})
    due_provisional = fields.Boolean(required=True, metadata={
        "description": "the due date falls in a year without the official calendar yet (预计)"})
    days_used = fields.Float(allow_none=True, metadata={
        "description": "days the body has held the item, 补正 not counted (working days unless the limit "
                       "is in natural days)"})
    overdue = fields.Boolean(required=True, metadata={
        "description": "open past its due date, or decided after it"})
    deemed_consent = fields.Boolean(required=True, metadata={
        "description": "decided by deemed consent (视为同意): the body was silent past its limit"})
    refusals = fields.Integer(required=True, metadata={"description": "times refused (or not accepted)"})
    started_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)


class PublicQuestionCountsSchema(Schema):
    asked = fields.Integer(required=True, metadata={"description": "questions the enterprise or its agent asked"})
    answers = fields.Integer(required=True, metadata={"description": "answers owed in all (one per addressed body)"})
    answered = fields.Integer(required=True)
    answered_on_time = fields.Integer(required=True, metadata={"description": "within the region's limit (24 h)"})
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={"description": "still open past the limit"})


class PublicProjectSchema(Schema):
    business_key = fields.String(required=True)
    name = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={
        "enum": ["running", "suspended", "completed", "cancelled", "error"],
        "description": "the case's status; `error`: a step failed and waits for the centre to repair it "
                       "(处理异常)"})
    status_name = fields.String(required=True, metadata={"description": "the case as the page shows it: "
                                                                         "办理中, 已暂停, 处理异常, 已办结, 已终止"})
    state = fields.String(required=True, metadata={
        "enum": list(CASE_STATES),
        "description": "running 办理中, suspended 已暂停, error 处理异常, completed 已办结, terminated 已终止 "
                       "(also a case closed as terminated by the enterprise or the centre)"})
    state_name = fields.String(required=True)
    stage = fields.String(allow_none=True)
    stage_name = fields.String(allow_none=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    overdue_items = fields.Integer(required=True)
    fees = fields.String(required=True, metadata={
        "enum": ["none", "due", "settled"],
        "description": "one-window fees (一窗缴费): none set, some due (待缴), or all settled (已结清); "
                       "no amounts or bodies are published"})
    items = fields.List(fields.Nested(PublicItemSchema), required=True)
    questions = fields.Nested(PublicQuestionCountsSchema, allow_none=True, metadata={
        "description": "the project work group's questions as counts only (null: no work group)"})
