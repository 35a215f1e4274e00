"""BPMN timers, SLA transitions and escalations: the jobs table and the worker that runs it.

- SpiffWorkflow's timer events read `datetime.now()`; `install_clock()` points them at the
  runtime clock of the case being worked on (a `datetime` subclass in the timer module's
  namespace, no patched library), so tests move time with the injected clock.
- `schedule_case` (called by `CaseWorkflow.save()`) writes one `timer_jobs` row per thing
  that must happen later: a waiting BPMN timer (`timer`), the next warning transition of a
  timed task (`sla`), the next escalation level (`escalation`). It diffs against the rows
  already there, so an unchanged job keeps its claim.
- `Worker.run_once` claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single
  writer lock does the same job) with a lease, then `tick`s each case under its row lock:
  refresh timers, run, sync, SLA transitions, deemed consent, escalations, save. A tick is
  idempotent — a timer that fired is no longer waiting — so a job run twice (lease expired,
  worker killed mid-batch) changes nothing the second time.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import socket
import threading
import time as _time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, update
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              TimerEventDefinition)
from SpiffWorkflow.util.task import TaskState

from engine import history, sandbox
from engine.store.models import Case, Escalation, StartTimer, Task, TimerJob
from engine.time import deadlines, escalation
from engine.services import event_catalogue

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.store.uow import UnitOfWork
    from engine.workflow import CaseWorkflow

log = logging.getLogger("onewindow.worker")

# --------------------------------------------------------------------------- the clock SpiffWorkflow sees

_clock: contextvars.ContextVar[Callable[[], datetime] | None] = contextvars.ContextVar(
    "onewindow_clock", default=None)


class _ClockedDatetime(datetime):
    """`datetime` whose `now()` is the runtime clock of the case being worked on."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        clock = _clock.get()
        moment = clock() if clock is not None else datetime.now(timezone.utc)
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


def install_clock() -> None:
    """Make SpiffWorkflow's timer events use `use_clock`'s clock; naive timer dates are Beijing time."""
    if _spiff_timer.datetime is not _ClockedDatetime:
        _spiff_timer.datetime = _ClockedDatetime
        _spiff_timer.LOCALTZ = timezone(timedelta(hours=8))


