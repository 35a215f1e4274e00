"""Fetching and locking external tasks (issue 12), as services on the in-memory unit of work: a
task goes to one worker until its lock runs out or it is given back."""
from __future__ import annotations

import pytest

from engine.adapters.models import Case, ExternalTaskRow
from engine.domain.access import Actor
from engine.errors import Conflict
from engine.services import external_tasks
from tests.unit.fakes import START, FakeUnitOfWork

WORKER = Actor("billing-worker", "worker", None)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    for case_id, status in (("c1", "running"), ("c2", "suspended")):
        uow.cases.add(Case(id=case_id, process_key="p", status=status, started_by="li", started_at=START,
                           updated_at=START, version=0, state=""))
    for task_id, case_id, priority in (("x1", "c1", 0), ("x2", "c1", 5), ("x3", "c2", 9)):
        uow.external_tasks.add(ExternalTaskRow(
            id=task_id, case_id=case_id, definition_id=1, process_key="p", business_key="XM-1",
            element_id=f"e_{task_id}", topic="charge", priority=priority, retries=None, created_at=START,
            variables={"amount": 100, "secret": "x"}))
    return uow


def test_a_fetch_locks_running_cases_tasks_highest_priority_first_for_one_worker(uow):
    topics = [{"topicName": "charge", "lockDuration": 60_000, "variables": ["amount"]}]
    fetched = external_tasks.fetch_and_lock(uow, WORKER, "w1", topics, 10)
    assert [(f.row.id, f.variables) for f in fetched] == [("x2", {"amount": 100}), ("x1", {"amount": 100})]
    assert external_tasks.fetch_and_lock(uow, WORKER, "w2", topics, 10) == []  # held by w1
    assert [r.id for r in external_tasks.list_tasks(uow, WORKER, locked=True)] == ["x1", "x2"]
    with pytest.raises(Conflict):
        external_tasks.extend_lock(uow, WORKER, "x1", "w2", 1_000)
    external_tasks.unlock(uow, WORKER, "x1")
    assert [f.row.id for f in external_tasks.fetch_and_lock(uow, WORKER, "w2", topics, 10)] == ["x1"]
    uow.runtime.advance(minutes=2)  # w1's lock on x2 ran out
    assert [f.row.id for f in external_tasks.fetch_and_lock(uow, WORKER, "w3", topics, 1)] == ["x2"]
