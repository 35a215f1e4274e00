"""POST /messages: deliver a message to the open case of a project, correlated by business key."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.cases import CaseSchema
from api.schemas.messages import CorrelatedMessageSchema
from engine.services import cases

blueprint = Blueprint("messages", __name__)


@blueprint.post("/messages")
@operation("Deliver a message to the project's case that waits for it", tags=["messages"],
           body=CorrelatedMessageSchema, response=CaseSchema, conflicts=True, not_found=True,
           description="The case's agent or an admin. 404 when the project has no running case, "
                       "409 when none of its cases waits for the message.")
def correlate(actor, body):  # type: ignore[no-untyped-def]
    case = cases.correlate_message(runtime().unit_of_work(), actor, body["business_key"], body["name"], body["payload"])
    return CaseSchema().dump(case)
