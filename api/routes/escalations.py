"""Escalations (GET /escalations, POST /escalations/{id}/resolve) and case clock stops."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.escalations import (ClockStartBodySchema, ClockStopBodySchema, EscalationListSchema,
                                     EscalationQuerySchema, EscalationSchema, ResolveBodySchema,
                                     TaskClockListSchema)
from engine.time import deadlines, escalation

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
    with runtime().unit_of_work() as uow:
        found = escalation.resolve(uow, actor, escalation_id, body.get("note", ""))
        uow.commit()
        return EscalationSchema().dump(escalation.as_dict(found))


def _clocks(rows):  # type: ignore[no-untyped-def]
    return TaskClockListSchema().dump({"items": [
        {"task_id": r.id, "due_at": r.due_at, "sla": r.sla, "clock_stopped_at": r.clock_stopped_at}
        for r in rows]})


@blueprint.post("/cases/<case_id>/clock/stop")
@operation("Stop the clock of the case's timed tasks (补正, special procedure)", tags=["escalations"],
           body=ClockStopBodySchema, body_required=False, response=TaskClockListSchema, conflicts=True)
def stop_clock(actor, body, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work() as uow:
        rows = deadlines.stop_clock(uow, actor, case_id, body["kind"], body["reason"], body["task_ids"])
        uow.commit()
        return _clocks(rows)


@blueprint.post("/cases/<case_id>/clock/start")
@operation("Start stopped clocks again: resume with the time left or restart (per item rule)",
           tags=["escalations"], body=ClockStartBodySchema, body_required=False,
           response=TaskClockListSchema, conflicts=True)
def start_clock(actor, body, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work() as uow:
        rows = deadlines.start_clock(uow, actor, case_id, body["reason"], body["mode"], body["task_ids"])
        uow.commit()
        return _clocks(rows)
