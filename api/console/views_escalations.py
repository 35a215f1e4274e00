"""The escalation board (三级协调): open escalations by level with their age, case, item and body;
the addressed body (or an admin) records one as coordinated with a note."""
from __future__ import annotations

from flask import Response, redirect, request, url_for

from api.console.blueprint import blueprint
from api.console.views_work import notice
from api.console.web import actor, page
from api.runtime import runtime
from engine.services import workbench
from engine.errors import Invalid
from engine.services import escalation, question_escalations

MAX_NOTE = 2000


@blueprint.get("/escalations")
def escalations() -> Response:
    who = actor()
    status = request.args.get("status", "open") or None
    if status not in (None, "all", *escalation.STATUSES):
        raise Invalid("unknown status", {"status": ["unknown status"]})
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        rows = escalation.list_escalations(uow, who, status=None if status == "all" else status, limit=500)
        names = workbench.case_names(uow, {e.case_id for e in rows})
        asked = question_escalations.board(uow, who, status=None if status == "all" else status)
    levels: dict[int, list] = {}
    for row in sorted(rows, key=lambda e: (e.level, e.raised_at)):
        levels.setdefault(row.level, []).append(row)
    return page("escalations.html", levels=sorted(levels.items()), names=names, current=status or "all",
                statuses=escalation.STATUSES, now=rt.clock(), notice=notice(), total=len(rows),
                questions=asked)


@blueprint.post("/escalations/<int:escalation_id>/resolve")
def resolve_escalation(escalation_id: int) -> Response:
    note = request.form.get("note", "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid("note is too long", {"note": [f"must have at most {MAX_NOTE} characters"]})
    escalation.resolve(runtime().unit_of_work(), actor(), escalation_id, note)
    return redirect(url_for("console.escalations", done="resolved"), code=303)
