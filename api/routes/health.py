"""GET /health: is the server up, which database, which definitions are deployed."""
from __future__ import annotations

from flask import Blueprint

import engine
from api.operation import operation
from api.runtime import runtime
from api.schemas.health import HealthSchema
from engine.services.definitions import list_definitions

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
@operation("Is the server up: database kind, version, deployed definitions", tags=["health"], auth=False,
           forbidden=False, response=HealthSchema)
def health():  # type: ignore[no-untyped-def]
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        definitions = [{"key": d.key, "version": d.version, "name": d.name}
                       for d in list_definitions(uow)]
    return HealthSchema().dump({"status": "ok", "version": engine.__version__, "database": rt.database.kind,
                                "definitions": definitions})
