"""Incidents and repairs: GET /incidents, POST /cases/{id}/retry, PATCH /cases/{id}/variables,
POST /cases/{id}/move."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.cases import CaseSchema, ReasonSchema
from api.schemas.common import dump_page
from api.schemas.incidents import (IncidentPageSchema, IncidentQuerySchema, IncidentSchema, MoveSchema,
                                   RepairedSchema, VariablesChangedSchema, VariablesPatchSchema,
                                   VariablesQuerySchema)
from api.schemas.tasks import dump_tasks
from engine.services import incidents
from engine.services import repair

blueprint = Blueprint("incidents", __name__)
TAGS = ["incidents"]


@blueprint.get("/incidents")
@operation("List incidents: failed steps waiting for an operator", tags=TAGS, query=IncidentQuerySchema,
           response=IncidentPageSchema,
           description="Newest first; open ones unless `state` says otherwise. Admins and government see all, "
                       "agents those of their own cases, staff and leaders those at their department's steps.")
def list_incidents(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        page = incidents.list_incidents(uow, actor, **query)
    return dump_page(IncidentSchema, page)


def _repaired(result: repair.Repaired) -> dict:
    return {**CaseSchema().dump(result.case), "open_tasks": dump_tasks(result.open_tasks),
            "incidents": IncidentSchema(many=True).dump(result.incidents)}


@blueprint.post("/cases/<case_id>/retry")
@operation("Retry a case's failed steps after their cause was fixed", tags=TAGS + ["cases"], body=ReasonSchema,
           body_required=False, response=RepairedSchema, conflicts=True,
           description="The case's agent or an admin. Re-runs every step with an open incident (and what the "
                       "worker would run now). A step that fails again keeps its incident open with `retries` "
                       "one higher: the response lists the incidents still open (empty: repaired). 409 when "
                       "the case has no open incident or is not running.")
def retry(actor, body, case_id):  # type: ignore[no-untyped-def]
    return _repaired(repair.retry_case(runtime().unit_of_work(), actor, case_id, body["reason"]))


@blueprint.patch("/cases/<case_id>/variables")
@operation("Change a case's variables (JSON merge patch)", tags=TAGS + ["cases"], body=VariablesPatchSchema,
           query=VariablesQuerySchema, response=VariablesChangedSchema, conflicts=True,
           description="Admins. The body is a JSON merge patch (RFC 7386; `application/json` or "
                       "`application/merge-patch+json`): `null` deletes a variable, an object merges into an "
                       "object. The history records the values before and after and who changed them. Nothing "
                       "runs: retry the case to re-run a failed step with the new values. `task_id`: change "
                       "only that active task's own variables (a multi-instance `item`).")
def patch_variables(actor, body, query, case_id):  # type: ignore[no-untyped-def]
    case, before, after, variables = repair.change_variables(runtime().unit_of_work(), actor, case_id, body,
                                                             task_id=query.get("task_id"))
    return {"case_id": case.id, "task_id": query.get("task_id"), "before": before, "after": after,
            "variables": variables}


@blueprint.post("/cases/<case_id>/move")
@operation("Move a case's token from one element to another", tags=TAGS + ["cases"], body=MoveSchema,
           response=RepairedSchema, conflicts=True,
           description="Admins. Cancels the token(s) at element `from` (a task ready, waiting, running or failed) "
                       "and starts one at element `to` of the same (sub)process, which runs to its next wait. "
                       "Audited in the history. 422 names an unknown element, 409 an element without a token.")
def move(actor, body, case_id):  # type: ignore[no-untyped-def]
    return _repaired(repair.move_token(runtime().unit_of_work(), actor, case_id, body["source"], body["target"],
                                       body["reason"]))
