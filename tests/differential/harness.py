"""Run one BPMN scenario three ways and describe the outcome so the three can be compared.

(a) `engine` warm: the engine's commands in one process, every cache kept (live workflows,
    case variables, specs);
(b) `engine` cold: the same commands, every cache emptied before each step, so each step loads
    the case from the database as a restarted server or another worker would;
(c) `raw`: SpiffWorkflow 3.2 alone (`BpmnWorkflow` with its stock `BpmnWorkflowSerializer`
    and the Camunda config), the workflow written to JSON and read back before every step.
    What the engine adds on top of SpiffWorkflow (a completed form kept under its form key and
    in the item it works on; task rows; history) is mirrored here in a few lines.

A scenario's steps are declarative (`complete`, `auto`, `message`, `advance`); which ready task
a step takes is decided from the workflow alone (element id, multi-instance position, item), so
the three runs take the same task at every step.
"""
from __future__ import annotations

import json
from collections import Counter
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import time_machine
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 Beijing time
# History kinds the raw run mirrors (the engine also records clocks, SLA levels...).
MIRRORED_KINDS = frozenset({"started", "task_created", "task_completed", "task_cancelled",
                            "message_received", "timer_fired", "completed", "error"})

DataRule = Any  # dict | list[dict] (n-th completion) | Callable[[Any, int], dict]


@dataclass
class Scenario:
    """A process, its files, its start data and what the people do."""
    name: str
    files: dict[str, bytes]
    process: str
    variables: dict[str, Any] = field(default_factory=dict)
    project: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] | None = None  # None: complete whatever is ready until done
    data: dict[str, DataRule] = field(default_factory=dict)
    raw_parser: str = "camunda"  # "bpmn": standard BPMN (SpiffWorkflow's own parser and config)
    max_steps: int = 400
    xfail: str | None = None
    business_key: str | None = None  # default: the scenario's name

    @property
    def key(self) -> str:
        return self.business_key or self.name

    def plan(self) -> list[dict[str, Any]]:
        return self.steps if self.steps is not None else [{"auto": self.max_steps}]

    def data_for(self, element: str, item: Any, n: int) -> dict[str, Any]:
        """The form data for the n-th completion (from 1) of `element`."""
        rule = self.data.get(element, self.data.get("*"))
        if rule is None:
            return {"answer": f"{element}-{n}", f"seen_{element}": n}
        if callable(rule):
            return rule(item, n)
        if isinstance(rule, list):
            return deepcopy(rule[min(n, len(rule)) - 1])
        return deepcopy(rule)


@dataclass
class Outcome:
    status: str
    error_element: str | None
    data: dict[str, Any]
    completed: list[tuple[str, int]]
    rows: list[tuple[str, str, str | None, str]]
    events: list[list[tuple[str, str | None]]]
    actions: list[str]

    def mirrored(self) -> "Outcome":
        """What a raw SpiffWorkflow run can be compared on (history kinds it mirrors)."""
        events = [sorted(e for e in step if e[0] in MIRRORED_KINDS) for step in self.events]
        return Outcome(self.status, self.error_element, self.data, self.completed, self.rows, events,
                       self.actions)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


# -- reading a workflow, the same way for every run -------------------------------------------
def all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks += list(sub.tasks.values())
    return tasks


def ready_manual(workflow: BpmnWorkflow) -> list[Any]:
    return [t for t in all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual]


def instance_path(task: Any) -> tuple:
    """The multi-instance / loop positions from the task up through its (sub)processes."""
    path: list[Any] = []
    current = task
    while current is not None:
        internal = current.internal_data
        for key in ("key_or_index", "iteration"):
            if key in internal:
                path.append(canonical(internal[key]))
        if "key_or_index" not in internal and "item" in internal:
            path.append(canonical(internal["item"]))
        parent = current.parent
        if parent is None:
            wf = current.workflow
            parent_id = getattr(wf, "parent_task_id", None)
            parent = wf.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
        current = parent
    return tuple(reversed(path))


def item_name(task: Any, meta: dict[str, Any]) -> str | None:
    """As `engine.services.workflow.CaseWorkflow._item_name`: the data name of the item a task works on."""
    name = meta.get("properties", {}).get("item")
    if name is None:
        parent_spec = task.parent.task_spec if task.parent is not None else None
        ref = getattr(parent_spec, "input_item", None) or getattr(parent_spec, "output_item", None)
        name = getattr(ref, "bpmn_id", None)
    return name


