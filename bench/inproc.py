"""In-process timings: one completion and a whole case, ours vs raw SpiffWorkflow 3.2.

Raw SpiffWorkflow (the reference the issue fixes): parse once, then per task deserialize the
workflow JSON, complete the task, run engine steps, serialize — what any persisting server
built directly on the library does per command.

Ours, two figures:
- `workflow`: the same loop through our glue (`load_state`, `CaseWorkflow.complete`, `sync`'s
  ready-task scan, `dump_state`) with no database;
- `engine`: the real command `engine.services.cases.complete_task` in a unit of work with commit, on the
  bench database — what a request pays besides HTTP and auth.
"""
from __future__ import annotations

import statistics
import time
from typing import Any
from uuid import UUID

from bench import BPMN_FILE, PROCESS_KEY, items

DECISION = {"decision": "approve"}


def _median_ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 3)


# -- raw SpiffWorkflow 3.2 ----------------------------------------------------------------------
class RawSpiff:
    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
        from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
        from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
        parser = CamundaParser()
        parser.add_bpmn_file(str(BPMN_FILE))
        self.spec = parser.get_spec(PROCESS_KEY)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))

    def run_case(self, n: int) -> tuple[list[float], float]:
        """Start a case with n items, then complete every item task; returns per-task seconds and total."""
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState
        begin = time.perf_counter()
        workflow = BpmnWorkflow(self.spec)
        workflow.get_tasks(end_at_spec="Start")[0].data.update(items=items(n))
        workflow.do_engine_steps()
        ids = [t.id for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
        state = self.serializer.serialize_json(workflow)
        per_task = []
        for task_id in ids:
            t0 = time.perf_counter()
            workflow = self.serializer.deserialize_json(state)
            task = workflow.get_task_from_id(task_id)
            task.data.update(DECISION)
            task.run()
            workflow.do_engine_steps()
            state = self.serializer.serialize_json(workflow)
            per_task.append(time.perf_counter() - t0)
        assert workflow.is_completed(), "raw case did not complete"
        return per_task, time.perf_counter() - begin


# -- ours ----------------------------------------------------------------------------------------
class Ours:
    """Our engine on a real database (the bench's), deployed with the bench process."""

    def __init__(self, runtime: Any) -> None:
        from engine.domain.access import Actor
        self.runtime = runtime
        self.agent = Actor("bench-agent", "agent")
        self.admin = Actor("bench-admin", "admin")
        deploy(runtime)

    def run_workflow_only(self, n: int) -> tuple[list[float], float]:
        """Our glue without the database: load_state, complete, run, ready scan, dump_state."""
        from engine.adapters.serializer import dump_state, load_state
        from engine.services.definitions import find_definition
        from engine.services.workflow import CaseWorkflow, specs_of
        with self.runtime.unit_of_work(write=False) as uow:
            definition = find_definition(uow, PROCESS_KEY)
            spec, subs = specs_of(uow, definition)
            begin = time.perf_counter()
            flow = CaseWorkflow.new(uow, None, definition)  # type: ignore[arg-type]
            flow.workflow.get_tasks(end_at_spec="Start")[0].data.update(items=items(n))
            flow.run()
            ids = [str(t.id) for t in ready_manual(flow.workflow)]
            state = dump_state(flow.workflow)
            per_task = []
            for task_id in ids:
                t0 = time.perf_counter()
                flow = CaseWorkflow(uow, None, definition, load_state(state, spec, subs))  # type: ignore[arg-type]
                flow.complete(task_id, dict(DECISION))
                ready_manual(flow.workflow)
                state = dump_state(flow.workflow)
                per_task.append(time.perf_counter() - t0)
            assert flow.workflow.is_completed(), "our workflow did not complete"
            return per_task, time.perf_counter() - begin

    def start(self, n: int, business_key: str) -> str:
        from engine.services import cases
        with self.runtime.unit_of_work() as uow:
            case = cases.start_case(uow, self.agent, PROCESS_KEY, business_key,
                                    project={"name": business_key}, variables={"items": items(n)}).case
            uow.commit()
        return case.id

    def open_task_ids(self, case_id: str) -> list[str]:
        from engine.services import cases
        with self.runtime.unit_of_work(write=False) as uow:
            return [t.id for t in cases.case_tasks(uow, case_id) if t.state == "ready"]

    def complete(self, task_id: str) -> None:
        from engine.services import cases
        with self.runtime.unit_of_work() as uow:
            cases.complete_task(uow, self.admin, task_id, dict(DECISION))
            uow.commit()

    def case_status(self, case_id: str) -> str:
        from engine.adapters.models import Case
        with self.runtime.unit_of_work(write=False) as uow:
            return uow.session.get(Case, case_id).status

    def run_case(self, n: int, business_key: str) -> tuple[list[float], float]:
        begin = time.perf_counter()
        case_id = self.start(n, business_key)
        ids = self.open_task_ids(case_id)
        assert len(ids) == n, f"expected {n} open tasks, found {len(ids)}"
        per_task = []
        for task_id in ids:
            t0 = time.perf_counter()
            self.complete(task_id)
            per_task.append(time.perf_counter() - t0)
        total = time.perf_counter() - begin
        status = self.case_status(case_id)
        assert status == "completed", f"case {case_id} is {status}"
        return per_task, total


def ready_manual(workflow: Any) -> list:
    """What `CaseWorkflow.sync` asks of the workflow: the ready manual tasks."""
    from engine.services.workflow import ready_manual_tasks
    return ready_manual_tasks(workflow)


def deploy(runtime: Any) -> None:
    from engine.domain.access import Actor
    from engine.services.definitions import deploy as deploy_definition
    with runtime.unit_of_work() as uow:
        deploy_definition(uow, Actor("bench-designer", "designer"), BPMN_FILE.read_bytes(), BPMN_FILE.name)
        uow.commit()


def branches(runtime: Any, sizes: tuple[int, ...], repeats: int, log=print) -> dict[str, Any]:
    """Median per-completion and whole-case costs for each size, repeated `repeats` times."""
    raw, ours = RawSpiff(), Ours(runtime)
    results: dict[str, Any] = {}
    for n in sizes:
        figures: dict[str, list[float]] = {k: [] for k in (
            "raw_completion", "raw_case", "workflow_completion", "workflow_case",
            "engine_completion", "engine_case")}
        reps = repeats if n <= 64 else max(1, repeats // 2 + (repeats % 2))
        for r in range(reps):
            per, total = raw.run_case(n)
            figures["raw_completion"].append(statistics.median(per))
            figures["raw_case"].append(total)
            per, total = ours.run_workflow_only(n)
            figures["workflow_completion"].append(statistics.median(per))
            figures["workflow_case"].append(total)
            per, total = ours.run_case(n, f"bench-branches-{n}-{r}-{time.time_ns()}")
            figures["engine_completion"].append(statistics.median(per))
            figures["engine_case"].append(total)
        row = {key: _median_ms(values) for key, values in figures.items()}
        row["runs"] = reps
        results[str(n)] = row
        log(f"  branches {n:>3}: raw {row['raw_completion']:.2f} ms/completion, {row['raw_case']:.0f} ms/case; "
            f"ours workflow {row['workflow_completion']:.2f} ms, engine {row['engine_completion']:.2f} ms/completion, "
            f"{row['engine_case']:.0f} ms/case")
    first, last = str(sizes[0]), str(sizes[-1])
    results["ratios"] = {
        f"engine_completion_{last}_over_{first}": round(results[last]["engine_completion"] / results[first]["engine_completion"], 2),
        f"workflow_completion_{last}_over_{first}": round(results[last]["workflow_completion"] / results[first]["workflow_completion"], 2),
        f"raw_completion_{last}_over_{first}": round(results[last]["raw_completion"] / results[first]["raw_completion"], 2),
    }
    if "16" in results:
        results["ratios"]["engine_over_raw_at_16"] = round(results["16"]["engine_completion"] / results["16"]["raw_completion"], 2)
        results["ratios"]["workflow_over_raw_at_16"] = round(results["16"]["workflow_completion"] / results["16"]["raw_completion"], 2)
    return results
