"""Repositories: the rows a service reads and writes, by what it means (`uow.cases.lock(id)`,
`uow.tasks.of_case(id)`, `uow.events.add(...)`), not by SQL.

The unit of work hands them out (`uow.cases`, `uow.tasks`, `uow.events`, `uow.jobs`,
`uow.users`), all on its one session, so a command's reads and writes stay in its transaction.
A service that uses only these (and `uow.publish`, `uow.runtime.clock`) runs as well on the
in-memory fakes of `tests/unit/fakes.py`, without a database. Queries that list and filter for
screens are `engine.adapters.queries`; what is not here yet still uses `uow.session` (see
docs/ENGINEERS.md for what is left).
"""
from __future__ import annotations

from typing import Any, Generic, TypeVar

from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from engine.adapters.models import (Case, OutboxEvent, ConsoleSession, Definition, Deployment, Escalation, Event, Incident,
                                    StartTimer, Task, TimerJob, User)
from engine.adapters.organisation_versions import region_clause
from engine.domain.organisation import Organisation
from engine.domain.states import CaseStatus, TaskStatus
from engine.errors import NotFound

Row = TypeVar("Row")


class Repository(Generic[Row]):
    """Rows of one table on the unit of work's session."""

    model: Any

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: Any) -> Row | None:
        return self.session.get(self.model, key)

    def add(self, row: Row) -> None:
        self.session.add(row)

    def delete(self, row: Row) -> None:
        self.session.delete(row)

    def add_now(self, row: Row) -> Row:
        """Add and write at once, so the row has its id (a history event names it)."""
        self.session.add(row)
        self.session.flush()
        return row

    def flush(self) -> None:
        """Write what was added or changed now (ids for history events; unique keys checked here)."""
        self.session.flush()

    def reload(self, row: Row) -> Row:
        """Read the row again (after a lock: the version another command committed)."""
        self.session.refresh(row)
        return row