def item_of(task: Any, meta: dict[str, Any]) -> Any:
    name = item_name(task, meta)
    value = task.data.get(name) if name else None
    return value if isinstance(value, dict) else ({"value": value} if value is not None else None)


def task_key(task: Any, meta: dict[str, dict[str, Any]]) -> tuple:
    element = task.task_spec.bpmn_id or task.task_spec.name
    return (element, instance_path(task), canonical(item_of(task, meta.get(element, {}))))


def completed_elements(workflow: BpmnWorkflow) -> list[tuple[str, int]]:
    counts = Counter(t.task_spec.bpmn_id for t in all_tasks(workflow)
                     if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id)
    return sorted(counts.items())


def merged_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """As `engine.adapters.queries.case_variables` (the same merge, run on a raw workflow)."""
    from engine.adapters.queries import merged_task_data
    return json.loads(json.dumps(merged_task_data(workflow), default=str, ensure_ascii=False))


def waiting_timers(workflow: BpmnWorkflow) -> dict[Any, tuple[Any, Any]]:
    """Waiting timers, an event-based gateway's too (SpiffWorkflow's `refresh_timers` updates
    its `Multiple` event, so a timer behind the gateway fires in a raw run)."""
    from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
    out = {}
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MultipleEventDefinition) and any(
                isinstance(d, TimerEventDefinition) for d in definition.event_definitions):
            definition = next(d for d in definition.event_definitions if isinstance(d, TimerEventDefinition))
        if isinstance(definition, TimerEventDefinition) and task.state == TaskState.WAITING:
            value = task._get_internal_data("event_value")
            out[task.id] = (task, (value.get("cycles"), value.get("next")) if isinstance(value, dict) else value)
    return out


def metadata(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    """Per-element routing metadata of every process in the files (the engine's parser's view)."""
    from engine.domain.bpmn.parser import NS, element_metadata
    found: dict[str, dict[str, Any]] = {}
    for name, data in files.items():
        if name.endswith(".dmn"):
            continue
        root = etree.fromstring(data)
        for process in root.iterfind("bpmn:process", NS):
            found.update(element_metadata(process))
    return found


# -- the steps, shared by every run -----------------------------------------------------------
class Driver:
    """What a run must provide; `play` walks the scenario's steps over it."""

    scenario: Scenario
    meta: dict[str, dict[str, Any]]

    def ready(self) -> list[tuple[tuple, Any]]:
        """Sorted (key, handle) of the ready manual tasks (workflow read as saved)."""
        raise NotImplementedError

    def complete(self, handle: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def message(self, name: str, payload: Any) -> None:
        raise NotImplementedError

    def advance(self, delta: timedelta) -> None:
        raise NotImplementedError

    def external(self, topic: str, data: dict[str, Any]) -> int:
        """Complete every external task waiting on `topic` with `data`; how many there were."""
        raise NotImplementedError

    def failed(self) -> bool:
        raise NotImplementedError

    def play(self) -> list[str]:
        actions: list[str] = []
        counts: Counter[str] = Counter()
        for step in self.scenario.plan():
            if self.failed():
                break
            if "auto" in step:
                for _ in range(step["auto"]):
                    ready = self.ready()
                    if not ready or self.failed():
                        break
                    actions.append(self._complete(ready[0], None, counts))
            elif "complete" in step:
                ready = [r for r in self.ready() if step["complete"] in (None, r[0][0])
                         and ("item" not in step or step["item"] in r[0][2])]
                assert ready, f"{self.scenario.name}: no ready task for {step} (ready: {[r[0] for r in self.ready()]})"
                for entry in (ready if step.get("all") else ready[:1]):
                    actions.append(self._complete(entry, step.get("data"), counts))
            elif "message" in step:
                self.message(step["message"], step.get("payload"))
                actions.append(f"message {step['message']}")
            elif "advance" in step:
                self.advance(timedelta(**step["advance"]))
                actions.append(f"advance {step['advance']}")
            elif "external" in step:  # a worker completes the waiting external tasks of a topic
                count = self.external(step["external"], step.get("data") or {})
                assert count, f"{self.scenario.name}: no external task waits on topic {step['external']}"
                actions.append(f"external {step['external']} x{count}")
            else:
                raise ValueError(f"unknown step {step}")
        return actions

    def _complete(self, entry: tuple[tuple, Any], data: dict[str, Any] | None, counts: Counter[str]) -> str:
        key, handle = entry
        element = key[0]
        counts[element] += 1
        if data is None:
            item = json.loads(key[2])
            data = self.scenario.data_for(element, item, counts[element])
        self.complete(handle, deepcopy(data))
        return f"complete {element} {key[1]} {key[2][:60]}"


_STOCK_STATE: list[BpmnWorkflowSerializer] = []


def stock_state_serializer() -> BpmnWorkflowSerializer:
    """The engine's state serializer with SpiffWorkflow's own `TaskConverter` for tasks."""
    if not _STOCK_STATE:
        from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
        from SpiffWorkflow.task import Task

        from engine.adapters import serializer
        config = dict(serializer._STATE_CONFIG)
        config[Task] = TaskConverter
        _STOCK_STATE.append(BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config)))
    return _STOCK_STATE[0]


