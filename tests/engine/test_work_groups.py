"""Work-group rules and the question clock without HTTP (issue 13)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.domain.access import Actor
from engine.adapters import project_store
from engine.domain import projects as rules
from engine.errors import Invalid
from engine.services import projects, questions

CODE = "2026-510117-52-01-000016"
PROMOTER = Actor("tcj", "staff", "county.tcj")


def test_the_rules():
    assert rules.removal_reason("办结") == rules.removal_reason("completed") == "completed"
    assert rules.removal_reason(" 企业放弃 ") == "abandoned"
    with pytest.raises(Invalid) as bad:
        rules.removal_reason("finished")
    assert "reason" in bad.value.errors
    clock = rules.QuestionClock(datetime(2026, 3, 2, 1, tzinfo=timezone.utc), 24)
    assert clock.warn_at - clock.asked_at == timedelta(hours=18) and clock.due_at - clock.asked_at == timedelta(hours=24)
    assert [clock.sla(clock.asked_at + timedelta(hours=h)) for h in (0, 17.9, 18, 23.9, 24)] == \
        ["normal", "normal", "yellow", "yellow", "red"]
    with pytest.raises(Invalid) as bad:
        rules.answer_fields({"answer": "x", "preliminary_opinion": "\t"})
    assert list(bad.value.errors) == ["preliminary_opinion"]
    assert rules.project_code_problem(CODE) is None and rules.project_code_problem("2026-510117") is not None


def _add(runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.unit_of_work() as uow:
        projects.add_project(uow, PROMOTER, {"code": CODE, "name": "奥特莱斯郫县项目", "enterprise": {"name": "e"},
                                             "contact": {"name": "c"}, "members": ["county.zjj", "county.xfjy"]})
        uow.commit()


def _events(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime.unit_of_work(write=False) as uow:
        return [e.type for e in reversed(project_store.timeline(uow, CODE))]


def test_the_clock_is_idempotent_and_a_late_worker_catches_up_one_level_at_a_time(runtime, clock):
    _add(runtime)
    with runtime.unit_of_work() as uow:
        question = questions.ask(uow, Actor("zjj", "staff", "county.zjj"), CODE,
                                 {"text": "消防设计审查需要哪些材料？", "departments": ["county.xfjy"]})
        uow.commit()
    assert questions.run_due(runtime) == 0  # nothing due yet
    clock.advance(days=3)  # the worker was down for three days
    assert questions.run_due(runtime) == 1
    assert questions.run_due(runtime) == 0  # ticking again changes nothing
    assert _events(runtime)[-3:] == ["question.yellow", "question.red", "question.escalated"]
    with runtime.unit_of_work(write=False) as uow:
        [row] = project_store.addressees(uow, [question.id])
    assert (row.sla, row.level, row.level_department) == ("red", 1, "county.zwfw") and row.next_at > clock()
    clock.set(row.next_at)
    questions.run_due(runtime)
    clock.set(clock() + timedelta(days=3))
    questions.run_due(runtime)
    with runtime.unit_of_work(write=False) as uow:
        [row] = project_store.addressees(uow, [question.id])
    assert (row.level, row.level_department, row.next_at) == (3, "county.zf", None)  # the last level: no more
    assert _events(runtime).count("question.escalated") == 3
    clock.advance(days=30)
    assert questions.run_due(runtime) == 0


def test_each_notified_event_names_who_is_told(runtime, clock):
    _add(runtime)
    asker = Actor("zjj", "staff", "county.zjj")
    with runtime.unit_of_work() as uow:
        question = questions.ask(uow, asker, CODE, {"text": "?", "departments": ["county.xfjy"]})
        uow.commit()
    with runtime.unit_of_work() as uow:
        questions.answer(uow, Actor("xf", "staff", "county.xfjy"), question.id, {"answer": "a", "preliminary_opinion": "b"})
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        told = {e.type: e.data["notify"] for e in project_store.timeline(uow, CODE) if e.type.startswith("question.")}
    assert told["question.asked"] == {"users": [], "departments": ["county.xfjy"]}
    assert told["question.answered"] == {"users": ["zjj"], "departments": []}
