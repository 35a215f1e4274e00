"""GET /departments: the government bodies of the organisation file."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.departments import DepartmentListSchema, DepartmentQuerySchema

blueprint = Blueprint("departments", __name__)


@blueprint.get("/departments")
@operation("List government bodies, top level first", tags=["departments"], query=DepartmentQuerySchema,
           response=DepartmentListSchema, forbidden=False)
def list_departments(actor, query):  # type: ignore[no-untyped-def]
    found = runtime().organisation.list(level=query.get("level"), region=query.get("region"))
    return DepartmentListSchema().dump({"items": found, "total": len(found)})
