"""GET /public/projects/{business_key}: a project's progress for the public, without logging in."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.public import PublicProjectSchema
from engine import queries

blueprint = Blueprint("public", __name__)
STATES = {"ready": "in_progress", "completed": "completed", "cancelled": "cancelled"}


def _item_name(task) -> str | None:  # type: ignore[no-untyped-def]
    item = task.item if isinstance(task.item, dict) else {}
    name = item.get("name") or item.get("item_name")
    return name if isinstance(name, str) else task.name


def _stage(task, stages) -> str | None:  # type: ignore[no-untyped-def]
    """An approval item names its own stage; otherwise the element's literal `stage` property."""
    item = task.item if isinstance(task.item, dict) else {}
    if isinstance(item.get("stage"), str):
        return item["stage"]
    stage = stages.get(task.element_id)
    return None if stage is None or stage.startswith("${") else stage


@blueprint.get("/public/projects/<business_key>")
@operation("A project's public progress (公开监督)", tags=["public"], auth=False, forbidden=False,
           response=PublicProjectSchema,
           description="No authentication. Project name, status, current stage and each approval item with "
                       "its department, state and dates; never variables, personal data or opinions.")
def project(business_key):  # type: ignore[no-untyped-def]
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        case, tasks, stages = queries.public_project(uow, business_key)
    organisation = rt.organisation
    items = []
    for task in tasks:
        department = organisation.get(task.department) if task.department in organisation else None
        items.append({
            "name": _item_name(task),
            "department": {"code": task.department,
                           "name_zh": department.name_zh if department else None,
                           "name_en": department.name_en if department else None},
            "state": STATES[task.state], "stage": _stage(task, stages), "started_at": task.created_at,
            "completed_at": task.completed_at, "due_at": task.due_at,
        })
    return PublicProjectSchema().dump({
        "business_key": case.business_key, "name": case.name, "status": case.status, "stage": case.stage,
        "started_at": case.started_at, "ended_at": case.ended_at, "items": items})
