"""The worker: it runs the `timer_jobs` rows (BPMN timers, SLA transitions, escalations) and
fires timer start events.

- `Worker.run_once` claims due rows from the lease queue (`engine.adapters.lease_queue`, the
  same for `timer_jobs` and `start_timers`), then `tick`s each case under its row lock: refresh
  timers, run, sync, SLA transitions, deemed consent, escalations, save. A tick is idempotent —
  a timer that fired is no longer waiting — so a job run twice (lease expired, worker killed
  mid-batch) changes nothing the second time.
- Which rows a case needs is `engine.services.timer_jobs`; the clock SpiffWorkflow's timers
  read is `engine.adapters.spiff_clock` (`clock_scope`). Both are re-exported here for callers of the worker.
- `schedule_case` also answers the `TimersChanged` event (a clock stopped or resumed, an
  escalation resolved, a case resumed, a year's calendar loaded): it loads the workflow of a
  running case so its waiting BPMN timers are kept.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time as _time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete

from engine.adapters import history, lease_queue, sandbox
from engine.adapters.models import Case, StartTimer, Task, TimerJob
from engine.adapters.spiff_clock import clock_scope
from engine.domain.access import SYSTEM
from engine.domain.events import TimersChanged
from engine.domain.states import CaseStatus, TaskStatus
from engine.services import (case_migration, cases, deadlines, escalation, event_catalogue, incidents, notifications,
                             retention,
                             questions, start_timers, timer_jobs)
from engine.services.webhooks import Deliverer
from engine.services.timer_jobs import _timer_signature, _timer_tasks, pending_jobs, schedule
from engine.services.workflow import CaseWorkflow

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork
    from engine.runtime import Runtime

log = logging.getLogger("onewindow.worker")


def schedule_case(uow: "UnitOfWork", case: Case, workflow: Any | None = None) -> None:
    """`timer_jobs.schedule_case`, loading the workflow of a running case when not given."""
    if workflow is None and case.status == CaseStatus.RUNNING and case.state:
        workflow = CaseWorkflow.load(uow, case).workflow
    timer_jobs.schedule_case(uow, case, workflow)


def on_timers_changed(uow: "UnitOfWork", event: TimersChanged) -> None:
    """What is due for the case changed: bring its `timer_jobs` rows in line."""
    case = uow.cases.get(event.case_id)
    if case is not None:
        schedule_case(uow, case)


# --------------------------------------------------------------------------- one wake-up of one case


def tick(uow: "UnitOfWork", case_id: str) -> dict[str, int]:
    """Everything due for one case at the runtime clock's now, under the case lock. Idempotent."""
    case = uow.lock_case(case_id)
    if case.status != CaseStatus.RUNNING:
        timer_jobs.schedule_case(uow, case, None)
        return {"timers": 0, "sla": 0, "escalations": 0, "consents": 0}
    flow = CaseWorkflow.load(uow, case)
    flow.actor = "system"
    return tick_flow(flow)


