"""Suspending and resuming a case (中止 / 续办), as services on the in-memory unit of work."""
from __future__ import annotations

import pytest

from engine.adapters.models import Case
from engine.domain.access import Actor
from engine.domain.events import TimersChanged
from engine.errors import Conflict, Forbidden
from engine.services import cases
from tests.unit.fakes import START, FakeUnitOfWork

AGENT = Actor("li", "agent", "county.zwfw")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.cases.add(Case(id="c1", process_key="p", status="running", started_by="li", started_at=START,
                       updated_at=START, version=0, state=""))
    return uow


def test_suspend_then_resume_records_both_with_the_reason_and_reschedules_timers(uow):
    uow.runtime.advance(hours=1)
    assert cases.suspend_case(uow, AGENT, "c1", "补正材料").status == "suspended"
    uow.runtime.advance(days=2)
    case = cases.resume_case(uow, AGENT, "c1", "材料已补齐")
    assert case.status == "running" and case.updated_at == uow.runtime.now
    assert [(e.type, e.actor, e.data) for e in uow.events.of_case("c1")] == [
        ("suspended", "li", {"reason": "补正材料"}), ("resumed", "li", {"reason": "材料已补齐"})]
    # timers that came due while the case was suspended fire now: the scheduling answers this
    assert uow.published == [TimersChanged("c1")]


def test_a_move_the_case_may_not_make_changes_nothing(uow):
    with pytest.raises(Conflict, match="case c1 is running, not suspended"):
        cases.resume_case(uow, AGENT, "c1")
    cases.suspend_case(uow, AGENT, "c1")
    with pytest.raises(Conflict, match="case c1 is suspended, not running"):
        cases.suspend_case(uow, AGENT, "c1")
    assert [e.type for e in uow.events.of_case("c1")] == ["suspended"] and uow.published == []


@pytest.mark.parametrize("actor", [Actor("zhao", "agent", "county.zwfw"), Actor("wang", "staff", "county.fgj")])
def test_only_the_cases_agent_or_an_admin_may_suspend_it(uow, actor):
    with pytest.raises(Forbidden):
        cases.suspend_case(uow, actor, "c1")
    assert uow.cases.get("c1").status == "running"
    assert cases.suspend_case(uow, Actor("root", "admin"), "c1").status == "suspended"
