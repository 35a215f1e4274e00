"""GET /regions (the organisation tree); GET and PUT /organisation (its versions, a reload)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request

from api.errors import UnsupportedMediaType
from api.operation import operation
from api.runtime import runtime
from api.schemas.regions import (OrganisationLoadedSchema, OrganisationLoadQuerySchema, OrganisationSchema,
                                 RegionQuerySchema, RegionTreeSchema)
from engine.domain import access
from engine.adapters import organisation_versions as versions
from engine.services import reference_data
from engine.errors import Invalid

blueprint = Blueprint("regions", __name__)
TAGS = ["regions"]


@blueprint.get("/regions")
@operation("The regions (province → cities → counties), each with its window, government and bodies",
           tags=TAGS, query=RegionQuerySchema, response=RegionTreeSchema, forbidden=False,
           description="A case belongs to the region whose window accepted it; `?region=` on /cases, /tasks "
                       "and /escalations includes the regions below.")
def list_regions(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        organisation = uow.organisation
        tree = organisation.tree(query.get("region"))
    return RegionTreeSchema().dump({"version": organisation.version, "default_region": organisation.default_region,
                                    "items": tree})


@blueprint.get("/organisation")
@operation("The organisation version in force and every recorded version", tags=TAGS,
           response=OrganisationSchema, forbidden=False)
def get_organisation(actor):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        body = {**versions.in_force(uow), "versions": versions.versions(uow)}
    return OrganisationSchema().dump(body)


@blueprint.put("/organisation")
@operation("Load a new version of the organisation file (admin)", tags=TAGS, query=OrganisationLoadQuerySchema,
           response=OrganisationLoadedSchema, raw_body={"application/json": {"schema": {"type": "object"}}},
           responses={201: ("a new version was recorded; every process uses it from its next command",
                            OrganisationLoadedSchema)},
           conflicts=True,
           description="The body is the whole file. 422 lists every problem with its line "
                       "(`errors` = {`organisation.json:42`: [`regions[3].parent: unknown region 'x'`]}); 409 when "
                       "it removes a body or region that open tasks, users, open escalations or open cases "
                       "still use. Identical to the version in force: 200, `unchanged`. `?dry_run=true` checks only.")
def put_organisation(actor, query):  # type: ignore[no-untyped-def]
    access.require_role(actor, "admin")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(f"the body must be application/json, not {request.mimetype or 'none'}")
    data = request.get_data(cache=True)
    if not data:
        raise Invalid("the organisation document is empty", errors={"file": ["empty"]})
    source = Path(query["filename"]).name or "organisation.json"
    if query["dry_run"]:
        with runtime().unit_of_work(write=False) as uow:  # a dry run stores nothing
            result = {**versions.check(uow, data, source), "loaded_at": None, "loaded_by": None}
    else:
        result = reference_data.load_organisation(runtime().unit_of_work(), data, source, actor.name)
    created = not result["unchanged"] and not query["dry_run"]
    return OrganisationLoadedSchema().dump({**result, "dry_run": query["dry_run"]}), 201 if created else 200
