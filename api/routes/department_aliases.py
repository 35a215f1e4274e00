"""/department-aliases: foreign candidate-group names mapped to departments (admins change them)."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.designers import AliasBodySchema, AliasChangedSchema, AliasListSchema
from engine.services import department_aliases

blueprint = Blueprint("department_aliases", __name__)
TAGS = ["departments"]


@blueprint.get("/department-aliases")
@operation("Group aliases in force: foreign candidate groups and the departments they stand for", tags=TAGS,
           response=AliasListSchema, forbidden=False)
def list_aliases(actor):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        items = department_aliases.list_aliases(uow)
    return AliasListSchema().dump({"items": items, "total": len(items)})


@blueprint.put("/department-aliases/<name>")
@operation("Map a foreign candidate group to a department (admin)", tags=TAGS, body=AliasBodySchema,
           response=AliasChangedSchema,
           description="A file whose tasks name the group (`camunda:candidateGroups=\"accounting\"`) then deploys "
                       "unmodified and its tasks go to the department (a generic code resolves in the case's region). "
                       "Records a new organisation version. 422: the name is a department code already, or the "
                       "department is unknown (with the closest codes).")
def put_alias(actor, body, name):  # type: ignore[no-untyped-def]
    result = department_aliases.set_alias(runtime().unit_of_work(), actor, name, body["department"])
    return AliasChangedSchema().dump(result)


@blueprint.delete("/department-aliases/<name>")
@operation("Remove a group alias (admin)", tags=TAGS, response=AliasChangedSchema, conflicts=True,
           description="409 while open cases run a version whose tasks name the alias.")
def delete_alias(actor, name):  # type: ignore[no-untyped-def]
    result = department_aliases.remove_alias(runtime().unit_of_work(), actor, name)
    return AliasChangedSchema().dump(result)
