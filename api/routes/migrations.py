"""/migrations: move the open cases of one process version to another (admins)."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.designers import DryRunSchema, MigrationBodySchema, MigrationSchema
from engine.services import case_migration
from engine.services.case_migration import Plan

blueprint = Blueprint("migrations", __name__)
TAGS = ["migrations"]


@blueprint.post("/migrations")
@operation("Migrate running cases to another version (admin)", tags=TAGS, body=MigrationBodySchema,
           response=MigrationSchema, status=202, not_found=True,
           responses={200: ("a dry run: each case, whether it can move and why not", DryRunSchema)},
           description="The plan: `process_key`, `from_version`, `to_version`, and `mapping` for elements whose "
                       "id changed (`{\"Activity_review\": \"Activity_technical_review\"}`); other elements map by "
                       "id. `dry_run: true` answers per case whether it can move and why not (a token at an "
                       "element the target lacks, another kind of element, a multi-instance or sub-process in "
                       "progress) and changes nothing. Otherwise the migration is recorded (202) and the worker "
                       "moves its cases in batches of `batch_size`, each in its own transaction; follow it with "
                       "GET /migrations/{id}. Open tasks keep their ids, assignees, due dates and clocks; each "
                       "case's history records `migrated`.")
def post_migration(actor, body):  # type: ignore[no-untyped-def]
    plan = Plan(body["process_key"], body["from_version"], body["to_version"], body["mapping"])
    if body["dry_run"]:
        with runtime().unit_of_work(write=False) as uow:
            report = case_migration.dry_run(uow, actor, plan, body["case_ids"])
        return DryRunSchema().dump({**report, "dry_run": True}), 200
    result = case_migration.start_reported(runtime().unit_of_work(), actor, plan, body["batch_size"], body["case_ids"])
    return MigrationSchema().dump(result), 202


@blueprint.get("/migrations/<int:migration_id>")
@operation("A migration's progress, and the cases that did not move with why (admin)", tags=TAGS,
           response=MigrationSchema)
def get_migration(actor, migration_id):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        result = case_migration.progress(uow, actor, migration_id)
    return MigrationSchema().dump(result)