@contextlib.contextmanager
def clock_scope(clock: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, SpiffWorkflow's timer events read `clock` (the runtime's)."""
    install_clock()
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)


install_clock()

# --------------------------------------------------------------------------- what is due when


def _timer_tasks(workflow: Any) -> list[Any]:
    out = []
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition) and task.state == TaskState.WAITING:
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
            moment = TimerEventDefinition.parse_time_or_duration(value)
        if not isinstance(moment, datetime):
            return now
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_spiff_timer.LOCALTZ)
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
    if case.status != "running":
        return {}
    wanted = _bpmn_timer_jobs(workflow, uow.runtime.clock())
    rows = uow.session.execute(select(Task.id, Task.sla, Task.warn_at, Task.due_at).where(
        Task.case_id == case.id, Task.state == "ready", Task.due_at.is_not(None),
        Task.clock_stopped_at.is_(None)))
    for task_id, sla, warn_at, due_at in rows:
        if sla in (None, "normal") and warn_at is not None and warn_at < due_at:
            wanted[("sla", task_id)] = warn_at
        elif sla != "red":
            wanted[("sla", task_id)] = due_at
    for task_id, next_at in uow.session.execute(select(Escalation.task_id, Escalation.next_at).where(
            Escalation.case_id == case.id, Escalation.status == "open", Escalation.next_at.is_not(None))):
        wanted[("escalation", task_id)] = next_at
    return wanted


def schedule_case(uow: "UnitOfWork", case: Case, workflow: Any | None = None) -> None:
    """Bring the case's `timer_jobs` rows in line with what is due (from `save()` and the worker).

    A case that never had a timed task nor a job (`case.timed` false) and has no waiting BPMN
    timer can have no rows to change: it costs no query (issue 6: 4 of a completion's 11).
    """
    now = uow.runtime.clock()
    if workflow is None and case.status == "running" and case.state:
        from engine.workflow import CaseWorkflow
        workflow = CaseWorkflow.load(uow, case).workflow
    if not case.timed:
        if case.status != "running" or not _bpmn_timer_jobs(workflow, now):
            return
        case.timed = True
    escalation.resolve_for_closed_tasks(uow, case.id, now)
    wanted = desired_jobs(uow, case, workflow)
    existing = {(j.kind, j.task_id): j for j in uow.session.scalars(
        select(TimerJob).where(TimerJob.case_id == case.id))}
    for key, job in existing.items():
        due = wanted.get(key)
        if due is None:
            uow.session.delete(job)
        elif job.due_at != due:
            job.due_at, job.claimed_by, job.lease_until, job.attempts = due, None, None, 0
    for key, due in wanted.items():
        if key not in existing:
            uow.session.add(TimerJob(case_id=case.id, kind=key[0], task_id=key[1], due_at=due,
                                     attempts=0))


def schedule(flow: "CaseWorkflow") -> None:
    schedule_case(flow.uow, flow.case, flow.workflow)


# --------------------------------------------------------------------------- one wake-up of one case


def tick(uow: "UnitOfWork", case_id: str) -> dict[str, int]:
    """Everything due for one case at the runtime clock's now, under the case lock. Idempotent."""
    from engine.workflow import CaseWorkflow

    case = uow.lock_case(case_id)
    if case.status != "running":
        schedule_case(uow, case, None)
        return {"timers": 0, "sla": 0, "escalations": 0, "consents": 0}
    flow = CaseWorkflow.load(uow, case)
    flow.actor = "system"
    return tick_flow(flow)


def tick_flow(flow: "CaseWorkflow") -> dict[str, int]:
    """`tick` on a loaded workflow (also what an operator's retry runs, `engine/repair.py`):
    fire due timers, run, sync rows, SLA transitions, deemed consent, escalations, save."""
    uow, case = flow.uow, flow.case
    counts = {"timers": 0, "sla": 0, "escalations": 0, "consents": 0}
    now = uow.runtime.clock()

    before = {str(t.id): (t, _timer_signature(t)) for t in _timer_tasks(flow.workflow)}
    flow.run(refresh_timers=True)  # a timer that cannot fire becomes an incident, as any step
    for task_id, (task, signature) in before.items():
        if task.state == TaskState.ERROR:
            continue
        if task.state != TaskState.WAITING or _timer_signature(task) != signature:
            counts["timers"] += 1
            history.record(uow, case.id, "timer_fired", "system", task_id=task_id,
                           element_id=task.task_spec.bpmn_id,
                           data={"name": getattr(task.task_spec.event_definition, "name", None),
                                 "cycle": isinstance(task.task_spec.event_definition,
                                                     CycleTimerEventDefinition)})
    flow.sync()

    consented = _sla_pass(uow, flow, case, now, counts)
    if consented:
        flow.sync()
    counts["escalations"] += len(escalation.advance_due(uow, case.id, now))
    flow.save()
    return counts


def _sla_pass(uow: "UnitOfWork", flow: "CaseWorkflow", case: Case, now: datetime,
              counts: dict[str, int]) -> bool:
    consented = False
    rows = list(uow.session.scalars(select(Task).where(
        Task.case_id == case.id, Task.state == "ready", Task.due_at.is_not(None),
        Task.clock_stopped_at.is_(None)).order_by(Task.created_at, Task.id)))
    for row in rows:
        state = deadlines.sla_at(row, now)
        if state == "red" and deadlines.deemed_consent_allowed(row):
            _deem_consent(uow, flow, row, now)
            counts["consents"] += 1
            consented = True
            continue
        if state == row.sla:
            continue
        order = {"normal": 0, "yellow": 1, "red": 2}
        if order.get(state, 0) < order.get(row.sla or "normal", 0):
            continue  # never go back by the clock alone
        row.sla = state
        counts["sla"] += 1
        history.record(uow, case.id, f"sla_{state}", "system", task_id=row.id, element_id=row.element_id,
                       data={"due_at": row.due_at.isoformat(), "department": row.department})
        event_catalogue.task_warning(uow, row, state)  # the outbox (issue 13)
        if state == "red" and deadlines.escalation_enabled(row):
            if escalation.raise_level(uow, row, 1, f"overdue since {row.due_at.isoformat()}") is not None:
                counts["escalations"] += 1
    return consented


def _deem_consent(uow: "UnitOfWork", flow: "CaseWorkflow", row: Task, now: datetime) -> None:
    rules = row.time_rules or {}
    reason = (f"no answer within {row.time_limit} (due {row.due_at.isoformat()}); "
              f"deemed to consent (视为同意)")
    data = rules.get("deemed_consent_data")
    if isinstance(data, str):
        import json
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        data = {"decision": "approve", "opinion": "逾期未答复，视为同意"}
    data = {**data, "deemed_consent": True, "deemed_consent_reason": reason}
    if flow.complete(row.id, data).state == TaskState.ERROR:
        return  # completing it failed: its row is `error` and an incident is open
    row.state, row.completed_at, row.completed_by, row.data = "completed", now, "system", data
    row.sla = "red"
    history.record(uow, row.case_id, "deemed_consent", "system", task_id=row.id,
                   element_id=row.element_id,
                   data={"reason": reason, "department": row.department, "data": data})


# --------------------------------------------------------------------------- the worker


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


class Worker:
    """Claims due jobs and ticks their cases. Several may run against PostgreSQL."""

    def __init__(self, runtime: "Runtime", name: str | None = None, batch: int = 50,
                 lease_seconds: float = 60.0, poll_seconds: float = 1.0,
                 job_delay: float = 0.0) -> None:
        self.runtime = runtime
        self.name = name or _worker_name()
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.job_delay = job_delay  # seconds to sleep between cases (throttling; crash tests)
        self.stopping = threading.Event()
        self.dispatched = 0  # outbox events fanned out in the last round

    def claim(self) -> list[tuple[int, str]]:
        rt = self.runtime
        with rt.unit_of_work() as uow:
            now = rt.clock()
            query = (select(TimerJob.id, TimerJob.case_id)
                     .where(TimerJob.due_at <= now,
                            or_(TimerJob.lease_until.is_(None), TimerJob.lease_until < now))
                     .order_by(TimerJob.due_at, TimerJob.id).limit(self.batch))
            if rt.database.kind == "postgresql":
                query = query.with_for_update(skip_locked=True)
            jobs = [(int(i), str(c)) for i, c in uow.session.execute(query).all()]
            if jobs:
                uow.session.execute(update(TimerJob).where(TimerJob.id.in_([j[0] for j in jobs]))
                                    .values(claimed_by=self.name, lease_until=now + self.lease)
                                    .execution_options(synchronize_session=False))
            uow.commit()
        return jobs

    def run_once(self) -> int:
        """Claim one batch and run it; returns the number of jobs claimed.

        Each case's scripts end within the script time limit (engine.sandbox), so one stuck
        case delays the rest of its batch by that much at most. Should the batch still outlast
        half the lease, the claims on the cases not reached are released for the next round
        (or another worker) instead of expiring while they wait."""
        # the outbox goes out every round; not counted as jobs (`run` looks at `dispatched`)
        self.dispatched = self.dispatch_outbox()
        fired = self.start_cases()
        started = _time.monotonic()
        jobs = self.claim()
        by_case: dict[str, list[int]] = {}
        for job_id, case_id in jobs:
            by_case.setdefault(case_id, []).append(job_id)
        pending = list(by_case.items())
        while pending:
            if self.stopping.is_set() or _time.monotonic() - started > self.lease.total_seconds() / 2:
                self._release([job_id for _, job_ids in pending for job_id in job_ids])
                break
            case_id, job_ids = pending.pop(0)
            self.process(case_id, job_ids)
            if self.job_delay:
                _time.sleep(self.job_delay)
        return len(jobs) + fired

    def dispatch_outbox(self) -> int:
        """Fan published events out to in-app notifications and webhook deliveries (issue 13)."""
        from engine.services import notifications
        with self.runtime.unit_of_work() as uow:
            count = notifications.dispatch(uow, self.batch)
            uow.commit()
        return count

    def deliver_webhooks(self) -> int:
        """One round of webhook sending (`--once`; otherwise a thread of `run` does it)."""
        return self._deliverer().run_once()

    def _deliverer(self):  # type: ignore[no-untyped-def]
        if getattr(self, "_webhooks", None) is None:
            from engine.services.webhooks import Deliverer
            self._webhooks = Deliverer(self.runtime, self.name, lease=self.lease)
        return self._webhooks

    def _release(self, job_ids: list[int]) -> None:
        """Give back claims this worker will not get to (still ours: nobody else took them)."""
        if not job_ids:
            return
        with self.runtime.unit_of_work() as uow:
            uow.session.execute(update(TimerJob).where(TimerJob.id.in_(job_ids),
                                                       TimerJob.claimed_by == self.name)
                                .values(claimed_by=None, lease_until=None)
                                .execution_options(synchronize_session=False))
            uow.commit()

    def start_cases(self) -> int:
        """Fire due timer start events: each firing opens a case (see `engine.start_timers`)."""
        from engine import incidents, start_timers
        rt = self.runtime
        with rt.unit_of_work() as uow:
            ids = start_timers.claim(uow, self.name, rt.clock(), self.lease, self.batch)
            uow.commit()
        for timer_id in ids:
            if self.stopping.is_set():
                break
            try:
                with rt.unit_of_work() as uow, incidents.raised_by("worker"):
                    start_timers.fire(uow, timer_id)
                    uow.commit()
            except sandbox.ScriptInterrupted:
                log.info("stopped during a script of timer start %s; it will fire again", timer_id)
                self.stop()
                break
            except Exception:  # noqa: BLE001 - one bad process must not stop the worker
                log.exception("timer start %s failed", timer_id)
                with rt.unit_of_work() as uow:
                    start_timers.back_off(uow, timer_id, self.name)
                    uow.commit()
        return len(ids)

    def process(self, case_id: str, job_ids: list[int]) -> None:
        from engine import incidents
        rt = self.runtime
        try:
            with rt.unit_of_work() as uow, incidents.raised_by("worker"):
                tick(uow, case_id)
                self._back_off(uow, job_ids)
                uow.commit()
        except sandbox.ScriptInterrupted:
            # Stopping (SIGTERM) while a script ran: nothing of this tick is kept; the job
            # stays due and its claim is released for the next worker.
            log.info("stopped during a script of case %s; it will run again", case_id)
            self.stop()
            self._release(job_ids)
        except Exception as error:  # noqa: BLE001 - one bad case must not stop the worker
            log.exception("tick of case %s failed", case_id)
            with rt.unit_of_work() as uow:
                self._back_off(uow, job_ids)
                # failing again and again: an incident, and the jobs wait for an operator's retry
                incidents.job_failed(uow, case_id, job_ids, error, self.name)
                uow.commit()

    def _back_off(self, uow: "UnitOfWork", job_ids: list[int]) -> None:
        """Jobs still due after a tick (an error, a strict comparison) wait before the next try."""
        now = uow.runtime.clock()
        uow.session.flush()
        for job in uow.session.scalars(select(TimerJob).where(TimerJob.id.in_(job_ids),
                                                              TimerJob.due_at <= now)):
            job.attempts = (job.attempts or 0) + 1
            job.claimed_by = self.name
            job.lease_until = now + timedelta(seconds=min(2 ** job.attempts, 300))

    def run(self, idle_exit: bool = False, max_seconds: float | None = None) -> None:
        """Loop until stopped (or, with `idle_exit`, until no job is due)."""
        started = _time.monotonic()
        sender = None
        if not idle_exit:  # webhooks go out from their own thread: a slow receiver never delays timers
            sender = threading.Thread(target=self._deliverer().run, args=(self.stopping, self.poll_seconds),
                                      name="webhooks", daemon=True)
            sender.start()
        while not self.stopping.is_set():
            claimed = self.run_once() + self.dispatched
            if idle_exit:
                claimed += self.deliver_webhooks()
            if max_seconds is not None and _time.monotonic() - started > max_seconds:
                break
            if claimed == 0:
                if idle_exit and not self._retrying():
                    break
                self.stopping.wait(self.poll_seconds)
        if sender is not None:
            self.stopping.set()
            sender.join(timeout=30)

    def _retrying(self, max_attempts: int = 5) -> bool:
        """Whether a job this worker backed off from (a failed tick) is still to be retried, so
        `--once` does not exit and leave it behind; a job failing `max_attempts` times is left.
        Timer start events backed off the same way count too."""
        with self.runtime.unit_of_work(write=False) as uow:
            return any(uow.session.scalar(select(table.id).where(
                table.claimed_by == self.name, table.attempts > 0,
                table.attempts < max_attempts).limit(1)) is not None for table in (TimerJob, StartTimer))

    def stop(self) -> None:
        self.stopping.set()


def pending_jobs(uow: "UnitOfWork", case_id: str | None = None) -> list[TimerJob]:
    query = select(TimerJob).order_by(TimerJob.due_at, TimerJob.id)
    if case_id is not None:
        query = query.where(TimerJob.case_id == case_id)
    return list(uow.session.scalars(query))


def run_due(runtime: "Runtime", max_rounds: int = 20) -> int:
    """Run every job due at the runtime clock now (tests, the CLI's --once). Returns jobs run."""
    worker = Worker(runtime, name="inline", batch=500)
    total = 0
    for _ in range(max_rounds):
        claimed = worker.run_once()
        total += claimed
        if claimed == 0:
            break
    return total


__all__ = ["Worker", "tick", "tick_flow", "schedule", "schedule_case", "run_due", "install_clock", "clock_scope",
           "pending_jobs", "delete"]
