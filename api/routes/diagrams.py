"""Process diagrams as SVG drawn from the BPMN file's layout (BPMN DI): a case's, coloured by the
state of each element in it, and a deployed version's."""
from __future__ import annotations

from flask import Blueprint, Response
from marshmallow import Schema, fields, validate

from api.operation import operation
from api.runtime import runtime
from engine.services import diagram

blueprint = Blueprint("diagrams", __name__)
SVG = {"image/svg+xml": {"schema": {"type": "string"}}}
MAX_INT = 2**31 - 1


class DiagramQuerySchema(Schema):
    version = fields.Integer(validate=validate.Range(1, MAX_INT),
                             metadata={"description": "a deployed version (default: the latest)"})


def _svg(body: str) -> Response:
    response = Response(body, mimetype="image/svg+xml")
    # An SVG opened on its own is a document: no scripts, no outside requests.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/cases/<case_id>/diagram.svg")
@operation("A case's diagram (SVG), each element coloured by its state in the case", tags=["cases"],
           response_media=SVG, response_description="the diagram; states also in each element's <title> "
                                                   "and data-state (completed, active, waiting, error, "
                                                   "not_reached); a file without DI gets an SVG saying so",
           description="Who may read the case may read its diagram (`GET /cases/{id}` rules).")
def case_diagram(actor, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return _svg(diagram.case_diagram(uow, actor, case_id))


@blueprint.get("/process-definitions/<key>/diagram.svg")
@operation("A deployed process's diagram (SVG; the latest version unless ?version=N)",
           tags=["process-definitions"], query=DiagramQuerySchema, response_media=SVG, forbidden=False,
           response_description="the diagram as drawn in the BPMN file; a file without DI gets an SVG saying so")
def definition_diagram(actor, query, key):  # type: ignore[no-untyped-def]
    version = query.get("version")
    with runtime().unit_of_work(write=False) as uow:
        return _svg(diagram.definition_diagram(uow, key, version))
