"""Phased submission (分期报建): `POST /cases/{id}/batches` adds a batch of auxiliary items to a
running case; `GET /cases/{id}/batches` lists the batches and their items' states."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint

from api.operation import operation
from api.routes import API_PREFIX
from api.runtime import runtime
from api.schemas.batches import BatchCreatedSchema, BatchListSchema, BatchSchema
from api.schemas.cases import CaseSchema
from api.schemas.tasks import dump_tasks
from engine.services import batches

blueprint = Blueprint("batches", __name__)
TAGS = ["cases"]


@blueprint.post("/cases/<case_id>/batches")
@operation("Submit a batch of auxiliary items (分期报建)", tags=TAGS, body=BatchSchema, response=BatchCreatedSchema,
           status=201, conflicts=True,
           response_headers={201: {"Location": {"description": "the case's batches", "schema": {"type": "string"}}}},
           description="The case's agent or an admin. The items are approved in parallel, each at once in "
                       "its body's inbox; closing the case waits for them. Any number of batches, from "
                       "window intake until the case is closed (a batch sent while closure is waiting takes "
                       "it back until the batch is decided). 409 when the case does not take batches now; "
                       "422 names each bad field (`items[0].department`).")
def submit(actor, body, case_id):  # type: ignore[no-untyped-def]
    batch = batches.submit_batch(runtime().unit_of_work(), actor, case_id, body)
    result = {"case": CaseSchema().dump(batch.case),
              "batch": {"number": batch.number, "facility": batch.facility, "items": batch.items},
              "open_tasks": dump_tasks(batch.open_tasks)}
    return result, 201, {"Location": f"{API_PREFIX}/cases/{quote(case_id)}/batches"}


@blueprint.get("/cases/<case_id>/batches")
@operation("A case's auxiliary batches and the state of their items", tags=TAGS, response=BatchListSchema,
           description="Whoever may see the case. Item states as on the public page.")
def list_batches(actor, case_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        found = batches.list_batches(uow, actor, case_id)
    return BatchListSchema().dump({"items": found, "total": len(found)})
