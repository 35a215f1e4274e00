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

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.adapters.models import Case, Event, Task, TimerJob, User
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


class TaskRepository(Repository[Task]):
    model = Task

    def of_case(self, case_id: str, state: str | None = None) -> list[Task]:
        """A case's task rows in the order they began (`state`: only those in it)."""
        query = select(Task).where(Task.case_id == case_id)
        if state is not None:
            query = query.where(Task.state == state)
        return list(self.session.scalars(query.order_by(Task.created_at, Task.id)))


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


class UserRepository(Repository[User]):
    model = User

    def by_name(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(User.name == name))

    def all(self) -> list[User]:
        """Every user, by role, department and name (the listing's order)."""
        return list(self.session.scalars(select(User).order_by(User.role, User.department, User.name)))

    def any(self) -> bool:
        return self.session.scalar(select(User.id).limit(1)) is not None
