"""The unit of work: one session, one transaction, around each engine command."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.adapters.models import Case
from engine.adapters.bill_repository import BillRepository
from engine.adapters.webhook_repository import WebhookRepository
from engine.adapters.migration_repository import MigrationRepository
from engine.adapters.external_task_store import ExternalTaskRepository
from engine.adapters.notification_repository import NotificationRepository
from engine.adapters.retention_store import RetentionStore
from engine.adapters.statistics_repository import StatisticsRepository
from engine.adapters.repositories import (CaseRepository, ConsoleSessionRepository, OutboxRepository, DefinitionRepository,
                                          DeploymentRepository,
                                          EscalationRepository, EventRepository,
                                          IncidentRepository, JobRepository, StartTimerRepository, TaskRepository,
                                          UserRepository)

if TYPE_CHECKING:
    from engine.domain.organisation import Organisation
    from engine.runtime import Runtime


class UnitOfWork:
    """`with runtime.unit_of_work() as uow: ...; uow.commit()` — anything not committed rolls back.

    Use cases own their transactions (`engine.services.use_case`): a route hands one an unentered
    `runtime.unit_of_work()`, the use case enters it, commits and leaves. It is re-entrant because
    use cases call use cases (a project starts a case, a batch completes tasks, the worker runs
    timers and migration batches): entering a unit of work that is already entered joins its
    transaction (a depth counter), only the outermost exit closes the session (rolling back what
    was not committed), and `commit()` below the outermost level does nothing — the caller that
    opened the transaction commits it once, so a use case called by another never commits half of
    the caller's work. A commit asked for inside that the outermost level then never makes is a
    programming error (the work would be lost silently): the outermost exit raises instead.

    It hands out the repositories of its session (`cases`, `tasks`, `events`, `jobs`, `users`,
    `escalations`, `incidents`, `definitions`, `deployments`, `console_sessions`, `outbox`,
    `start_timers`, `bills`, `webhooks`, `migrations`, `external_tasks`,
    `notifications`, `retention`, `statistics`),
    collects domain events (`publish`) and hands them to their handlers before it commits.

    A write unit of work takes the database's write lock up front on SQLite and locks case
    rows on PostgreSQL (`lock_case`), so concurrent commands on one case run one after another
    instead of overwriting each other's workflow state.
    """

    def __init__(self, runtime: "Runtime", write: bool = True) -> None:
        self.runtime = runtime
        self.write = write
        self.session: Session | None = None  # type: ignore[assignment]
        self._after_commit: list[Any] = []
        self._events: list[Any] = []
        self._organisation: "Organisation | None" = None
        # Cases this unit of work locked, held for its lifetime: the session's identity map keeps
        # rows only weakly, so once a flush had written a case nothing referenced it and the next
        # `session.get` (the statistics' upkeep at commit) read it again. Same session, same
        # transaction: nothing to invalidate; the references go when the unit of work ends.
        self._held: list[Case] = []
        self._at_end: list[Any] = []
        self._depth = 0
        self._commit_owed = False  # an inner level asked to commit; the outermost has not yet

    @property
    def depth(self) -> int:
        """How many `with` blocks are inside this unit of work now (0: not entered)."""
        return self._depth

    def __enter__(self) -> "UnitOfWork":
        self._depth += 1
        if self._depth > 1:
            return self  # a use case called by another joins the caller's transaction
        self._commit_owed = False
        self.session = self.runtime.database.session(self.write)
        self.session.begin()
        self.cases = CaseRepository(self.session)
        self.tasks = TaskRepository(self.session)
        self.events = EventRepository(self.session)
        self.jobs = JobRepository(self.session)
        self.start_timers = StartTimerRepository(self.session)
        self.users = UserRepository(self.session)
        self.escalations = EscalationRepository(self.session)
        self.incidents = IncidentRepository(self.session)
        self.definitions = DefinitionRepository(self.session)
        self.deployments = DeploymentRepository(self.session)
        self.console_sessions = ConsoleSessionRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.bills = BillRepository(self.session)
        self.webhooks = WebhookRepository(self.session)
        self.migrations = MigrationRepository(self.session)
        self.external_tasks = ExternalTaskRepository(self.session)
        self.notifications = NotificationRepository(self.session)
        self.retention = RetentionStore(self.session)
        self.statistics = StatisticsRepository(self.session)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._depth -= 1
        if self._depth:
            return
        # close() rolls back whatever was not committed and detaches rows without expiring
        # them, so results stay readable after the block.
        self.session.close()
        self._held = []
        callbacks, self._at_end = self._at_end, []
        for callback in callbacks:
            callback()
        owed, self._commit_owed = self._commit_owed, False
        if owed and exc_type is None and self.write:
            self._events, self._after_commit = [], []
            raise RuntimeError("a use case committed inside a unit of work whose outermost level never "
                               "committed: its work was rolled back (commit the outer level, or hand the "
                               "use case an unentered runtime.unit_of_work())")

    def commit(self) -> None:
        """Commit the transaction — at the outermost level only (see the class docstring)."""
        if self._depth > 1:
            self._commit_owed = True
            return
        self.handle_events()
        if self.write:  # e.g. the statistics' summary rows of what this command changed (issue 14)
            for hook in self.runtime.before_commit:
                hook(self)
        self.session.commit()
        self._commit_owed = False  # also what use cases called by the handlers and hooks above asked
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Roll back; callbacks registered for the commit that will not happen are dropped."""
        self.session.rollback()
        self._commit_owed = False
        self._after_commit = []
        self._events = []

    def begin(self) -> None:
        """Begin a new transaction in this unit of work (after `rollback`, to go on)."""
        self.session.begin()

    def flush(self) -> None:
        """Write what was added or changed now (a unique key is checked here, not at commit)."""
        self.session.flush()

    @contextmanager
    def no_autoflush(self) -> Iterator[None]:
        """Queries inside do not write pending rows first (rows being built stay unwritten
        until the block's caller flushes them once)."""
        with self.session.no_autoflush:
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a block in a savepoint: an exception raised in it undoes the block's writes and
        drops the after-commit callbacks it registered (e.g. caching a state never stored),
        then propagates. A database error is left to the owner, who rolls back the whole."""
        callbacks = len(self._after_commit)
        nested = self.session.begin_nested()
        try:
            yield
        except SQLAlchemyError:
            raise
        except Exception:
            nested.rollback()
            del self._after_commit[callbacks:]
            raise
        nested.commit()

    def publish(self, event: Any) -> None:
        """Record a domain event (`engine.domain.events`); handled once before the commit."""
        if event not in self._events:
            self._events.append(event)

    def handle_events(self) -> None:
        """Hand each recorded event to its handlers (`Runtime.handlers`); a handler may publish more."""
        while self._events:
            event = self._events.pop(0)
            for handler in self.runtime.handlers.get(type(event), ()):
                handler(self, event)

    def at_end(self, callback: Any) -> None:
        """Run `callback` when the unit of work ends, committed or not (e.g. release what only
        this command used)."""
        self._at_end.append(callback)

    def after_commit(self, callback: Any) -> None:
        """Run `callback` once the transaction is durable (e.g. cache updates)."""
        self._after_commit.append(callback)

    @property
    def organisation(self) -> "Organisation":
        """The organisation in force (regions, bodies), read once per unit of work."""
        if self._organisation is None:
            self._organisation = self.runtime.organisations.current(self.session)
        return self._organisation

    def forget_organisation(self) -> None:
        """A new version was recorded in this unit of work: read it again."""
        self._organisation = None

    def lock_case(self, case_id: str) -> Case:
        """Load a case row for update; waits for any other command on the same case."""
        case = self.cases.lock(case_id)
        self._held.append(case)
        return case

    def lock_case_of_task(self, task_id: str) -> Case | None:
        """Lock the case a task belongs to (as `lock_case`); None when there is no such task."""
        case = self.cases.lock_of_task(task_id)
        if case is not None:
            self._held.append(case)
        return case
