"""Process definitions: upload BPMN (designer), list, read versions."""
from __future__ import annotations

from flask import Blueprint, request

from api.errors import UnsupportedMediaType
from api.operation import operation
from api.runtime import runtime
from api.schemas.definitions import (DefinitionDetailSchema, DefinitionListSchema, DefinitionSchema,
                                     DefinitionVersionSchema, DeployQuerySchema, DeployResultSchema,
                                     VersionQuerySchema)
from engine.services import definitions
from engine.adapters import queries
from engine.errors import Invalid, NotFound

blueprint = Blueprint("definitions", __name__)
TAGS = ["process-definitions"]
XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml")
MAX_INT = 2**31 - 1


def _uploads(filename: str) -> list[tuple[bytes, str]]:
    """The BPMN files of the request: a raw XML body, or every file part of a multipart body."""
    if request.mimetype in XML_TYPES:
        return [(request.get_data(), filename)]
    if request.mimetype == "multipart/form-data":
        files = [f for name in request.files for f in request.files.getlist(name)]
        if not files:
            raise Invalid("a multipart upload needs at least one `file` part", errors={"file": ["required"]})
        uploads = [(f.read(), f.filename or f"upload-{i + 1}.bpmn") for i, f in enumerate(files)]
        empty = [name for data, name in uploads if not data]
        if empty:
            raise Invalid(f"the file {empty[0]!r} is empty", errors={"file": [f"{n}: empty" for n in empty]})
        return uploads
    raise UnsupportedMediaType("upload BPMN as application/xml or as multipart/form-data with `file` parts")


@blueprint.post("/process-definitions")
@operation("Deploy BPMN files", tags=TAGS, query=DeployQuerySchema, response=DeployResultSchema, status=201,
           response_description="a new version of each changed process",
           responses={200: ("identical files were deployed before (the existing versions), or a dry run "
                            "(what would be deployed)", DeployResultSchema)},
           raw_body={
               "application/xml": {"schema": {"type": "string"}},
               "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                   "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
           }, conflicts=True,
           description="Designers and admins. One file as the raw body, or several as multipart `file` parts: "
                       "several files are one deployment, all or none, in any order (a call activity may "
                       "call a process of another file). A file holding several processes deploys each; "
                       "errors (422) list every problem of every file: `errors.file` = "
                       "[`name.bpmn:42: userTask Review: ...`]. `warnings` lists what deploys but deserves a "
                       "look (a formKey that names no deployed form). `?dry_run=true` runs every check and "
                       "answers what would be deployed, storing nothing. DMN files (`.dmn`, DMN 1.1-1.3) in the "
                       "same upload hold the decision tables of business rule tasks (`camunda:decisionRef`); "
                       "a DMN file alone is a 422.")
def deploy(actor, query):  # type: ignore[no-untyped-def]
    uploads = _uploads(query["filename"])
    if len(uploads) == 1 and not uploads[0][0]:
        raise Invalid("the BPMN file is empty", errors={"file": ["empty"]})
    dry_run = query["dry_run"]
    # a dry run runs every check and never commits: nothing is stored
    result = definitions.deploy_uploads(runtime().unit_of_work(), actor, uploads, dry_run=dry_run)
    items = [{**DefinitionSchema().dump(d), "created": result.is_new(d), "file_name": result.files.get(d.key)}
             for d in result.definitions]
    body = {**items[0], "created": result.created, "dry_run": dry_run, "definitions": items,
            "warnings": result.warnings}
    return body, 201 if result.created and not dry_run else 200


@blueprint.get("/process-definitions")
@operation("List deployed processes (latest version of each)", tags=TAGS, response=DefinitionListSchema,
           forbidden=False)
def list_definitions(actor):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        rows = definitions.list_definitions(uow)
    return DefinitionListSchema().dump({"items": rows, "total": len(rows)})


@blueprint.get("/process-definitions/<key>")
@operation("A process's latest version, with all its versions", tags=TAGS, response=DefinitionDetailSchema,
           forbidden=False)
def get_definition(actor, key):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        detail = definitions.definition_detail(uow, key)
    return DefinitionDetailSchema().dump(detail)


@blueprint.get("/process-definitions/<key>/versions/<int:n>")
@operation("One version of a process (its BPMN with ?include=xml)", tags=TAGS, query=VersionQuerySchema,
           response=DefinitionVersionSchema, forbidden=False)
def get_version(actor, query, key, n):  # type: ignore[no-untyped-def]
    if not 1 <= n <= MAX_INT:
        raise NotFound(f"process definition {key!r} version {n} is not deployed")
    with runtime().unit_of_work(write=False) as uow:
        found = definitions.find_definition(uow, key, n)
        body = DefinitionSchema().dump(found)
        deployment = queries.deployment_of(uow, found)
        body["file_name"] = deployment.file_name
        if query.get("include") == "xml":
            body["xml"] = deployment.bpmn_xml
    return body
