"""Escalations: GET /escalations, POST /escalations/{id}/resolve."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.escalations import (EscalationListSchema, EscalationQuerySchema, EscalationSchema,
                                     ResolveBodySchema)
from engine.services import escalation

blueprint = Blueprint("escalations", __name__)


@blueprint.get("/escalations")
@operation("Escalations of overdue tasks addressed to the caller's body (admins: all)",
           tags=["escalations"], query=EscalationQuerySchema, response=EscalationListSchema)
def list_escalations(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        found = escalation.list_escalations(uow, actor, **query)
        items = [escalation.as_dict(e) for e in found]
    return EscalationListSchema().dump({"items": items, "total": len(items)})


@blueprint.post("/escalations/<int:escalation_id>/resolve")
@operation("Record an escalation as coordinated (the addressed body, or an admin)",
           tags=["escalations"], body=ResolveBodySchema, body_required=False,
           response=EscalationSchema, conflicts=True)
def resolve(actor, body, escalation_id):  # type: ignore[no-untyped-def]
    found = escalation.resolve(runtime().unit_of_work(), actor, escalation_id, body.get("note", ""))
    return EscalationSchema().dump(escalation.as_dict(found))
