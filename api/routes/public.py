"""GET /public/projects/{business_key}: a project's progress for the public, without logging in."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.public import PublicProjectSchema
from engine.services import progress

blueprint = Blueprint("public", __name__)


@blueprint.get("/public/projects/<business_key>")
@operation("A project's public progress (公开监督)", tags=["public"], auth=False, forbidden=False,
           response=PublicProjectSchema,
           description="No authentication. Project name, status, current stage and each approval item with "
                       "its department, state and dates; never variables, personal data or opinions. "
                       "The same as a page for people: `/progress/{business_key}`.")
def project(business_key):  # type: ignore[no-untyped-def]
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        view = progress.public_progress(uow, rt.organisation, business_key)
    return PublicProjectSchema().dump(view)
