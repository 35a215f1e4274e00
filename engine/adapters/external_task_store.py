"""SQL for external tasks (`uow.external_tasks`): the rows a fetch may lock, one row under lock, a
case's rows.

Fetching must never hand one task to two workers. On PostgreSQL the candidates are selected
`FOR UPDATE OF external_tasks SKIP LOCKED`: concurrent fetchers lock different rows and none
waits for another. On SQLite a write unit of work holds the database's write lock from its
start (`engine.adapters.uow`), so fetches run one after another anyway.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import or_, select

from engine.adapters.models import Case, ExternalTaskRow
from engine.adapters.repositories import Repository


class ExternalTaskRepository(Repository[ExternalTaskRow]):
    """`external_tasks` rows (`get`, `add`, `delete` as every repository)."""

    model = ExternalTaskRow

    def fetchable(self, topics: Sequence[str], now: datetime, limit: int) -> list[ExternalTaskRow]:
        """Up to `limit` unlocked rows of running cases on `topics`, highest priority, then oldest,
        first; locked for this transaction (skipping rows another fetch holds)."""
        if limit <= 0 or not topics:
            return []
        query = (select(ExternalTaskRow)
                 .join(Case, Case.id == ExternalTaskRow.case_id)
                 .where(ExternalTaskRow.topic.in_(list(topics)),
                        or_(ExternalTaskRow.lock_expires_at.is_(None), ExternalTaskRow.lock_expires_at <= now),
                        or_(ExternalTaskRow.retries.is_(None), ExternalTaskRow.retries > 0),
                        Case.status == "running")
                 .order_by(ExternalTaskRow.priority.desc(), ExternalTaskRow.created_at, ExternalTaskRow.id)
                 .limit(limit))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=ExternalTaskRow)
        return list(self.session.scalars(query.execution_options(populate_existing=True)))

    def lock(self, task_id: str) -> ExternalTaskRow | None:
        """The row, read afresh and locked (PostgreSQL) for the rest of the transaction."""
        query = select(ExternalTaskRow).where(ExternalTaskRow.id == task_id)
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return self.session.scalars(query.execution_options(populate_existing=True)).one_or_none()

    def of_case(self, case_id: str) -> dict[str, ExternalTaskRow]:
        return {row.id: row for row in self.session.scalars(
            select(ExternalTaskRow).where(ExternalTaskRow.case_id == case_id))}

    def listed(self, topic: str | None = None, worker: str | None = None,
               case_id: str | None = None, locked: bool | None = None, now: datetime | None = None,
               limit: int = 200, offset: int = 0) -> list[ExternalTaskRow]:
        """Rows for operators and workers' dashboards, oldest first."""
        query = select(ExternalTaskRow)
        if topic is not None:
            query = query.where(ExternalTaskRow.topic == topic)
        if worker is not None:
            query = query.where(ExternalTaskRow.worker == worker)
        if case_id is not None:
            query = query.where(ExternalTaskRow.case_id == case_id)
        if locked is not None and now is not None:
            held = ExternalTaskRow.lock_expires_at > now
            query = query.where(held if locked else or_(ExternalTaskRow.lock_expires_at.is_(None), ~held))
        query = query.order_by(ExternalTaskRow.created_at, ExternalTaskRow.id).limit(limit).offset(offset)
        return list(self.session.scalars(query))

    def cases_by_id(self, case_ids: set[str]) -> dict[str, Case]:
        """The cases of some task rows, in one query."""
        if not case_ids:
            return {}
        return {case.id: case for case in self.session.scalars(select(Case).where(Case.id.in_(sorted(case_ids))))}