class CaseRepository(Repository[Case]):
    model = Case

    def lock(self, case_id: str) -> Case:
        """A case row for update; waits for any other command on the same case."""
        case = self.session.execute(
            select(Case).where(Case.id == case_id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        return case

    def lock_of_task(self, task_id: str) -> Case | None:
        """Lock the case a task belongs to (as `lock`), found in the same statement; None when
        there is no such task."""
        return self.session.execute(
            select(Case).where(Case.id == select(Task.case_id).where(Task.id == task_id).scalar_subquery())
            .with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()

    def by_open_key(self, open_key: str) -> Case | None:
        """The open case holding a business key of a process (`cases.open_key`)."""
        return self.session.scalar(select(Case).where(Case.open_key == open_key))

    def open_of_definition(self, definition_id: int, statuses: tuple[str, ...],
                           case_ids: list[str] | None = None) -> list[Case]:
        """The cases of one deployed version in these statuses (only `case_ids`, when given),
        oldest first."""
        query = select(Case).where(Case.definition_id == definition_id, Case.status.in_(statuses))
        if case_ids is not None:
            query = query.where(Case.id.in_(case_ids))
        return list(self.session.scalars(query.order_by(Case.started_at, Case.id)))

    def current(self, case_id: str) -> Case | None:
        """The case, also when it is being opened in this unit of work (added, not flushed yet)."""
        for row in self.session.new:
            if isinstance(row, Case) and row.id == case_id:
                return row
        return self.session.get(Case, case_id)

    def is_new(self, case_id: str) -> bool:
        """Whether the case is being started in this unit of work (not written yet: it has no
        rows elsewhere, which saves a query)."""
        return any(isinstance(row, Case) and row.id == case_id for row in self.session.new)

    def running_of_business_key(self, business_key: str) -> list[Case]:
        """The running cases of a project (business key), oldest first."""
        return list(self.session.scalars(
            select(Case).where(Case.business_key == business_key, Case.status == CaseStatus.RUNNING)
            .order_by(Case.started_at)))


class TaskRepository(Repository[Task]):
    model = Task

    def of_case(self, case_id: str, state: str | None = None) -> list[Task]:
        """A case's task rows in the order they began (`state`: only those in it)."""
        query = select(Task).where(Task.case_id == case_id)
        if state is not None:
            query = query.where(Task.state == state)
        return list(self.session.scalars(query.order_by(Task.created_at, Task.id)))

    def open_states(self, case_id: str) -> dict[str, str]:
        """The states of a case's `ready` and `error` rows by task id (ids only: no JSON decoded)."""
        return dict(self.session.execute(
            select(Task.id, Task.state).where(Task.case_id == case_id, Task.state.in_((TaskStatus.READY, TaskStatus.ERROR)))).all())

    def fresh(self, task_id: str) -> Task:
        """The task as committed now (read after its case was locked)."""
        return self.session.execute(select(Task).where(Task.id == task_id)
                                    .execution_options(populate_existing=True)).scalar_one()

    def with_items(self, case_id: str) -> list[Task]:
        """A case's task rows that name an approval item at a body, in the order they began."""
        return list(self.session.scalars(select(Task).where(
            Task.case_id == case_id, Task.department.is_not(None), Task.item.is_not(None))
            .order_by(Task.created_at, Task.id)))

    def departments_of_case(self, case_id: str) -> set[str]:
        """The bodies a case has (or had) a task at."""
        return set(self.session.scalars(select(Task.department).where(
            Task.case_id == case_id, Task.department.is_not(None)).distinct()))

    def ready_of_department(self, case_id: str, department: str | None) -> list[Task]:
        """A case's READY tasks at one department, oldest first."""
        return self._ready(select(Task).where(Task.case_id == case_id, Task.state == TaskStatus.READY,
                                              Task.department == department))

    def ready_corrections(self, case_id: str) -> list[Task]:
        """A case's READY 补正 responses (the enterprise answers them), oldest first."""
        return self._ready(select(Task).where(Task.case_id == case_id, Task.state == TaskStatus.READY,
                                              Task.department.is_(None), Task.form_key == "correction_response"))

    def _ready(self, query: Any) -> list[Task]:
        return list(self.session.scalars(query.order_by(Task.created_at, Task.id)))

    def timed_of_case(self, case_id: str, task_ids: list[str] | None = None) -> list[Task]:
        """A case's READY tasks with a due date (only `task_ids`, when given), oldest first."""
        query = select(Task).where(Task.case_id == case_id, Task.state == TaskStatus.READY, Task.due_at.is_not(None))
        if task_ids:
            query = query.where(Task.id.in_(task_ids))
        return list(self.session.scalars(query.order_by(Task.created_at, Task.id)))

    def running_clocks(self, case_id: str) -> list[Task]:
        """A case's READY tasks whose clock runs (a due date, not stopped), oldest first."""
        return list(self.session.scalars(select(Task).where(
            Task.case_id == case_id, Task.state == TaskStatus.READY, Task.due_at.is_not(None),
            Task.clock_stopped_at.is_(None)).order_by(Task.created_at, Task.id)))

    def running_clock_dates(self, case_id: str) -> list[tuple[str, str | None, datetime | None, datetime]]:
        """(id, sla, warn_at, due_at) of a case's tasks whose clock runs: four columns, for
        the timer jobs (on every save)."""
        return [tuple(row) for row in self.session.execute(select(Task.id, Task.sla, Task.warn_at, Task.due_at).where(
            Task.case_id == case_id, Task.state == TaskStatus.READY, Task.due_at.is_not(None),
            Task.clock_stopped_at.is_(None)))]

    def last_completed_timed(self, row: Task, same_element: bool, limit: int = 50) -> list[Task]:
        """The case's completed tasks with a due date other than `row`, the most recently
        completed first (only those of `row`'s element, when `same_element`)."""
        query = (select(Task).where(Task.case_id == row.case_id, Task.state == TaskStatus.COMPLETED,
                                    Task.due_at.is_not(None), Task.id != row.id)
                 .order_by(Task.completed_at.desc(), Task.id.desc()))
        if same_element:
            query = query.where(Task.element_id == row.element_id)
        return list(self.session.scalars(query.limit(limit)))

    def completed_since(self, row: Task, since: datetime, limit: int = 50) -> list[Task]:
        """The case's tasks other than `row` begun since `since` and completed."""
        return list(self.session.scalars(select(Task).where(
            Task.case_id == row.case_id, Task.state == TaskStatus.COMPLETED, Task.created_at >= since,
            Task.id != row.id).limit(limit)))

    def provisional_ready(self) -> list[tuple[str, str, str]]:
        """(id, case_id, due_provisional_years) of every READY task whose dates used a
        provisional year."""
        return [tuple(row) for row in self.session.execute(
            select(Task.id, Task.case_id, Task.due_provisional_years).where(
                Task.state == TaskStatus.READY, Task.due_provisional_years.is_not(None)))]

    def fresh_of_ids(self, task_ids: list[str]) -> list[Task]:
        """These tasks as committed now (read after their case was locked), oldest first."""
        return list(self.session.scalars(
            select(Task).where(Task.id.in_(task_ids)).order_by(Task.created_at, Task.id)
            .execution_options(populate_existing=True)))


class EventRepository(Repository[Event]):
    """The append-only history of each case."""
    model = Event

    def of_case(self, case_id: str) -> list[Event]:
        return list(self.session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.id)))


class JobRepository(Repository[TimerJob]):
    """`timer_jobs`: what the worker must do for a case, and when."""
    model = TimerJob

    def of_case(self, case_id: str) -> list[TimerJob]:
        return list(self.session.scalars(select(TimerJob).where(TimerJob.case_id == case_id)))

    def by_ids(self, job_ids: list[int]) -> list[TimerJob]:
        return list(self.session.scalars(select(TimerJob).where(TimerJob.id.in_(job_ids))))

    def pending(self, case_id: str | None = None) -> list[TimerJob]:
        """Every job (of one case, when given), the soonest first."""
        query = select(TimerJob).order_by(TimerJob.due_at, TimerJob.id)
        if case_id is not None:
            query = query.where(TimerJob.case_id == case_id)
        return list(self.session.scalars(query))


class StartTimerRepository(Repository[StartTimer]):
    """`start_timers`: when the timer start events of the deployed processes open their next case."""
    model = StartTimer

    def lock(self, timer_id: int) -> StartTimer | None:
        """The timer row for update, as committed now; None when another worker removed it."""
        query = select(StartTimer).where(StartTimer.id == timer_id).with_for_update()
        return self.session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()

    def replace_of_key(self, process_key: str, rows: list[StartTimer]) -> None:
        """The process key's timers are these rows now (the newest version owns them)."""
        self.session.execute(delete(StartTimer).where(StartTimer.process_key == process_key))
        for row in rows:
            self.session.add(row)

    def pending(self, process_key: str | None = None) -> list[StartTimer]:
        """Every timer (of one process key, when given), the soonest first."""
        query = select(StartTimer).order_by(StartTimer.due_at, StartTimer.id)
        if process_key is not None:
            query = query.where(StartTimer.process_key == process_key)
        return list(self.session.scalars(query))


class DefinitionRepository(Repository[Definition]):
    """Deployed versions of processes (a version never changes once deployed)."""
    model = Definition

    def latest(self, key: str) -> Definition | None:
        return self.session.scalar(
            select(Definition).where(Definition.key == key).order_by(Definition.version.desc()).limit(1))

    def id_of(self, key: str, version: int | None = None) -> int | None:
        """The id of a version of `key` (the latest unless `version`): the row, with its large
        spec, is read through the process's cache."""
        query = select(Definition.id).where(Definition.key == key)
        query = (query.order_by(Definition.version.desc()).limit(1) if version is None
                 else query.where(Definition.version == version))
        return self.session.scalar(query)

    def versions(self, key: str) -> list[Definition]:
        return list(self.session.scalars(select(Definition).where(Definition.key == key).order_by(Definition.version)))

    def of_open_cases(self, statuses: tuple[str, ...]) -> list[Definition]:
        """The versions that cases in these statuses run, by key and version."""
        ids = select(Case.definition_id).where(Case.status.in_(statuses)).distinct()
        return list(self.session.scalars(select(Definition).where(Definition.id.in_(ids.scalar_subquery()))
                                         .order_by(Definition.key, Definition.version)))

    def latest_of_each(self) -> list[Definition]:
        """The latest version of every process key, by key."""
        latest = (select(Definition.key, func.max(Definition.version).label("version"))
                  .group_by(Definition.key).subquery())
        return list(self.session.scalars(
            select(Definition).join(latest, (Definition.key == latest.c.key)
                                    & (Definition.version == latest.c.version)).order_by(Definition.key)))


class DeploymentRepository(Repository[Deployment]):
    """The deployed files, byte for byte."""
    model = Deployment

    def latest_sha256(self, file_name: str) -> str | None:
        """The hash of the latest stored version of a file."""
        return self.session.scalar(select(Deployment.sha256).where(Deployment.file_name == file_name)
                                   .order_by(Deployment.id.desc()).limit(1))

    def dmn_files(self, limit: int) -> list[Deployment]:
        """The stored DMN files, newest first."""
        return list(self.session.scalars(select(Deployment).where(Deployment.file_name.like("%.dmn"))
                                         .order_by(Deployment.id.desc()).limit(limit)))


class EscalationRepository(Repository[Escalation]):
    """三级协调: the levels raised for overdue tasks."""
    model = Escalation

    def open_of_task(self, task_id: str) -> Escalation | None:
        """The task's open escalation, the highest level first."""
        return self.session.scalar(select(Escalation).where(
            Escalation.task_id == task_id, Escalation.status == "open").order_by(Escalation.level.desc()))

    def at_level(self, task_id: str, level: int) -> Escalation | None:
        return self.session.scalar(select(Escalation).where(
            Escalation.task_id == task_id, Escalation.level == level))

    def of_case(self, case_id: str, *statuses: str) -> list[Escalation]:
        return list(self.session.scalars(select(Escalation).where(
            Escalation.case_id == case_id, Escalation.status.in_(statuses))))

    def of_task(self, task_id: str, *statuses: str) -> list[Escalation]:
        """A task's escalations in these statuses, the lowest level first."""
        return list(self.session.scalars(select(Escalation).where(
            Escalation.task_id == task_id, Escalation.status.in_(statuses)).order_by(Escalation.level)))

    def due_of_case(self, case_id: str, now: datetime) -> list[Escalation]:
        """A case's open escalations whose next level is due by `now`."""
        return list(self.session.scalars(select(Escalation).where(
            Escalation.case_id == case_id, Escalation.status == "open",
            Escalation.next_at.is_not(None), Escalation.next_at <= now)))

    def next_levels(self, case_id: str) -> list[tuple[str, datetime]]:
        """(task_id, next_at) of a case's open escalations with a next level."""
        return [tuple(row) for row in self.session.execute(select(Escalation.task_id, Escalation.next_at).where(
            Escalation.case_id == case_id, Escalation.status == "open", Escalation.next_at.is_not(None)))]

    def open_across(self, spans: list[tuple[datetime, datetime]]) -> list[tuple[int, str]]:
        """(id, case_id) of the open escalations whose next level was counted across one of
        these spans (raised before its end, next level at or after its start)."""
        return [(int(escalation_id), case_id) for escalation_id, case_id in self.session.execute(
            select(Escalation.id, Escalation.case_id).where(
                Escalation.status == "open", Escalation.next_at.is_not(None),
                or_(*(and_(Escalation.raised_at < end, Escalation.next_at >= start) for start, end in spans))))]

    def fresh_of_ids(self, escalation_ids: list[int]) -> list[Escalation]:
        """These escalations as committed now (read after their case was locked), by id."""
        return list(self.session.scalars(
            select(Escalation).where(Escalation.id.in_(escalation_ids))
            .order_by(Escalation.id).execution_options(populate_existing=True)))

    def listing(self, *, body: str | None = None, leaders: bool = True, agent: str | None = None,
                organisation: Organisation | None = None, region: str | None = None,
                status: str | None = None, level: int | None = None, department: str | None = None,
                case_id: str | None = None, limit: int = 100, offset: int = 0) -> list[Escalation]:
        """Escalations, the latest raised first: addressed to `body` (without the leaders'
        levels unless `leaders`), of `agent`'s cases, of cases in `region` or below it, and
        the plain filters."""
        query = select(Escalation)
        joined = False
        if body is not None:
            query = query.where(Escalation.department == body)
            if not leaders:
                query = query.where(Escalation.role != "leaders")
        elif agent is not None:
            query = query.join(Case, Case.id == Escalation.case_id).where(Case.started_by == agent)
            joined = True
        if region is not None:
            clause = region_clause(organisation, region)
            if not joined:
                query = query.join(Case, Case.id == Escalation.case_id)
            query = query.where(clause)
        if status is not None:
            query = query.where(Escalation.status == status)
        if level is not None:
            query = query.where(Escalation.level == level)
        if department is not None:
            query = query.where(Escalation.department == department)
        if case_id is not None:
            query = query.where(Escalation.case_id == case_id)
        query = query.order_by(Escalation.raised_at.desc(), Escalation.id.desc()).limit(limit).offset(offset)
        return list(self.session.scalars(query))


class IncidentRepository(Repository[Incident]):
    model = Incident

    def of_case(self, case_id: str, state: str = "open") -> list[Incident]:
        """A case's incidents (`state` open, resolved or all), oldest first."""
        query = select(Incident).where(Incident.case_id == case_id)
        if state != "all":
            query = query.where(Incident.state == state)
        return list(self.session.scalars(query.order_by(Incident.created_at, Incident.id)))

    def open_by_id(self, case_id: str) -> list[Incident]:
        """A case's open incidents in the order they were recorded (by id)."""
        return list(self.session.scalars(select(Incident).where(
            Incident.case_id == case_id, Incident.state == "open").order_by(Incident.id)))

    def open_of_task(self, task_id: str) -> list[Incident]:
        """A task's open incidents."""
        return list(self.session.scalars(select(Incident).where(Incident.task_id == task_id,
                                                                Incident.state == "open")))


class UserRepository(Repository[User]):
    model = User

    def by_name(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(User.name == name))

    def all(self) -> list[User]:
        """Every user, by role, department and name (the listing's order)."""
        return list(self.session.scalars(select(User).order_by(User.role, User.department, User.name)))

    def any(self) -> bool:
        return self.session.scalar(select(User.id).limit(1)) is not None

    def active_names(self) -> set[str]:
        """The names of the users not revoked."""
        return set(self.session.scalars(select(User.name).where(User.revoked_at.is_(None))))

    def active_of_department(self, department: str) -> list[tuple[str, str, str | None]]:
        """(name, role, department) of the department's users not revoked."""
        return [(name, role, dept) for name, role, dept in self.session.execute(
            select(User.name, User.role, User.department).where(
                User.department == department, User.revoked_at.is_(None)))]

    def by_token_hash(self, token_hash: str) -> Any:
        """(name, role, department, revoked_at) of the user with this API token: four columns, not
        an entity (it runs on every request)."""
        return self.session.execute(select(User.name, User.role, User.department, User.revoked_at)
                                    .where(User.token_hash == token_hash)).first()


class ConsoleSessionRepository(Repository[ConsoleSession]):
    """Console sign-ins (the cookie's hash is the id)."""
    model = ConsoleSession

    def with_user(self, session_id: str) -> Any:
        """(name, role, department, revoked_at, csrf_token, seen_at, expires_at) of a session and
        its user: one indexed read per page."""
        return self.session.execute(
            select(User.name, User.role, User.department, User.revoked_at, ConsoleSession.csrf_token,
                   ConsoleSession.seen_at, ConsoleSession.expires_at)
            .join(User, User.id == ConsoleSession.user_id)
            .where(ConsoleSession.id == session_id)).first()

    def end(self, session_id: str) -> None:
        self.session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))

    def end_of_user(self, user_id: int, expired_by: datetime | None = None) -> None:
        """End a user's sessions (only those expired by `expired_by`, when given)."""
        query = delete(ConsoleSession).where(ConsoleSession.user_id == user_id)
        if expired_by is not None:
            query = query.where(ConsoleSession.expires_at <= expired_by)
        self.session.execute(query)


