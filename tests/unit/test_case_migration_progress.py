"""A case migration's progress report, as a service on the in-memory unit of work: counts by
state, the cases that did not move with why, and who may read it."""
from __future__ import annotations

import pytest

from engine.adapters.models import CaseMigration, CaseMigrationCase
from engine.domain.access import Actor
from engine.errors import Forbidden, NotFound
from engine.services import case_migration
from tests.unit.fakes import START, FakeUnitOfWork

ADMIN = Actor("root", "admin", None)


def test_progress_counts_each_state_and_lists_the_cases_that_did_not_move():
    uow = FakeUnitOfWork()
    migration = uow.migrations.add_now(CaseMigration(
        process_key="p", from_version=1, to_version=2, from_definition_id=1, to_definition_id=2, mapping={},
        status="running", batch_size=2, total=4, created_at=START, created_by="root", finished_at=None))
    for case_id, status, reason in (("c1", "migrated", None), ("c2", "skipped", "token at gone_task"),
                                    ("c3", "pending", None), ("c4", "failed", "ValueError: broken")):
        uow.migrations.add(CaseMigrationCase(migration_id=migration.id, case_id=case_id, status=status,
                                             reason=reason))
    report = case_migration.progress(uow, ADMIN, migration.id)
    assert (report["pending"], report["migrated"], report["skipped"], report["failed"]) == (1, 1, 1, 1)
    assert report["progress"] == 0.75
    assert report["cases"] == [{"case_id": "c2", "status": "skipped", "reason": "token at gone_task"},
                               {"case_id": "c4", "status": "failed", "reason": "ValueError: broken"}]
    assert uow.migrations.oldest_running() == migration.id
    assert uow.migrations.pending_item_ids(migration.id, 10) == [3]
    with pytest.raises(Forbidden):
        case_migration.progress(uow, Actor("li", "agent", "county.zwfw"), migration.id)
    with pytest.raises(NotFound):
        case_migration.progress(uow, ADMIN, 99)
