"""The statistics' upkeep (engine/services/statistics_upkeep.py) writes a command's summary rows
whatever the command's shape: also when every row it added is still unflushed at the commit (no
query ran after it — with warm caches a start can be such a command)."""
from __future__ import annotations

from datetime import datetime, timezone

from engine.adapters.models import Case, StatCase
from tests.conftest import deploy_file


def test_a_case_added_without_a_flush_before_the_commit_gets_its_summary_row(runtime):
    [definition] = deploy_file(runtime, "parallel_approval.bpmn").definitions
    now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    with runtime.unit_of_work() as uow:
        uow.cases.add(Case(id="c-unflushed", definition_id=definition.id, process_key="parallel_approval",
                           process_version=definition.version, business_key="2026-510117-34-01-000009",
                           open_key=None, name="unflushed", status="running", project={}, started_by="alice",
                           started_at=now, updated_at=now, version=1, state="{}"))
        uow.commit()  # nothing ran between the add and the commit: no flush noted the case before
    with runtime.unit_of_work(write=False) as uow:
        row = uow.session.get(StatCase, "c-unflushed")
    assert row is not None and (row.status, row.accepted_at) == ("open", now)
