"""The modeler-style corpus (tests/modeler_corpus.py → tests/bpmn/modeler/): every file deploys
unmodified once the administrator's group aliases are in force, and its case runs to the end;
the directory lints clean against an organisation file with those aliases."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.services import cases
from engine.services import timers
from engine.domain.access import Actor
from engine.services.definitions import deploy_files
from engine.services import department_aliases
from engine.adapters.models import Case, Event
from tests import modeler_corpus
from tests.conftest import BPMN
from tests.engine.test_cases import open_tasks

ADMIN = Actor("ops", "admin")
AGENT = Actor("alice", "agent")
REPO = Path(__file__).resolve().parents[2]


def set_aliases(runtime, aliases=modeler_corpus.ALIASES) -> None:
    with runtime.unit_of_work() as uow:
        for name, code in aliases.items():
            department_aliases.set_alias(uow, ADMIN, name, code)
        uow.commit()


def deploy(runtime, names) -> None:
    with runtime.unit_of_work() as uow:
        deploy_files(uow, Actor("dora", "designer"),
                     [((BPMN / "modeler" / n).read_bytes(), n) for n in names])
        uow.commit()


def drive(runtime, clock, scenario: modeler_corpus.Scenario, case_id: str, steps: int = 60) -> list[str]:
    """Run a case as its scenario says until it ends; returns the elements of completed tasks."""
    done: list[str] = []
    counts: dict[str, int] = {}
    messages = list(scenario.messages)
    for _ in range(steps):
        with runtime.unit_of_work(write=False) as uow:
            status = uow.session.get(Case, case_id).status
        if status != "running":
            break
        tasks = open_tasks(runtime, case_id)
        if scenario.first == "message" and messages:
            with runtime.unit_of_work() as uow:
                cases.deliver_message(uow, ADMIN, case_id, messages.pop(0), {"by": "test"})
                uow.commit()
            continue
        if scenario.first == "timer" and tasks and not counts.get("_advanced"):
            counts["_advanced"] = 1
            clock.advance(hours=scenario.hours)
            timers.run_due(runtime)
            continue
        if tasks:  # one at a time: completing one may cancel others (a terminate end, a boundary event)
            tasks.sort(key=lambda t: t.element_id in scenario.last)
            for task in tasks[:1]:
                data = scenario.data.get(task.element_id, {})
                if isinstance(data, list):
                    data = data[min(counts.get(task.element_id, 0), len(data) - 1)]
                counts[task.element_id] = counts.get(task.element_id, 0) + 1
                with runtime.unit_of_work() as uow:
                    cases.complete_task(uow, ADMIN, task.id, dict(data))
                    uow.commit()
                done.append(task.element_id)
            continue
        with runtime.unit_of_work(write=False) as uow:
            from engine.services.workflow import CaseWorkflow, waiting_message_names
            waiting = waiting_message_names(CaseWorkflow.load(uow, uow.session.get(Case, case_id)).workflow)
        wanted = [m for m in messages if m in waiting]
        if wanted:
            messages.remove(wanted[0])
            with runtime.unit_of_work() as uow:
                cases.deliver_message(uow, ADMIN, case_id, wanted[0], {"by": "test"})
                uow.commit()
            continue
        clock.advance(hours=scenario.hours)
        timers.run_due(runtime)
    return done


def test_the_corpus_has_at_least_twenty_files_and_they_are_up_to_date(tmp_path):
    assert len(modeler_corpus.FILES) >= 20
    for name, file in modeler_corpus.FILES.items():
        assert (BPMN / "modeler" / name).read_text(encoding="utf-8") == modeler_corpus.render(file), \
            f"{name} differs from tests/modeler_corpus.py: run python -m tests.modeler_corpus"
    for name, file in modeler_corpus.MIGRATION_FILES.items():
        assert (modeler_corpus.MIGRATION_DIR / name).read_text(encoding="utf-8") == modeler_corpus.render(file)


@pytest.mark.parametrize("name", sorted(modeler_corpus.FILES))
def test_a_modeler_file_deploys_unmodified_and_its_case_runs_to_the_end(runtime, clock, name):
    scenario = modeler_corpus.SCENARIOS[name]
    set_aliases(runtime)
    deploy(runtime, scenario.files)
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, AGENT, scenario.key, "2026-510117-34-01-000001",
                                   variables=dict(scenario.variables))
        uow.commit()
    done = drive(runtime, clock, scenario, started.case.id)
    with runtime.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, started.case.id)
        errors = [e.data for e in uow.session.query(Event).filter_by(case_id=case.id, type="error")]
        assert case.status == "completed", (case.status, case.error, errors, done)
    for element in scenario.passes:
        assert element in done, (element, done)


def test_aliased_groups_route_to_their_departments(runtime):
    set_aliases(runtime)
    deploy(runtime, ["parallel_opinions.bpmn"])
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, AGENT, "parallel_opinions", "2026-510117-34-01-000002")
        uow.commit()
    routed = {t.element_id: t.department for t in open_tasks(runtime, started.case.id)}
    assert routed == {"Activity_planning": "county.zrzyj", "Activity_environment": "county.sthjj",
                      "Activity_construction": "county.zjj"}


def test_the_corpus_lints_clean_with_the_aliases_and_names_every_unknown_group_without(tmp_path):
    organisation = json.loads((REPO / "processes" / "organisation.json").read_text(encoding="utf-8"))
    with_aliases = tmp_path / "organisation.json"
    with_aliases.write_text(json.dumps({**organisation, "group_aliases": modeler_corpus.ALIASES},
                                       ensure_ascii=False), encoding="utf-8")
    lint = [sys.executable, "-m", "api.cli", "lint", "--format", "json"]
    clean = subprocess.run(lint + ["--organisation", str(with_aliases), "tests/bpmn/modeler",
                                   "tests/bpmn/migration/permit_review_v1.bpmn"],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["problems"] == []
    refused = subprocess.run(lint + ["tests/bpmn/modeler"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    groups = {p["message"].split("'")[1] for p in json.loads(refused.stdout)["problems"]}
    assert groups == set(modeler_corpus.ALIASES)
