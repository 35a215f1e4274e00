"""One lease queue over a table of due rows (`timer_jobs`, `start_timers`).

Both tables have `id`, `due_at`, `claimed_by`, `lease_until` and `attempts`. A worker claims due
rows nobody holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer lock does the
same job) until `now + lease`; a row that failed waits 2 s, 4 s, ... up to 5 minutes before its
next try; a row the worker will not get to is released. Written once so both queues behave the
same under concurrency and crashes.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork

MAX_BACK_OFF_SECONDS = 300


def claim(uow: "UnitOfWork", table: Any, worker: str, now: datetime, lease: timedelta, limit: int,
          *columns: Any) -> list[Any]:
    """Claim up to `limit` due rows of `table` for `worker` (the caller commits); returns the
    rows' `columns` (default: the ids), earliest due first."""
    wanted = columns or (table.id,)
    query = (select(*wanted)
             .where(table.due_at <= now, or_(table.lease_until.is_(None), table.lease_until < now))
             .order_by(table.due_at, table.id).limit(limit))
    if uow.runtime.database.kind == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(uow.session.execute(query).all())
    if rows:
        ids = [row[0] for row in rows]
        uow.session.execute(update(table).where(table.id.in_(ids))
                            .values(claimed_by=worker, lease_until=now + lease)
                            .execution_options(synchronize_session=False))
    return [tuple(row) for row in rows] if columns else [row[0] for row in rows]


def back_off(uow: "UnitOfWork", table: Any, ids: list[Any], worker: str, *, only_due: bool = False) -> None:
    """Rows whose run failed (or, `only_due`, that are still due after it) wait before the next
    try, longer each time; the worker keeps them meanwhile."""
    if not ids:
        return
    now = uow.runtime.clock()
    uow.session.flush()
    query = select(table).where(table.id.in_(ids))
    if only_due:
        query = query.where(table.due_at <= now)
    for row in uow.session.scalars(query):
        row.attempts = (row.attempts or 0) + 1
        row.claimed_by = worker
        row.lease_until = now + timedelta(seconds=min(2 ** row.attempts, MAX_BACK_OFF_SECONDS))


def release(uow: "UnitOfWork", table: Any, ids: list[Any], worker: str) -> None:
    """Give back claims `worker` will not get to (still its own: nobody else took them)."""
    if ids:
        uow.session.execute(update(table).where(table.id.in_(ids), table.claimed_by == worker)
                            .values(claimed_by=None, lease_until=None)
                            .execution_options(synchronize_session=False))


def retrying(uow: "UnitOfWork", table: Any, worker: str, max_attempts: int) -> bool:
    """Whether a row `worker` backed off from is still to be tried again."""
    return uow.session.scalar(select(table.id).where(
        table.claimed_by == worker, table.attempts > 0, table.attempts < max_attempts).limit(1)) is not None
