"""The `timer_jobs` rows a case needs: what is due when.

`schedule_case` (from `CaseWorkflow.save()`, and for a `TimersChanged` event) writes one row per
thing that must happen later: a waiting BPMN timer (`timer`), the next warning transition of a
timed task (`sla`), the next escalation level (`escalation`). It diffs against the rows already
there, so an unchanged job keeps its claim. The worker that runs the rows is `engine.services.timers`.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              TimerEventDefinition)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.adapters.models import Case, TimerJob
from engine.domain.bpmn.timer_events import BEIJING, ClockedTimerEventDefinition
from engine.domain.states import CaseStatus
from engine.services import escalation

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork
    from engine.services.workflow import CaseWorkflow



def _is_timer(definition: Any) -> bool:
    """A timer, or an event-based gateway waiting on one (SpiffWorkflow waits on the gateway with
    a `Multiple` event that holds the timer's value)."""
    if isinstance(definition, MultipleEventDefinition):
        return any(isinstance(d, TimerEventDefinition) for d in definition.event_definitions)
    return isinstance(definition, TimerEventDefinition)


def _timer_tasks(workflow: Any) -> list[Any]:
    out = []
    for task in list(workflow.event_manager.tasks.values()):
        if _is_timer(getattr(task.task_spec, "event_definition", None)) and task.state == TaskState.WAITING:
            out.append(task)
    return out


def mark_fired(task: Any, now: datetime) -> None:
    """Let a timer start event that already fired (it opened the case) pass at once.

    A date or duration timer takes SpiffWorkflow's `event_fired`; a cycle instead gets one
    last repetition due a moment ago, since a cycle's outgoing path is only created when a
    repetition fires (and it completes once no repetition is left)."""
    if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
        task._set_internal_data(event_value={"cycles": 1, "duration": 1.0,
                                             "next": (now - timedelta(seconds=1)).isoformat()})
    else:
        task._set_internal_data(event_fired=True)


def timer_due(task: Any, now: datetime) -> datetime:
    """When a waiting timer task fires (its event value; `now` if not evaluated yet)."""
    value = task._get_internal_data("event_value")
    if value is None:
        return now
    try:
        if isinstance(value, dict):  # cycle: {'cycles', 'next', 'duration'}
            if value.get("cycles") == 0:
                return now
            moment = datetime.fromisoformat(value["next"])
        else:
            moment = ClockedTimerEventDefinition.parse_time_or_duration(value)
        if not isinstance(moment, datetime):
            return now
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=BEIJING)
        # SpiffWorkflow compares with a strict '<': wake a moment after.
        return datetime.fromtimestamp(moment.timestamp(), timezone.utc) + timedelta(microseconds=1000)
    except (ValueError, TypeError, KeyError):
        return now


def _timer_signature(task: Any) -> Any:
    value = task._get_internal_data("event_value")
    return (value.get("cycles"), value.get("next")) if isinstance(value, dict) else value


def _bpmn_timer_jobs(workflow: Any | None, now: datetime) -> dict[tuple[str, str], datetime]:
    """The waiting BPMN timers of a workflow and when they fire (no database)."""
    wanted: dict[tuple[str, str], datetime] = {}
    if workflow is None:
        return wanted
    for task in _timer_tasks(workflow):
        value = task._get_internal_data("event_value")
        if task._get_internal_data("event_fired") or (isinstance(value, dict) and value.get("cycles") == 0):
            continue  # a cycle that has run all its repetitions
        wanted[("timer", str(task.id))] = timer_due(task, now)
    return wanted


def desired_jobs(uow: "UnitOfWork", case: Case, workflow: Any | None) -> dict[tuple[str, str], datetime]:
    """Every job the case needs now: BPMN timers, next SLA transitions, next escalation levels."""
    if case.status != CaseStatus.RUNNING:
        return {}
    wanted = _bpmn_timer_jobs(workflow, uow.runtime.clock())
    for task_id, sla, warn_at, due_at in uow.tasks.running_clock_dates(case.id):
        if sla in (None, "normal") and warn_at is not None and warn_at < due_at:
            wanted[("sla", task_id)] = warn_at
        elif sla != "red":
            wanted[("sla", task_id)] = due_at
    for task_id, next_at in uow.escalations.next_levels(case.id):
        wanted[("escalation", task_id)] = next_at
    return wanted


def schedule_case(uow: "UnitOfWork", case: Case, workflow: Any | None) -> None:
    """Bring the case's `timer_jobs` rows in line with what is due (from `save()` and the worker);
    `workflow` is the running case's loaded workflow (None for a case that no longer runs).

    A case that never had a timed task nor a job (`case.timed` false) and has no waiting BPMN
    timer can have no rows to change: it costs no query (issue 6: 4 of a completion's 11).
    """
    now = uow.runtime.clock()
    if workflow is None and case.status == CaseStatus.RUNNING and case.state:
        # its waiting BPMN timers would be dropped; `timers.schedule_case` loads the workflow
        raise ValueError(f"schedule_case needs the workflow of running case {case.id}")
    if not case.timed:
        if case.status != CaseStatus.RUNNING or not _bpmn_timer_jobs(workflow, now):
            return
        case.timed = True
    escalation.resolve_for_closed_tasks(uow, case.id, now)
    wanted = desired_jobs(uow, case, workflow)
    existing = {(j.kind, j.task_id): j for j in uow.jobs.of_case(case.id)}
    for key, job in existing.items():
        due = wanted.get(key)
        if due is None:
            uow.jobs.delete(job)
        elif job.due_at != due:
            job.due_at, job.claimed_by, job.lease_until, job.attempts = due, None, None, 0
    for key, due in wanted.items():
        if key not in existing:
            uow.jobs.add(TimerJob(case_id=case.id, kind=key[0], task_id=key[1], due_at=due,
                                     attempts=0))


def schedule(flow: "CaseWorkflow") -> None:
    """`schedule_case` for a loaded workflow (its `save()`)."""
    schedule_case(flow.uow, flow.case, flow.workflow)


def pending_jobs(uow: "UnitOfWork", case_id: str | None = None) -> list[TimerJob]:
    return uow.jobs.pending(case_id)
