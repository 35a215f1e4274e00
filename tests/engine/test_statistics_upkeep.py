"""The statistics' upkeep (engine/services/statistics_upkeep.py) writes a command's summary rows
whatever the command's shape and whichever runtime of the process runs it: also when every row it
added is still unflushed at the commit, and in a runtime built after another was collected."""
from __future__ import annotations

import gc
from datetime import datetime, timezone

from engine.adapters.models import Case, StatCase
from engine.config import Settings
from engine.runtime import Runtime
from tests.conftest import deploy_file

NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def _add_case(runtime, definition, case_id: str) -> None:
    with runtime.unit_of_work() as uow:
        uow.cases.add(Case(id=case_id, definition_id=definition.id, process_key="parallel_approval",
                           process_version=definition.version, business_key=f"2026-510117-34-01-{case_id[-6:]}",
                           open_key=None, name=case_id, status="running", project={}, started_by="alice",
                           started_at=NOW, updated_at=NOW, version=1, state="{}"))
        uow.commit()


def _summary(runtime, case_id: str) -> StatCase | None:
    with runtime.unit_of_work(write=False) as uow:
        return uow.session.get(StatCase, case_id)


def test_every_runtime_of_a_process_keeps_the_statistics(runtime, database_url, clock):
    """Runtimes come and go in one process (each test builds one; a CLI command beside the app):
    each new one's sessions are watched, even where a new session factory takes the memory of a
    collected one (SQLAlchemy's `event.contains` is keyed by `id()` and said "watched already")."""
    [definition] = deploy_file(runtime, "parallel_approval.bpmn").definitions
    missing = []
    for n in range(30):
        other = Runtime(Settings(database_url=database_url), clock=clock)
        case_id = f"c-runtime-{n:06d}"
        _add_case(other, definition, case_id)
        if _summary(other, case_id) is None:
            missing.append(n)
        other.close()
        del other
        gc.collect()
    assert missing == [], f"runtimes whose commands wrote no summary rows: {missing}"


def test_a_case_added_without_a_flush_before_the_commit_gets_its_summary_row(runtime):
    [definition] = deploy_file(runtime, "parallel_approval.bpmn").definitions
    _add_case(runtime, definition, "c-unflushed")  # nothing ran between the add and the commit
    row = _summary(runtime, "c-unflushed")
    assert row is not None and (row.status, row.accepted_at) == ("open", NOW)
