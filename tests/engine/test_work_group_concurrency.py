"""Nothing accepted is lost when answers, the removal of the project and the worker's clock meet
(real OS processes at a barrier, on the test database)."""
from __future__ import annotations

import multiprocessing as mp

from engine.domain.access import Actor
from engine.adapters import project_store
from engine.services import projects, questions

CODE = "2026-510117-52-01-000016"
BODIES = ["county.zjj", "county.zrzyj", "county.xfjy", "county.sthjj"]


def _act(url: str, now_iso: str, what: str, question_id: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from engine.config import Settings
    from engine.errors import Conflict
    from engine.runtime import Runtime
    now = datetime.fromisoformat(now_iso)
    runtime = Runtime(Settings(database_url=url), clock=lambda: now)
    try:
        barrier.wait(timeout=60)
        if what == "tick":
            results.put(("tick", questions.run_due(runtime)))
            return
        with runtime.unit_of_work() as uow:
            if what == "remove":
                projects.remove_project(uow, Actor("fgj", "staff", "county.fgj"), CODE, "stalled")
            else:
                questions.answer(uow, Actor(f"staff-{what}", "staff", what), question_id,
                                 {"answer": f"answer of {what}", "preliminary_opinion": "同意"})
            uow.commit()
        results.put(("ok", what))
    except Conflict:
        results.put(("conflict", what))
    except Exception as error:  # reported to the parent, which fails the test
        results.put(("error", f"{what}: {error!r}"))
    finally:
        runtime.close()


def test_answers_removal_and_the_clock_at_the_same_moment(runtime, clock):
    with runtime.unit_of_work() as uow:
        projects.add_project(uow, Actor("tcj", "staff", "county.tcj"), {
            "code": CODE, "name": "奥特莱斯郫县项目", "enterprise": {"name": "e"}, "contact": {"name": "c"},
            "members": BODIES})
        question = questions.ask(uow, Actor("root", "admin"), CODE, {"text": "?", "departments": BODIES})
        uow.commit()
    clock.advance(hours=24, minutes=5)  # every clock is red: the worker has levels to raise
    jobs = [*BODIES, "remove", "tick"]
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=_act, args=(runtime.settings.database_url, clock().isoformat(), job, question.id,
                                             barrier, results)) for job in jobs]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    assert ("ok", "remove") in outcomes
    answered = {what for kind, what in outcomes if kind == "ok" and what in BODIES}
    with runtime.unit_of_work(write=False) as uow:
        rows = {r.department: r for r in project_store.addressees(uow, [question.id])}
        project = project_store.get(uow, CODE)
    assert project.state == "removed"
    for body, row in rows.items():
        if body in answered:  # accepted: kept, whatever came after
            assert (row.state, row.answer, row.on_time) == ("answered", f"answer of {body}", False)
        else:  # refused (the project was removed first): closed, no answer
            assert row.state == "closed" and row.answer is None and ("conflict", body) in outcomes
