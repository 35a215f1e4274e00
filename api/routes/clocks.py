"""Task clocks of a case: POST /cases/{id}/clock/stop and /clock/start."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.clocks import ClockStartBodySchema, ClockStopBodySchema, TaskClockListSchema
from engine.services import deadlines

blueprint = Blueprint("clocks", __name__)


def _clocks(rows):  # type: ignore[no-untyped-def]
    return TaskClockListSchema().dump({"items": [
        {"task_id": r.id, "due_at": r.due_at, "due_provisional": r.due_provisional, "sla": r.sla,
         "clock_stopped_at": r.clock_stopped_at}
        for r in rows]})


@blueprint.post("/cases/<case_id>/clock/stop")
@operation("Stop the clock of the case's timed tasks (补正, special procedure)", tags=["clocks"],
           body=ClockStopBodySchema, body_required=False, response=TaskClockListSchema, conflicts=True)
def stop_clock(actor, body, case_id):  # type: ignore[no-untyped-def]
    return _clocks(deadlines.stop_clock(runtime().unit_of_work(), actor, case_id, body["kind"], body["reason"],
                                        body["task_ids"]))


@blueprint.post("/cases/<case_id>/clock/start")
@operation("Start stopped clocks again: resume with the time left or restart (per item rule)",
           tags=["clocks"], body=ClockStartBodySchema, body_required=False,
           response=TaskClockListSchema, conflicts=True)
def start_clock(actor, body, case_id):  # type: ignore[no-untyped-def]
    return _clocks(deadlines.start_clock(runtime().unit_of_work(), actor, case_id, body["reason"], body["mode"],
                                         body["task_ids"]))