def tick_flow(flow: "CaseWorkflow") -> dict[str, int]:
    """`tick` on a loaded workflow (also what an operator's retry runs, `engine/services/repair.py`):
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
    rows = uow.tasks.running_clocks(case.id)
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
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        data = {"decision": "approve", "opinion": "逾期未答复，视为同意"}
    data = {**data, "deemed_consent": True, "deemed_consent_reason": reason}
    if flow.complete(row.id, data).state == TaskState.ERROR:
        return  # completing it failed: its row is `error` and an incident is open
    row.state, row.completed_at, row.completed_by, row.data = TaskStatus.COMPLETED, now, "system", data
    row.sla = "red"
    history.record(uow, row.case_id, "deemed_consent", "system", task_id=row.id,
                   element_id=row.element_id,
                   data={"reason": reason, "department": row.department, "data": data})


# --------------------------------------------------------------------------- timer start events


def fire_start_timer(uow: "UnitOfWork", timer_id: int) -> str | None:
    """Start the case of one due firing and move the timer on; returns the case id (None if the
    row is gone or no longer due: another worker got there first)."""
    timer = uow.start_timers.lock(timer_id)
    now = uow.runtime.clock()
    if timer is None or timer.due_at > now:
        return None
    definition = uow.definitions.get(timer.definition_id)
    due = timer.due_at
    started = cases.start_case(uow, SYSTEM, definition.key, start_timers.business_key_for(timer, due),
                               version=definition.version, fired_start_event=timer.element_id)
    skipped = 0
    timer.started = (timer.started or 0) + 1
    if timer.interval_seconds:
        interval = timedelta(seconds=timer.interval_seconds)
        timer.due_at = due + interval
        while timer.due_at <= now and (timer.remaining is None or timer.remaining - skipped > 1):
            timer.due_at += interval
            skipped += 1
    if started.created:
        history.record(uow, started.case.id, "timer_start", SYSTEM.name, element_id=timer.element_id,
                       data={"due_at": due.isoformat(), "skipped": skipped})
    if timer.remaining is not None:
        timer.remaining -= 1 + skipped
    if not timer.interval_seconds or timer.remaining == 0:
        uow.start_timers.delete(timer)
    else:
        timer.claimed_by, timer.lease_until, timer.attempts = None, None, 0
    return started.case.id


# --------------------------------------------------------------------------- the worker


PURGE_EVERY = 6 * 3600  # seconds between a worker's retention purges (the first round purges)


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
        self._webhooks: Deliverer | None = None
        self._purged_at: float | None = None  # monotonic time of this worker's last retention purge

    def claim(self) -> list[tuple[int, str]]:
        rt = self.runtime
        with rt.unit_of_work() as uow:
            jobs = lease_queue.claim(uow, TimerJob, self.name, rt.clock(), self.lease, self.batch,
                                     TimerJob.id, TimerJob.case_id)
            uow.commit()
        return [(int(i), str(c)) for i, c in jobs]

    def run_once(self) -> int:
        """Claim one batch and run it; returns the number of jobs claimed.

        Each case's scripts end within the script time limit (engine.adapters.sandbox), so one stuck
        case delays the rest of its batch by that much at most. Should the batch still outlast
        half the lease, the claims on the cases not reached are released for the next round
        (or another worker) instead of expiring while they wait."""
        # the outbox goes out every round; not counted as jobs (`run` looks at `dispatched`)
        self.dispatched = self.dispatch_outbox()
        fired = self.start_cases() + self.tick_questions()
        fired += case_migration.work(self.runtime, self.batch)  # running cases moved to a new version
        self.purge_if_due()
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
        with self.runtime.unit_of_work() as uow:
            count = notifications.dispatch(uow, self.batch)
            uow.commit()
        return count

    def purge_if_due(self) -> None:
        """Old notification rows go every `PURGE_EVERY` seconds of this worker's life (engine/services/retention.py)."""
        now = _time.monotonic()
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            retention.purge(self.runtime)

    def deliver_webhooks(self) -> int:
        """One round of webhook sending (`--once`; otherwise a thread of `run` does it)."""
        return self._deliverer().run_once()

    def _deliverer(self) -> Deliverer:
        if self._webhooks is None:
            self._webhooks = Deliverer(self.runtime, self.name, lease=self.lease)
        return self._webhooks

    def _release(self, job_ids: list[int]) -> None:
        """Give back claims this worker will not get to (still ours: nobody else took them)."""
        if not job_ids:
            return
        with self.runtime.unit_of_work() as uow:
            lease_queue.release(uow, TimerJob, job_ids, self.name)
            uow.commit()

    def start_cases(self) -> int:
        """Fire due timer start events: each firing opens a case (see `engine.services.start_timers`)."""
        rt = self.runtime
        with rt.unit_of_work() as uow:
            ids = lease_queue.claim(uow, StartTimer, self.name, rt.clock(), self.lease, self.batch)
            uow.commit()
        for timer_id in ids:
            if self.stopping.is_set():
                break
            try:
                with rt.unit_of_work() as uow, incidents.raised_by("worker"):
                    fire_start_timer(uow, timer_id)
                    uow.commit()
            except sandbox.ScriptInterrupted:
                log.info("stopped during a script of timer start %s; it will fire again", timer_id)
                self.stop()
                break
            except Exception:  # noqa: BLE001 - one bad process must not stop the worker
                log.exception("timer start %s failed", timer_id)
                with rt.unit_of_work() as uow:
                    lease_queue.back_off(uow, StartTimer, [timer_id], self.name)
                    uow.commit()
        return len(ids)

    def tick_questions(self) -> int:
        """Work-group questions' clocks (the 24-hour rule): yellow, red, coordination levels."""
        try:
            return questions.run_due(self.runtime)
        except Exception:  # noqa: BLE001 - a bad row must not stop the cases' timers
            log.exception("question clocks failed")
            return 0

    def process(self, case_id: str, job_ids: list[int]) -> None:
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
        lease_queue.back_off(uow, TimerJob, job_ids, self.name, only_due=True)

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
            return any(lease_queue.retrying(uow, table, self.name, max_attempts)
                       for table in (TimerJob, StartTimer))

    def stop(self) -> None:
        self.stopping.set()


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


__all__ = ["Worker", "tick", "tick_flow", "schedule", "schedule_case", "run_due", "clock_scope",
           "pending_jobs", "delete", "fire_start_timer", "on_timers_changed"]
