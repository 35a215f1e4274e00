"""GET /process-definitions/{key}/diff?from=&to=: what a new version changes, element by element."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.designers import DiffQuerySchema, DiffSchema
from engine.services import definition_diff

blueprint = Blueprint("definition_diff", __name__)


@blueprint.get("/process-definitions/<key>/diff")
@operation("Elements added, removed and changed between two versions", tags=["process-definitions"],
           query=DiffQuerySchema, response=DiffSchema, forbidden=False,
           description="Compared by element id: type, name, candidate groups, assignee, form key, properties, "
                       "conditions, timers, messages and signals, call targets, multi-instance settings. The "
                       "diagram's layout is not compared.")
def diff(actor, query, key):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        result = definition_diff.diff_versions(uow, key, query["from_version"], query["to_version"])
    return DiffSchema().dump(result)
