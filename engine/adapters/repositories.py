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

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.adapters.models import (Case, OutboxEvent, ConsoleSession, Definition, Deployment, Escalation, Event, Incident, Task,
                                    TimerJob, User)
from engine.domain.states import TaskStatus
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


class IncidentRepository(Repository[Incident]):
    model = Incident

    def of_case(self, case_id: str, state: str = "open") -> list[Incident]:
        """A case's incidents (`state` open, resolved or all), oldest first."""
        query = select(Incident).where(Incident.case_id == case_id)
        if state != "all":
            query = query.where(Incident.state == state)
        return list(self.session.scalars(query.order_by(Incident.created_at, Incident.id)))

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
