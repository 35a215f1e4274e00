"""Resolving a coordination level (三级协调) by the body it is addressed to, on the in-memory
unit of work."""
from __future__ import annotations

import pytest

from engine.adapters.models import Case, Escalation
from engine.domain.access import Actor
from engine.domain.events import TimersChanged
from engine.errors import Conflict, Forbidden, NotFound
from engine.services import escalation
from tests.unit.fakes import START, FakeUnitOfWork


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.cases.add(Case(id="c1", process_key="p", status="running", started_by="li", started_at=START,
                       updated_at=START, version=0, state=""))
    uow.escalations.add(Escalation(case_id="c1", task_id="t1", level=2, department="county.zwfw",
                                   role="leaders", item_department="county.fgj", status="open",
                                   reason="overdue", raised_at=START, next_at=START))
    return uow


def test_the_leaders_addressed_resolve_it_and_no_further_level_is_scheduled(uow):
    uow.runtime.advance(hours=3)
    done = escalation.resolve(uow, Actor("zhou", "leader", "county.zwfw"), 1, "协调会已定")
    assert (done.status, done.next_at, done.resolved_by, done.resolved_at) == ("resolved", None, "zhou", uow.runtime.now)
    [event] = uow.events.of_case("c1")
    assert (event.type, event.task_id, event.data) == ("escalation_resolved", "t1",
                                                         {"escalation_id": 1, "level": 2, "note": "协调会已定"})
    assert uow.published == [TimersChanged("c1")]
    with pytest.raises(Conflict, match="escalation 1 is resolved"):
        escalation.resolve(uow, Actor("zhou", "leader", "county.zwfw"), 1)


@pytest.mark.parametrize("actor, message", [
    (Actor("wang", "staff", "county.zwfw"), "may not resolve an escalation addressed to the leaders of county.zwfw"),
    (Actor("qian", "leader", "county.fgj"), "may not resolve an escalation addressed to the leaders of county.zwfw"),
])
def test_no_one_else_may_resolve_it_and_nothing_changes(uow, actor, message):
    with pytest.raises(Forbidden, match=message):
        escalation.resolve(uow, actor, 1)
    assert uow.escalations.get(1).status == "open" and not uow.events.of_case("c1") and not uow.published


def test_an_unknown_escalation_is_not_found(uow):
    with pytest.raises(NotFound):
        escalation.resolve(uow, Actor("root", "admin"), 99)
