"""The statistics' summary rows (`stat_items`, `stat_cases`) as the upkeep reads and writes them
(`engine.services.statistics_upkeep`), on the unit of work's session (`uow.statistics`)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.adapters import statistics_queries as q
from engine.adapters.models import Case, Definition, StatCase, StatItem, Task


class StatisticsRepository:
    """Summary rows and the task rows they are computed from."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def noted(self, *keys: str) -> bool:
        """Whether the session's flushes noted anything under these keys (`session.info`)."""
        return any(key in self.session.info for key in keys)

    def take(self, key: str, default: Any) -> Any:
        """Remove and return what the flushes noted under `key`."""
        return self.session.info.pop(key, default)

    def case(self, case_id: str) -> Case | None:
        return self.session.get(Case, case_id)

    def definition(self, definition_id: int) -> Definition | None:
        return self.session.get(Definition, definition_id)

    def case_row(self, case_id: str) -> StatCase | None:
        return self.session.get(StatCase, case_id)

    def add(self, row: StatItem | StatCase) -> None:
        self.session.add(row)

    def delete(self, row: StatItem | StatCase) -> None:
        self.session.delete(row)

    def flush(self) -> None:
        self.session.flush()

    def tasks_of(self, case_ids: list[str]) -> list[Task]:
        """Every task row of these cases, each case's in creation order; no flush first (the
        caller flushed: the upkeep reads them right after writing what the command changed)."""
        with self.session.no_autoflush:
            return q.tasks_of(self.session, case_ids)

    def case_items(self, case_id: str) -> list[StatItem]:
        """A case's item rows in the order `case_values` is given them."""
        return list(self.session.scalars(select(StatItem).where(StatItem.case_id == case_id)
                                          .order_by(StatItem.received_at, StatItem.id)))

    def summary(self, case_id: str) -> tuple[StatCase | None, dict[str, StatItem]]:
        """A case's summary row (None: none yet) and its item rows by key, in one statement
        when the case row exists (the usual case), two otherwise (item rows without a case row:
        written before a failed rebuild, say)."""
        with self.session.no_autoflush:
            rows = self.session.execute(
                select(StatCase, StatItem).outerjoin(StatItem, StatItem.case_id == StatCase.case_id)
                .where(StatCase.case_id == case_id)).all()
            if not rows:
                return None, {row.key: row for row in self.case_items(case_id)}
            return rows[0][0], {item.key: item for _, item in rows if item is not None}

    def window_tasks(self, case_id: str, form_keys: tuple[str, ...]) -> list[Task]:
        return q.window_tasks(self.session, case_id, form_keys)

    def has_window_intake(self, case_id: str) -> bool:
        return q.has_window_intake(self.session, case_id)

    def clear(self, case_ids: list[str] | None = None) -> None:
        q.clear(self.session, case_ids)

    def cases(self, case_ids: list[str]) -> dict[str, Case]:
        return {c.id: c for c in self.session.scalars(select(Case).where(Case.id.in_(case_ids)))}

    def case_ids(self) -> list[str]:
        """Every case's id, in order."""
        return list(self.session.scalars(select(Case.id).order_by(Case.id)))

    def insert_rows(self, item_rows: list[dict[str, Any]], case_rows: list[dict[str, Any]]) -> None:
        """Write a rebuild's rows in one multi-row statement per table."""
        if item_rows:
            self.session.execute(StatItem.__table__.insert(), item_rows)
        if case_rows:
            self.session.execute(StatCase.__table__.insert(), case_rows)