# -- (a) and (b): the engine --------------------------------------------------------------------
def empty_caches(runtime: Any) -> None:
    """Everything a process keeps between commands: what a restart or another worker lacks."""
    from engine.adapters import queries
    from engine.adapters.serializer import LIVE_WORKFLOWS
    from engine.runtime import SpecCache
    LIVE_WORKFLOWS.clear()
    queries.CASE_VARIABLES.clear()
    runtime.specs = SpecCache()


def deploy_files(runtime: Any, files: dict[str, bytes]) -> None:
    """All files of a scenario as one deployment (call activities may cross files, any order)."""
    from engine.services import definitions
    from engine.domain.access import Actor
    with runtime.unit_of_work() as uow:
        definitions.deploy_files(uow, Actor("dora", "designer"), [(data, name) for name, data in files.items()])
        uow.commit()


#: Figures of an open case's summary row the upkeep refreshes only with the case (see above).
_LAGGING = ("items", "stage_items", "batches", "stop_days", "elapsed_days", "serial_limit_days",
            "serial_actual_days", "body_days", "critical_days")


def _differences(one: Any, other: Any) -> Any:
    """What `one` has that `other` has not (values of nested dicts compared key by key)."""
    if isinstance(one, dict) and isinstance(other, dict):
        return {k: _differences(v, other.get(k)) for k, v in one.items() if v != other.get(k)}
    if isinstance(one, tuple) and isinstance(other, tuple):
        return tuple(_differences(a, b) for a, b in zip(one, other))
    return one


