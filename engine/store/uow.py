"""The unit of work: one session, one transaction, around each engine command."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.store.models import Case, Task

if TYPE_CHECKING:
    from engine.organisation import Organisation
    from engine.runtime import Runtime


class UnitOfWork:
    """`with runtime.unit_of_work() as uow: ...; uow.commit()` — anything not committed rolls back.

    A write unit of work takes the database's write lock up front on SQLite and locks case
    rows on PostgreSQL (`lock_case`), so concurrent commands on one case run one after another
    instead of overwriting each other's workflow state.
    """

    def __init__(self, runtime: "Runtime", write: bool = True) -> None:
        self.runtime = runtime
        self.write = write
        self.session: Session | None = None  # type: ignore[assignment]
        self._after_commit: list[Any] = []
        self._organisation: "Organisation | None" = None

    def __enter__(self) -> "UnitOfWork":
        self.session = self.runtime.database.session(self.write)
        self.session.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        # close() rolls back whatever was not committed and detaches rows without expiring
        # them, so results stay readable after the block.
        self.session.close()

    def commit(self) -> None:
        if self.write:  # the statistics' summary rows of what this command changed (issue 14)
            from engine.services import statistics_upkeep
            statistics_upkeep.before_commit(self)
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Roll back; callbacks registered for the commit that will not happen are dropped."""
        self.session.rollback()
        self._after_commit = []

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
        case = self.session.execute(
            select(Case).where(Case.id == case_id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        return case

    def lock_case_of_task(self, task_id: str) -> Case | None:
        """Lock the case a task belongs to (as `lock_case`), found in the same statement;
        None when there is no such task."""
        return self.session.execute(
            select(Case).where(Case.id == select(Task.case_id).where(Task.id == task_id).scalar_subquery())
            .with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
