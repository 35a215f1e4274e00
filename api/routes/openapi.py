"""GET /openapi.json: the OpenAPI 3 document of this API (no auth)."""
from __future__ import annotations

from flask import Blueprint, current_app

from api.openapi import build_spec
from api.operation import operation

blueprint = Blueprint("openapi", __name__)


@blueprint.get("/openapi.json")
@operation("This OpenAPI 3 document", tags=["health"], auth=False, forbidden=False,
           response_description="the OpenAPI 3.0 document")
def openapi_document():  # type: ignore[no-untyped-def]
    document = current_app.extensions.get("onewindow.openapi")
    if document is None:
        document = current_app.extensions["onewindow.openapi"] = build_spec(current_app)
    return document
