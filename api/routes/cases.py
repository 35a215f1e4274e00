"""Cases: start (agent), list, read, history, suspend / resume / cancel, messages to one case."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.cases import (CaseDetailSchema, CasePageSchema, CaseQuerySchema, CaseSchema, CaseStartSchema,
                               HistorySchema, ReasonSchema, StartedCaseSchema)
from api.schemas.common import dump_page
from api.schemas.messages import CaseMessageSchema
from api.schemas.tasks import dump_tasks
from engine.services import cases
from engine.adapters import queries
from engine.domain.states import TaskStatus

blueprint = Blueprint("cases", __name__)
TAGS = ["cases"]
EXISTING_HEADER = "X-Onewindow-Existing"


@blueprint.post("/cases")
@operation("Start a case for a project", tags=TAGS, body=CaseStartSchema, response=StartedCaseSchema, status=201,
           response_description="the new case and its open tasks",
           responses={200: ("an open case of this process for this project already exists: that case, "
                            f"with `created: false` and header `{EXISTING_HEADER}: true`", StartedCaseSchema)},
           response_headers={200: {EXISTING_HEADER: {"description": "`true`: the case existed",
                                                     "schema": {"type": "string", "enum": ["true"]}}}},
           not_found=True, conflicts=True,
           description="Agents (and admins). Idempotent per open (process, business key).")
def start_case(actor, body):  # type: ignore[no-untyped-def]
    started = cases.start(runtime().unit_of_work(), actor, body["process_key"], body["business_key"].strip(),
                          project=body["project"], variables=body["variables"],
                          version=body.get("version"), region=body.get("region"))
    result = {**CaseSchema().dump(started.case), "created": started.created,
              "open_tasks": dump_tasks(started.open_tasks)}
    if started.created:
        return result, 201
    return result, 200, {EXISTING_HEADER: "true"}


@blueprint.get("/cases")
@operation("List cases", tags=TAGS, query=CaseQuerySchema, response=CasePageSchema,
           description="Newest first. Agents see their own cases, staff and leaders cases with a task in "
                       "their department (those of a region's window or government also the cases of their "
                       "region, and lower-region cases with items at their region's bodies), government "
                       "with no department and admins all. `region` includes the regions below.")
def list_cases(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        page = queries.list_cases(uow, actor, **query)
    return dump_page(CaseSchema, page)


@blueprint.get("/cases/<case_id>")
@operation("A case with its variables and tasks", tags=TAGS, response=CaseDetailSchema,
           description="Staff and leaders see only their own department's tasks of the case.")
def get_case(actor, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        case, tasks, variables = queries.case_detail(uow, actor, case_id)
    body = {**CaseSchema().dump(case), "variables": variables,
            "open_tasks": dump_tasks([t for t in tasks if t.state == TaskStatus.READY]),
            "completed_tasks": dump_tasks([t for t in tasks if t.state == TaskStatus.COMPLETED])}
    return body


@blueprint.get("/cases/<case_id>/history")
@operation("A case's history, oldest first", tags=TAGS, response=HistorySchema)
def case_history(actor, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        case = cases.get_case(uow, actor, case_id)
        events = queries.visible_history(uow, actor, case)
    return HistorySchema().dump({"items": events, "total": len(events)})


def _change(verb, actor, case_id, reason):  # type: ignore[no-untyped-def]
    return CaseSchema().dump(verb(runtime().unit_of_work(), actor, case_id, reason))


@blueprint.post("/cases/<case_id>/suspend")
@operation("Suspend a running case (中止)", tags=TAGS, body=ReasonSchema, body_required=False,
           response=CaseSchema, conflicts=True, description="The case's agent or an admin.")
def suspend(actor, body, case_id):  # type: ignore[no-untyped-def]
    return _change(cases.suspend_case, actor, case_id, body["reason"])


@blueprint.post("/cases/<case_id>/resume")
@operation("Resume a suspended case (续办)", tags=TAGS, body=ReasonSchema, body_required=False,
           response=CaseSchema, conflicts=True, description="The case's agent or an admin.")
def resume(actor, body, case_id):  # type: ignore[no-untyped-def]
    return _change(cases.resume_case, actor, case_id, body["reason"])


@blueprint.post("/cases/<case_id>/cancel")
@operation("Cancel an open case (终止)", tags=TAGS, body=ReasonSchema, body_required=False,
           response=CaseSchema, conflicts=True,
           description="The case's agent or an admin. Open tasks are cancelled; the business key is free again.")
def cancel(actor, body, case_id):  # type: ignore[no-untyped-def]
    return _change(cases.cancel_case, actor, case_id, body["reason"])


@blueprint.post("/cases/<case_id>/messages")
@operation("Deliver a BPMN message to a case waiting for it", tags=TAGS + ["messages"], body=CaseMessageSchema,
           response=CaseSchema, conflicts=True,
           description="The case's agent or an admin. 409 when the case is not waiting for that message.")
def message(actor, body, case_id):  # type: ignore[no-untyped-def]
    case = cases.deliver_message(runtime().unit_of_work(), actor, case_id, body["name"], body["payload"])
    return CaseSchema().dump(case)