class OutboxRepository(Repository[OutboxEvent]):
    """Events people must act on (`engine.services.outbox`), numbered per case."""

    model = OutboxEvent

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._case_seq: tuple[Any, dict[str, int]] | None = None

    def undispatched(self, limit: int, skip_locked: bool = False) -> list[OutboxEvent]:
        """The oldest events not fanned out yet; `skip_locked` (PostgreSQL): locked for this
        transaction, passing over those another dispatcher holds."""
        query = select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)).order_by(OutboxEvent.id).limit(limit)
        if skip_locked:
            query = query.with_for_update(skip_locked=True)
        return list(self.session.scalars(query))

    def next_case_seq(self, case_id: str) -> int:
        """The case's next event number: one query per case per transaction, then counted here
        (after a rollback the numbers counted in it are void)."""
        transaction = self.session.get_transaction()
        if self._case_seq is None or self._case_seq[0] is not transaction:
            self._case_seq = (transaction, {})
        counted = self._case_seq[1]
        if case_id not in counted and any(isinstance(o, Case) and o.id == case_id for o in self.session.new):
            counted[case_id] = max([0, *(o.case_seq or 0 for o in self.session.new
                                         if isinstance(o, OutboxEvent) and o.case_id == case_id)])
        if case_id not in counted:  # a case being started here (above) has no stored events yet
            with self.session.no_autoflush:
                stored = self.session.scalar(select(func.coalesce(func.max(OutboxEvent.case_seq), 0))
                                             .where(OutboxEvent.case_id == case_id)) or 0
            # rows of this transaction not flushed yet are not in the database: count them too
            pending = [o.case_seq or 0 for o in self.session.new
                       if isinstance(o, OutboxEvent) and o.case_id == case_id]
            counted[case_id] = max([stored, *pending])
        counted[case_id] += 1
        return counted[case_id]