class EngineDriver(Driver):
    """The engine's own commands, one unit of work per step; `runtimes` take turns (workers)."""

    def __init__(self, runtimes: list[Any], clock: Any, scenario: Scenario, cold: bool, label: str) -> None:
        from engine.domain.access import Actor
        self.runtimes, self.clock, self.scenario, self.cold = runtimes, clock, scenario, cold
        self.meta = metadata(scenario.files)
        self.turn = 0
        self.admin, self.agent = Actor("root", "admin"), Actor("alice", "agent")
        self.step_events: list[list[tuple[str, str | None]]] = []
        self.last_event = 0
        self.clock.set(START)
        deploy_files(runtimes[0], scenario.files)
        from engine.services import cases
        with self._uow() as uow:
            started = cases.start_case(uow, self.agent, scenario.process, scenario.key,
                                       project=scenario.project, variables=deepcopy(scenario.variables))
            self.case_id = started.case.id
            uow.commit()
        self._collect_events()

    @property
    def runtime(self) -> Any:
        return self.runtimes[self.turn % len(self.runtimes)]

    def _uow(self) -> Any:
        self.turn += 1
        if self.cold:
            empty_caches(self.runtime)
        return self.runtime.unit_of_work()

    def _case(self, uow: Any) -> Any:
        from engine.adapters.models import Case
        return uow.session.get(Case, self.case_id)

    def workflow(self, uow: Any) -> BpmnWorkflow:
        """The case's workflow as saved (loaded for reading; no cache is touched)."""
        from engine.adapters.serializer import load_specs, load_state
        from engine.adapters.models import Definition
        case = self._case(uow)
        spec, subprocess_specs = load_specs(uow.session.get(Definition, case.definition_id).spec_json)
        return load_state(case.state, spec, subprocess_specs)

    def ready(self) -> list[tuple[tuple, Any]]:
        with self.runtimes[0].unit_of_work(write=False) as uow:
            workflow = self.workflow(uow)
            return sorted(((task_key(t, self.meta), str(t.id)) for t in ready_manual(workflow)),
                          key=lambda e: e[0])

    def failed(self) -> bool:
        with self.runtimes[0].unit_of_work(write=False) as uow:
            case = self._case(uow)
            return bool(case.error) or case.status not in ("running", "suspended")

    def complete(self, handle: str, data: dict[str, Any]) -> None:
        from engine.services import cases
        with self._uow() as uow:
            cases.complete_task(uow, self.admin, handle, data)
            uow.commit()
        self._collect_events()

    def message(self, name: str, payload: Any) -> None:
        from engine.services import cases
        with self._uow() as uow:
            cases.deliver_message(uow, self.agent, self.case_id, name, payload)
            uow.commit()
        self._collect_events()

    def advance(self, delta: timedelta) -> None:
        from engine.services import timers
        self.clock.advance(seconds=delta.total_seconds())
        self.turn += 1
        if self.cold:
            empty_caches(self.runtime)
        timers.run_due(self.runtime)
        self._collect_events()

    def external(self, topic: str, data: dict[str, Any]) -> int:
        from engine.domain.access import Actor
        from engine.services import external_tasks
        worker = Actor("harness", "worker")
        with self._uow() as uow:
            fetched = external_tasks.fetch_and_lock(uow, worker, "harness", [{"topicName": topic,
                                                                              "lockDuration": 60_000}], 100)
            uow.commit()
        with self.runtimes[0].unit_of_work(write=False) as uow:  # the same order as the raw run
            workflow = self.workflow(uow)
            order = {str(t.id): task_key(t, self.meta) for t in all_tasks(workflow)}
        for task in sorted(fetched, key=lambda f: order[f.row.id]):
            with self._uow() as uow:
                external_tasks.complete(uow, worker, task.row.id, "harness", deepcopy(data))
                uow.commit()
        self._collect_events()
        return len(fetched)

    def _check_saved_state(self) -> None:
        """The saved text is exactly what SpiffWorkflow's stock task converter writes for the
        workflow read back from it (`FastTaskConverter`'s shortcuts change nothing)."""
        with self.runtimes[0].unit_of_work(write=False) as uow:
            saved = json.loads(self._case(uow).state)
            stock = json.loads(stock_state_serializer().serialize_json(self.workflow(uow)))
        assert stock == saved, f"{self.scenario.name}: the fast task converter wrote another state than the stock one"

    def _check_statistics(self) -> None:
        """The statistics' summary rows the commands kept (`statistics_upkeep.before_commit`, with
        its shortcuts: rows computed in memory, no reads for a case being started) equal those a
        rebuild computes from the task rows, after every step (the rebuild is rolled back)."""
        from sqlalchemy import select

        from engine.adapters.models import StatCase, StatItem
        from engine.services import statistics_upkeep

        def snapshot(uow: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
            items = {r.key: {c.name: getattr(r, c.name) for c in StatItem.__table__.columns if c.name != "id"}
                     for r in uow.session.scalars(select(StatItem).where(StatItem.case_id == self.case_id))}
            row = uow.session.get(StatCase, self.case_id)
            return items, ({c.name: getattr(row, c.name) for c in StatCase.__table__.columns}
                           if row is not None else None)

        with self.runtimes[0].unit_of_work() as uow:
            kept = snapshot(uow)
            if kept[1] is not None and kept[1]["status"] == "open":
                # an open case's row is refreshed when the case or its own steps change, or the
                # case closes (not for every item's change): compare what it keeps up to date
                for name in _LAGGING:
                    kept[1].pop(name)
            statistics_upkeep.rebuild(uow, [self.case_id])
            uow.session.expire_all()
            rebuilt = snapshot(uow)
            uow.rollback()
        if kept[1] is not None and rebuilt[1] is not None and rebuilt[1]["status"] == "open":
            for name in _LAGGING:
                rebuilt[1].pop(name, None)
        assert kept == rebuilt, (f"{self.scenario.name}: the summary rows kept differ from a rebuild: "
                                 f"kept {_differences(kept, rebuilt)}, rebuilt {_differences(rebuilt, kept)}")

    def _collect_events(self) -> None:
        if self.cold:
            self._check_saved_state()
        self._check_statistics()
        from sqlalchemy import select

        from engine.adapters.models import Event
        with self.runtimes[0].unit_of_work(write=False) as uow:
            rows = list(uow.session.execute(
                select(Event.id, Event.type, Event.element_id)
                .where(Event.case_id == self.case_id, Event.id > self.last_event).order_by(Event.id)))
        if rows:
            self.last_event = rows[-1][0]
        self.step_events.append(sorted((kind, element) for _, kind, element in rows))

    def outcome(self, actions: list[str]) -> Outcome:
        from sqlalchemy import select

        from engine.adapters import queries
        from engine.adapters.models import Task
        if self.cold:
            empty_caches(self.runtime)
        with self.runtime.unit_of_work(write=False) as uow:
            case = self._case(uow)
            data = queries.case_variables(uow, case)
            workflow = self.workflow(uow)
            rows = sorted((r.element_id, r.state, r.department, canonical(r.item))
                          for r in uow.session.scalars(select(Task).where(Task.case_id == self.case_id)))
            error_element = case.error.split(":")[0] if case.error else None
            status = "error" if case.error else case.status
        with self.runtime.unit_of_work() as uow:  # free the business key for the next run
            self._case(uow).open_key = None
            uow.commit()
        return Outcome(status, error_element, json.loads(canonical(data)), completed_elements(workflow),
                       rows, self.step_events, actions)


def run_engine(runtimes: list[Any], clock: Any, scenario: Scenario, cold: bool, label: str) -> Outcome:
    driver = EngineDriver(runtimes, clock, scenario, cold, label)
    return driver.outcome(driver.play())


# -- (c): SpiffWorkflow alone -------------------------------------------------------------------
class _RawClock:
    """The raw run's clock. SpiffWorkflow alone reads the system clock (`datetime.now` for its
    timers, `time.time` for a task's `last_state_change`, which orders the merged variables), so
    each step runs with the system clock moved to the scenario's instant (`time_machine`): the
    library is neither subclassed nor patched. The clock ticks during a step and never goes back
    between steps (a step starts at the scenario's instant or where the last one ended, if later),
    so SpiffWorkflow's order of task changes stays real; a timer is thus compared a few
    milliseconds after the instant, and a scenario should not advance exactly onto a due instant
    (the corpus's advances fall between). A date without a zone: SpiffWorkflow reads it in the
    server's zone, the engine in Beijing time; the corpus's dates carry their offset."""

    def __init__(self) -> None:
        self.now = START
        self.resume = START

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def _system_clock_at(clock: _RawClock) -> Any:
    with time_machine.travel(max(clock.now, clock.resume), tick=True):
        try:
            yield
        finally:
            clock.resume = datetime.now(timezone.utc)


class _ExternalCamundaParser(CamundaParser):
    """SpiffWorkflow's Camunda parser with a service task that waits until completed, as any
    SpiffWorkflow user models an asynchronous service (`camunda:type="external"`); service
    tasks take its Camunda task parser (which reads `camunda:collection`), as user tasks do."""

    OVERRIDE_PARSER_CLASSES = {**BpmnParser.PARSER_CLASSES, **CamundaParser.OVERRIDE_PARSER_CLASSES,
                               f"{{{BPMN_NS}}}serviceTask": (CamundaTaskParser, ServiceTask)}


def _raw_external() -> dict:
    from engine.domain.bpmn import external_task_spec
    external_task_spec.install(_ExternalCamundaParser.OVERRIDE_PARSER_CLASSES)
    config = dict(CAMUNDA_CONFIG)
    external_task_spec.register(config)
    return config


_RAW_CAMUNDA_CONFIG = _raw_external()


class RawDriver(Driver):
    """SpiffWorkflow 3.2 with its stock serializer; a JSON round trip before every step."""

    def __init__(self, scenario: Scenario) -> None:
        from engine.domain.forms import FormRegistry
        from engine.domain.organisation import Organisation
        self.scenario = scenario
        self.meta = metadata(scenario.files)
        self.forms = FormRegistry.load()
        self.organisation = Organisation.load()
        self.clock = _RawClock()
        camunda = scenario.raw_parser == "camunda"
        parser = _ExternalCamundaParser() if camunda else BpmnParser()
        for name, data in scenario.files.items():
            if name.endswith(".dmn"):  # a decision table (SpiffWorkflow's own DMN engine decides)
                parser.add_dmn_str(data, filename=name)
            else:
                parser.add_bpmn_str(data, filename=name)
        spec = parser.get_spec(scenario.process)
        subprocess_specs = parser.get_subprocess_specs(scenario.process)
        self.serializer = BpmnWorkflowSerializer(
            BpmnWorkflowSerializer.configure(_RAW_CAMUNDA_CONFIG if camunda else DEFAULT_CONFIG))
        self.rows: dict[Any, list[Any]] = {}
        self.step_events: list[list[tuple[str, str | None]]] = []
        self.error_element: str | None = None
        self.workflow = BpmnWorkflow(spec, subprocess_specs)
        events: list[tuple[str, str | None]] = [("started", None)]
        initial = {"project": scenario.project, "business_key": scenario.key,
                   **deepcopy(scenario.variables)}
        for task in self.workflow.get_tasks(end_at_spec="Start"):
            task.data.update(initial)
        self._engine_steps(events)
        self._finish(events)

    def _round_trip(self) -> None:
        self.workflow = self.serializer.deserialize_json(self.serializer.serialize_json(self.workflow))

    def _meta(self, task: Any) -> dict[str, Any]:
        return self.meta.get(task.task_spec.bpmn_id or "", {})

    def _error(self, error: Exception, events: list) -> None:
        task = getattr(error, "task", None)
        element = task.task_spec.bpmn_id if task is not None else None
        self.error_element = element
        events.append(("error", element))
        if task is not None and task.id not in self.rows:
            self.rows[task.id] = [element, "error", None, canonical(item_of(task, self._meta(task)))]

    def _engine_steps(self, events: list) -> None:
        try:
            with _system_clock_at(self.clock):
                self.workflow.do_engine_steps()
        except SpiffWorkflowException as error:
            self._error(error, events)

    def _sync(self, events: list) -> None:
        """As `CaseWorkflow.sync`: rows for newly ready tasks, close rows whose tasks went away."""
        from engine.domain import routing
        from engine.errors import DomainError
        ready = ready_manual(self.workflow)
        ready_ids = set()
        for task in ready:
            ready_ids.add(task.id)
            if task.id in self.rows and self.rows[task.id][1] == "ready":
                continue
            meta = self._meta(task)
            try:
                department = routing.resolve_department(meta, getattr(task.task_spec, "lane", None),
                                                        task.data, self.organisation)
            except DomainError:
                self.error_element = task.task_spec.bpmn_id
                events.append(("error", task.task_spec.bpmn_id))
                self.rows[task.id] = [task.task_spec.bpmn_id, "error", None, canonical(item_of(task, meta))]
                continue
            self.rows[task.id] = [task.task_spec.bpmn_id, "ready", department, canonical(item_of(task, meta))]
            events.append(("task_created", task.task_spec.bpmn_id))
        for task_id, row in self.rows.items():
            if row[1] == "ready" and task_id not in ready_ids:
                task = self.workflow.get_task_from_id(task_id)
                row[1] = "completed" if task is not None and task.state == TaskState.COMPLETED else "cancelled"
                events.append((f"task_{row[1]}", row[0]))

    def _finish(self, events: list) -> None:
        self._sync(events)
        if self.workflow.is_completed() and self.error_element is None:
            events.append(("completed", None))
        self.step_events.append(sorted(events))

    def ready(self) -> list[tuple[tuple, Any]]:
        return sorted(((task_key(t, self.meta), t.id) for t in ready_manual(self.workflow)), key=lambda e: e[0])

    def external(self, topic: str, data: dict[str, Any]) -> int:
        from engine.domain.bpmn.external_task_spec import ExternalTask
        self._round_trip()
        waiting = sorted((t for t in all_tasks(self.workflow) if isinstance(t.task_spec, ExternalTask)
                          and t.state == TaskState.STARTED and t.task_spec.topic == topic),
                         key=lambda t: task_key(t, self.meta))
        events: list[tuple[str, str | None]] = []
        for task in waiting:
            task.data.update(deepcopy(data))
            task.complete()
            self._engine_steps(events)
        self._finish(events)
        return len(waiting)

    def failed(self) -> bool:
        return self.error_element is not None or self.workflow.is_completed()

    def complete(self, handle: Any, data: dict[str, Any]) -> None:
        self._round_trip()
        task = self.workflow.get_task_from_id(handle)
        meta = self._meta(task)
        form_key = meta.get("formKey")
        if form_key and form_key in self.forms:
            data = self.forms.validate(form_key, data)
        events: list[tuple[str, str | None]] = []
        task.data.update(data)
        if form_key:  # as `CaseWorkflow._keep_form_data`
            task.data[form_key] = deepcopy(data)
            name = item_name(task, meta)
            item = task.data.get(name) if name else None
            if isinstance(item, dict):
                item[form_key] = deepcopy(data)
        self.rows[task.id][1] = "completed"
        events.append(("task_completed", task.task_spec.bpmn_id))
        try:
            with _system_clock_at(self.clock):
                task.run()
        except SpiffWorkflowException as error:
            self._error(error, events)
        else:
            self._engine_steps(events)
        self._finish(events)

    def message(self, name: str, payload: Any) -> None:
        self._round_trip()
        events: list[tuple[str, str | None]] = [("message_received", None)]
        self.workflow.send_event(BpmnEvent(MessageEventDefinition(name), {"payload": payload, "result_var": name}))
        self._engine_steps(events)
        self._finish(events)

    def advance(self, delta: timedelta) -> None:
        self._round_trip()
        self.clock.now += delta
        events: list[tuple[str, str | None]] = []
        before = waiting_timers(self.workflow)
        if before:
            with _system_clock_at(self.clock):
                self.workflow.refresh_timers()
            self._engine_steps(events)
            for task, signature in before.values():
                value = task._get_internal_data("event_value")
                now = (value.get("cycles"), value.get("next")) if isinstance(value, dict) else value
                if task.state != TaskState.WAITING or now != signature:
                    events.append(("timer_fired", task.task_spec.bpmn_id))
        self._finish(events)

    def outcome(self, actions: list[str]) -> Outcome:
        self._round_trip()
        status = "error" if self.error_element else ("completed" if self.workflow.is_completed() else "running")
        rows = sorted(tuple(r) for r in self.rows.values())
        return Outcome(status, self.error_element, merged_variables(self.workflow),
                       completed_elements(self.workflow), rows, self.step_events, actions)


def run_raw(scenario: Scenario) -> Outcome:
    driver = RawDriver(scenario)
    return driver.outcome(driver.play())


# -- comparing ----------------------------------------------------------------------------------
def differences(a: Outcome, b: Outcome, names: tuple[str, str]) -> list[str]:
    """Readable differences between two outcomes (empty: identical)."""
    found = []
    for attr in ("status", "error_element", "actions", "completed", "rows", "data", "events"):
        left, right = getattr(a, attr), getattr(b, attr)
        if left != right:
            if isinstance(left, dict) and isinstance(right, dict):
                keys = sorted(k for k in set(left) | set(right) if left.get(k) != right.get(k))
                detail = "; ".join(f"{k}: {canonical(left.get(k))[:300]} != {canonical(right.get(k))[:300]}"
                                   for k in keys[:5])
            elif isinstance(left, list) and isinstance(right, list):
                first = next((i for i, (x, y) in enumerate(zip(left, right)) if x != y), min(len(left), len(right)))
                detail = (f"first difference at [{first}] of {len(left)}/{len(right)}: "
                          f"{left[first] if first < len(left) else '-'} != {right[first] if first < len(right) else '-'}")
            else:
                detail = f"{left!r} != {right!r}"
            found.append(f"{attr} ({names[0]} vs {names[1]}): {detail}")
    return found


def three_way(runtime: Any, clock: Any, scenario: Scenario) -> dict[str, Outcome]:
    """Run (a) warm, (b) cold and (c) raw; raise AssertionError listing every difference."""
    warm = run_engine([runtime], clock, scenario, cold=False, label="warm")
    cold = run_engine([runtime], clock, scenario, cold=True, label="cold")
    raw = run_raw(scenario)
    problems = differences(warm, cold, ("warm", "cold"))
    problems += differences(cold.mirrored(), raw.mirrored(), ("cold", "raw"))
    assert not problems, f"{scenario.name}:\n  " + "\n  ".join(problems)
    return {"warm": warm, "cold": cold, "raw": raw}

